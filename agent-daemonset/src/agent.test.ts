/**
 * The agent in process with a fake pod informer and a small capturing receiver: routing by
 * pod labels from the watch (files wait for their pod's labels), labels copied into stream
 * labels, and a 413 answer splitting batches until they fit.
 */
import test from 'ava';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { silentLogger } from '../../runtime/src/common/index.js';
import { startAgent } from './agent.js';
import { resolveAgentConfig, resolveRoutesFile, type AgentConfig } from './config.js';
import type { PodInformer, PodObject } from './kube/pods.js';
import { containerDir, criLine, waitFor } from './testkit/agent-process.js';

interface Received {
  labels: Record<string, string>;
  message: string;
}

async function receiver(maxEntriesPerRequest = Infinity) {
  const got: Received[] = [];
  let tooLarge = 0;
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const lines = zlib.gunzipSync(Buffer.concat(parts)).toString('utf8').split('\n').filter(Boolean);
      if (lines.length > maxEntriesPerRequest) {
        tooLarge++;
        res.writeHead(413).end('{"error":"body too large"}');
        return;
      }
      for (const l of lines) got.push(JSON.parse(l) as Received);
      res.writeHead(200).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, got, tooLarge: () => tooLarge, close: () => server.close() };
}

class FakeInformer implements PodInformer {
  private readonly handlers = new Map<string, Array<(x: never) => void>>();
  on(verb: string, cb: (x: never) => void): void {
    this.handlers.set(verb, [...(this.handlers.get(verb) ?? []), cb]);
  }
  add(pod: PodObject): void {
    for (const cb of this.handlers.get('add') ?? []) cb(pod as never);
  }
  update(pod: PodObject): void {
    for (const cb of this.handlers.get('update') ?? []) cb(pod as never);
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
}

const T0 = Date.now() - 60_000;

test('routes by pod labels from the watch; files wait for their pod; labels become stream labels', async (t) => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-unit-'));
  const root = path.join(base, 'pods');
  const rx = await receiver();
  const write = (pod: string, uid: string) =>
    fs.writeFileSync(path.join(containerDir(root, 'shop', pod, 'c', uid), '0.log'), criLine(T0, 0, `${pod} says hi`));
  write('api-0', 'uid-api');
  write('db-0', 'uid-db');
  const informer = new FakeInformer();
  const config = resolveAgentConfig(
    {
      routes: [{ name: 'api', endpoint: rx.url, podSelector: { matchLabels: { app: 'api' } } }],
      tail: { pollInterval: '20ms', rescanInterval: '50ms', podMetadataWait: '1m' },
      batch: { maxWait: '20ms' },
      labelsFromPod: ['app', 'app.kubernetes.io/part-of'],
    },
    'test',
  );
  const agent = await startAgent({
    root,
    stateDir: path.join(base, 'state'),
    nodeName: 'n1',
    host: '127.0.0.1',
    port: 0,
    config,
    hostPaths: { proc: '/proc', sys: '/sys', rootfs: '/' },
    informer,
    log: silentLogger(),
  });
  try {
    await new Promise((r) => setTimeout(r, 200));
    t.is(rx.got.length, 0, 'nothing is routed before the pod labels are known');
    informer.add({
      metadata: { uid: 'uid-api', name: 'api-0', namespace: 'shop', labels: { app: 'api', 'app.kubernetes.io/part-of': 'shop' } },
    });
    informer.add({ metadata: { uid: 'uid-db', name: 'db-0', namespace: 'shop', labels: { app: 'db' } } });
    await waitFor('the api line', () => rx.got.length === 1, 20_000, 20);
    t.deepEqual(rx.got[0]!.labels, {
      app: 'api',
      app_kubernetes_io_part_of: 'shop',
      namespace: 'shop',
      pod: 'api-0',
      container: 'c',
      node: 'n1',
      stream: 'stdout',
    });
    t.is(rx.got[0]!.message, 'api-0 says hi');
    await waitFor(
      'the db line counted as unrouted',
      async () => (await agent.metrics.linesUnrouted.get()).values[0]?.value === 1,
      5000,
      20,
    );
    t.is(rx.got.length, 1);
  } finally {
    await agent.close();
    rx.close();
    fs.rmSync(base, { recursive: true, force: true });
  }
});

