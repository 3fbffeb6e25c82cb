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
import { silentLogger } from '../../runtime/src/common/log.js';
import { startAgent } from './agent.js';
import { resolveAgentConfig } from './config.js';
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
    await waitFor('the api line', () => rx.got.length === 1, 5000, 20);
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
    await waitFor('20 entries', () => rx.got.length === 20, 5000, 20);
    t.deepEqual(
      rx.got.map((e) => e.message),
      lines.map((_, i) => `line ${i}`),
    );
    t.true(rx.tooLarge() >= 3);
    await waitFor('checkpoint at the end', () => agent.tailer.checkpointLag() === 0, 5000, 20);
  } finally {
    await agent.close();
    rx.close();
  }
  const checkpoint = JSON.parse(fs.readFileSync(path.join(base, 'state', 'checkpoints.json'), 'utf8')) as { files: { offset: number }[] };
  t.is(checkpoint.files[0]!.offset, lines.join('').length);
  fs.rmSync(base, { recursive: true, force: true });
});