test('413 splits a batch in halves until each part fits; every entry arrives once', async (t) => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-unit-'));
  const root = path.join(base, 'pods');
  const rx = await receiver(3);
  const lines: string[] = [];
  for (let i = 0; i < 20; i++) lines.push(criLine(T0, i, `line ${i}`));
  fs.writeFileSync(path.join(containerDir(root, 'ns', 'p', 'c'), '0.log'), lines.join(''));
  const config = resolveAgentConfig(
    { routes: [{ name: 'r', endpoint: rx.url }], tail: { pollInterval: '20ms' }, batch: { maxWait: '50ms', maxEntries: 20 } },
    'test',
  );
  const agent = await startAgent({
    root,
    stateDir: path.join(base, 'state'),
    nodeName: 'n1',
    host: '127.0.0.1',
    port: 0,
    config,
    hostPaths: { proc: '/proc', sys: '/sys', rootfs: '/' },
    informer: undefined,
    log: silentLogger(),
  });
  try {
    await waitFor('20 entries', () => rx.got.length === 20, 20_000, 20);
    t.deepEqual(
      rx.got.map((e) => e.message),
      lines.map((_, i) => `line ${i}`),
    );
    t.true(rx.tooLarge() >= 3);
    await waitFor('checkpoint at the end', () => agent.tailer.checkpointLag() === 0, 20_000, 20);
  } finally {
    await agent.close();
    rx.close();
  }
  const checkpoint = JSON.parse(fs.readFileSync(path.join(base, 'state', 'checkpoints.json'), 'utf8')) as { files: { offset: number }[] };
  t.is(checkpoint.files[0]!.offset, lines.join('').length);
  fs.rmSync(base, { recursive: true, force: true });
});

/** An agent in process with a routes file (explicit reloads; the poll is set long). */
async function agentWithRoutesFile(base: string, config: AgentConfig, routesYaml: string, informer?: PodInformer) {
  const file = path.join(base, 'routes.yaml');
  fs.writeFileSync(file, routesYaml);
  return {
    file,
    agent: await startAgent({
      root: path.join(base, 'pods'),
      stateDir: path.join(base, 'state'),
      nodeName: 'n1',
      host: '127.0.0.1',
      port: 0,
      config,
      hostPaths: { proc: '/proc', sys: '/sys', rootfs: '/' },
      informer,
      routesFile: { path: file, routes: resolveRoutesFile(routesYaml, file, config, 'test'), configSource: 'test' },
      log: silentLogger(),
    }),
  };
}

const FAST = { pollInterval: '20ms', rescanInterval: '50ms' };

test('routes reload: added, changed (new endpoint), removed (files re-routed); unrouted files start shipping', async (t) => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-unit-'));
  const root = path.join(base, 'pods');
  const [rxA, rxB, rxC] = [await receiver(), await receiver(), await receiver()];
  const shopLog = path.join(containerDir(root, 'shop', 'api-0', 'c'), '0.log');
  const otherLog = path.join(containerDir(root, 'other', 'x-0', 'c'), '0.log');
  let i = 0;
  const write = (file: string, text: string) => fs.appendFileSync(file, criLine(T0, i++, text));
  write(shopLog, 'shop 1');
  write(otherLog, 'other 1');
  const config = resolveAgentConfig(
    {
      routes: [{ name: 'catch-all', endpoint: rxC.url, namespaces: ['late'] }],
      tail: FAST,
      batch: { maxWait: '20ms' },
      routesFile: { pollInterval: '1h' },
    },
    'test',
  );
  const { agent, file } = await agentWithRoutesFile(base, config, `routes: [{ name: a, endpoint: "${rxA.url}", namespaces: [shop] }]\n`);
  const messages = (rx: { got: Received[] }) => rx.got.map((e) => e.message);
  try {
    await waitFor('shop 1 at A', () => rxA.got.length === 1, 20_000, 20);
    await waitFor('other 1 counted as unrouted', async () => (await agent.metrics.linesUnrouted.get()).values[0]?.value === 1, 20_000, 20);

    // a: endpoint changes to B; route "other" added for the running, unrouted pod.
    fs.writeFileSync(
      file,
      `routes:\n  - { name: a, endpoint: "${rxB.url}", namespaces: [shop] }\n  - { name: other, endpoint: "${rxB.url}", namespaces: [other] }\n`,
    );
    await agent.reloadRoutes();
    t.deepEqual(
      agent.shippers.map((s) => s.name),
      ['catch-all', 'a', 'other'],
    );
    write(shopLog, 'shop 2');
    write(otherLog, 'other 2');
    await waitFor('shop 2, other 1 and other 2 at B', () => rxB.got.length === 3, 20_000, 20);
    t.deepEqual(messages(rxB).sort(), ['other 1', 'other 2', 'shop 2'], 'lines read while unrouted ship once a route matches');

    // a removed: its file goes to the next matching route once a has delivered what it held.
    fs.writeFileSync(file, `routes:\n  - { name: other, endpoint: "${rxB.url}", namespaces: [other, shop] }\n`);
    write(shopLog, 'shop 3');
    await agent.reloadRoutes();
    write(shopLog, 'shop 4');
    await waitFor('shop 3 and 4 at B', () => messages(rxB).includes('shop 4'), 20_000, 20);
    t.deepEqual(messages(rxA), ['shop 1']);
    t.deepEqual(
      messages(rxB).filter((m) => m.startsWith('shop')),
      ['shop 2', 'shop 3', 'shop 4'],
      'each line once, in order',
    );
    t.false(fs.existsSync(path.join(base, 'state', 'spool', 'a')), 'the removed route spool folder is gone');
    const reloads = (await agent.metrics.configReloads.get()).values;
    t.is(reloads.find((v) => v.labels.result === 'ok')?.value, 2);

    // A bad file keeps the routes.
    fs.writeFileSync(file, 'routes: [{ name: "Bad!", endpoint: x }]\n');
    await agent.reloadRoutes();
    t.deepEqual(
      agent.shippers.map((s) => s.name),
      ['catch-all', 'other'],
    );
    write(shopLog, 'shop 5');
    await waitFor('shop 5 at B', () => messages(rxB).includes('shop 5'), 20_000, 20);
    t.is((await agent.metrics.configReloads.get()).values.find((v) => v.labels.result === 'error')?.value, 1);
  } finally {
    await agent.close();
    for (const rx of [rxA, rxB, rxC]) rx.close();
    fs.rmSync(base, { recursive: true, force: true });
  }
});

test('routes reload: a removed route whose endpoint is dead gives up after drainTimeout (counted), its file moves on', async (t) => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-unit-'));
  const root = path.join(base, 'pods');
  const rx = await receiver();
  const dead = await receiver();
  dead.close(); // connection refused from now on
  const log = path.join(containerDir(root, 'shop', 'api-0', 'c'), '0.log');
  fs.writeFileSync(log, criLine(T0, 0, 'lost 1') + criLine(T0, 1, 'lost 2'));
  const config = resolveAgentConfig(
    {
      tail: FAST,
      batch: { maxWait: '20ms' },
      retry: { initialBackoff: '10ms', maxBackoff: '50ms' },
      routesFile: { pollInterval: '1h', drainTimeout: '300ms' },
    },
    'test',
  );
  const { agent, file } = await agentWithRoutesFile(base, config, `routes: [{ name: dead, endpoint: "${dead.url}" }]\n`);
  try {
    await waitFor('a failed request', async () => (await agent.metrics.failures.get()).values.length > 0, 20_000, 20);
    fs.writeFileSync(file, `routes: [{ name: live, endpoint: "${rx.url}" }]\n`);
    await agent.reloadRoutes();
    fs.appendFileSync(log, criLine(T0, 2, 'after'));
    await waitFor('the new line at the live route', () => rx.got.length === 1, 20_000, 20);
    t.is(rx.got[0]!.message, 'after');
    const dropped = (await agent.metrics.entriesDropped.get()).values;
    t.deepEqual(
      dropped.map((v) => [v.labels.route, v.labels.reason, v.value]),
      [['dead', 'route_removed', 2]],
    );
    await waitFor('checkpoint at the end', () => agent.tailer.checkpointLag() === 0, 20_000, 20);
  } finally {
    await agent.close();
    rx.close();
    fs.rmSync(base, { recursive: true, force: true });
  }
});

test('a label change in the watch: open files carry the new labels from their next entry; an unrouted file that now matches ships', async (t) => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-unit-'));
  const root = path.join(base, 'pods');
  const rx = await receiver();
  const apiLog = path.join(containerDir(root, 'shop', 'api-0', 'c', 'uid-api'), '0.log');
  const dbLog = path.join(containerDir(root, 'shop', 'db-0', 'c', 'uid-db'), '0.log');
  fs.writeFileSync(apiLog, criLine(T0, 0, 'api v1'));
  fs.writeFileSync(dbLog, criLine(T0, 1, 'db before'));
  const informer = new FakeInformer();
  const config = resolveAgentConfig(
    {
      routes: [{ name: 'r', endpoint: rx.url, podSelector: { matchLabels: { ship: 'yes' } } }],
      tail: FAST,
      batch: { maxWait: '20ms' },
      labelsFromPod: ['version'],
    },
    'test',
  );
  const agent = await startAgent({
    root,
    stateDir: path.join(base, 'state'),
    nodeName: 'n1',
    host: '127.0.0.1',
    port: 0,
    config,
    hostPaths: { proc: '/proc', sys: '/sys', rootfs: '/' },
    informer,
    log: silentLogger(),
  });
  const api = { uid: 'uid-api', name: 'api-0', namespace: 'shop' };
  const db = { uid: 'uid-db', name: 'db-0', namespace: 'shop' };
  try {
    informer.add({ metadata: { ...api, labels: { ship: 'yes', version: '1' } } });
    informer.add({ metadata: { ...db, labels: { ship: 'no' } } });
    await waitFor('api v1', () => rx.got.length === 1, 20_000, 20);
    await waitFor('db line unrouted', async () => (await agent.metrics.linesUnrouted.get()).values[0]?.value === 1, 20_000, 20);
    informer.update({ metadata: { ...api, labels: { ship: 'no', version: '2' } } });
    informer.update({ metadata: { ...db, labels: { ship: 'yes' } } });
    fs.appendFileSync(apiLog, criLine(T0, 2, 'api v2'));
    fs.appendFileSync(dbLog, criLine(T0, 3, 'db after'));
    await waitFor('api v2, db before and db after', () => rx.got.length === 4, 20_000, 20);
    const byMessage = new Map(rx.got.map((e) => [e.message, e.labels]));
    t.is(byMessage.get('api v1')!.version, '1');
    t.is(byMessage.get('api v2')!.version, '2', 'new labels on the open file; it keeps its route');
    t.truthy(byMessage.get('db after'));
    t.truthy(byMessage.get('db before'), 'read while unrouted, shipped once it matched');
  } finally {
    await agent.close();
    rx.close();
    fs.rmSync(base, { recursive: true, force: true });
  }
});

test('a file created and rotated between two scans is read all the same and counted as an unseen rotation', async (t) => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-unit-'));
  const root = path.join(base, 'pods');
  const rx = await receiver();
  fs.mkdirSync(root, { recursive: true });
  const config = resolveAgentConfig(
    { routes: [{ name: 'r', endpoint: rx.url }], tail: { pollInterval: '20ms', rescanInterval: '300ms' }, batch: { maxWait: '20ms' } },
    'test',
  );
  const agent = await startAgent({
    root,
    stateDir: path.join(base, 'state'),
    nodeName: 'n1',
    host: '127.0.0.1',
    port: 0,
    config,
    hostPaths: { proc: '/proc', sys: '/sys', rootfs: '/' },
    informer: undefined,
    log: silentLogger(),
  });
  try {
    await agent.tailer.firstScan;
    // All in one turn of the event loop: no scan sees the file under its live name.
    const dir = containerDir(root, 'ns', 'fast-0', 'c');
    fs.writeFileSync(path.join(dir, '0.log'), criLine(T0, 0, 'before rotation'));
    fs.renameSync(path.join(dir, '0.log'), path.join(dir, '0.log.20261127-040000'));
    fs.writeFileSync(path.join(dir, '0.log'), criLine(T0, 1, 'after rotation'));
    await waitFor('both lines', () => rx.got.length === 2, 20_000, 20);
    t.deepEqual(rx.got.map((e) => e.message).sort(), ['after rotation', 'before rotation']);
    const kinds = (await agent.metrics.rotations.get()).values.map((v) => [v.labels.kind, v.value]);
    t.deepEqual(kinds, [['unseen', 1]]);
  } finally {
    await agent.close();
    rx.close();
    fs.rmSync(base, { recursive: true, force: true });
  }
});
