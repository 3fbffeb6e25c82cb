/**
 * `sextant agent` against the real API server of the local control plane (kwok nodes): the
 * pod watch (list+watch with fieldSelector spec.nodeName) gives the labels that route and
 * label each file's entries; a pod on another node is not watched; a label change reaches
 * the open files from their next entry (and new files); the agent is ready only after the
 * first list (the API server is reached through a TCP gate that opens late). The agent and
 * a `sextant up` receiver run as child processes; the test writes the CRI files in the
 * kubelet's layout under a temp log root, named with the real pod UIDs.
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { infraVar } from '../integration/helpers/infra-env.js';
import { createKwokPod, createNamespaces, deleteNamespace, kubectl } from '../support/kube.js';
import { startSextant, tempDataDir, type SextantProcess } from '../support/sextant-process.js';
import { TcpGate } from '../support/tcp-gate.js';
import {
  criLine,
  freePort,
  metricSum,
  searchAll,
  startAgentProcess,
  tempDir,
  waitFor,
  type StoredEntry,
} from '../../agent-daemonset/src/testkit/agent-process.js';

const KEY = 'agent-pods-key';
const NODE = 'kwok-node-0';
const T0_MS = Date.now() - 600_000;
const START_NS = BigInt(T0_MS - 60_000) * 1_000_000n;
const END_NS = BigInt(Date.now() + 3_600_000) * 1_000_000n;
const ns = `agent-pods-${Date.now() % 1_000_000}`;

/** Creates a pod bound to `node` (no scheduler) and returns its UID. */
function createPod(name: string, node: string, labels: Record<string, string>): string {
  createKwokPod(ns, name, node, { labels });
  return kubectl(['get', 'pod', name, '-n', ns, '-o', 'jsonpath={.metadata.uid}']);
}

let sextant: SextantProcess;
let gate: TcpGate;
const cleanup: string[] = [];

test.before(async () => {
  createNamespaces(ns);
  sextant = await startSextant({ dataDir: tempDataDir('sextant-agent-pods-'), apiKey: KEY, args: ['--sync', 'normal'] });
  cleanup.push(sextant.dataDir);
});

test.after.always(async () => {
  await gate?.close();
  await sextant?.stop();
  deleteNamespace(ns);
  for (const dir of cleanup) fs.rmSync(dir, { recursive: true, force: true });
});

async function entries(query: string): Promise<StoredEntry[]> {
  return searchAll(sextant.url, KEY, query, START_NS, END_NS);
}

async function waitEntries(query: string, n: number): Promise<StoredEntry[]> {
  const found = await waitFor(
    `${n} entries for ${query}`,
    async () => {
      const e = await entries(query);
      return e.length >= n ? e : undefined;
    },
    60_000,
    250,
  );
  return found!;
}

test('pod labels from the watch of this node: routing, stream labels, other nodes unwatched, label changes, ready after the first list', async (t) => {
  const uids = {
    api: createPod('api-0', NODE, { app: 'api', tier: 'web' }),
    db: createPod('db-0', NODE, { app: 'db', tier: 'data' }),
    elsewhere: createPod('elsewhere-0', 'kwok-node-1', { app: 'api', tier: 'web' }),
  };
  for (const uid of Object.values(uids)) t.regex(uid, /^[0-9a-f-]{36}$/);

  const base = tempDir('agent-cluster-pods-');
  cleanup.push(base);
  const root = path.join(base, 'pods');
  const logFile = (pod: keyof typeof uids, n = 0) => {
    const dir = path.join(root, `${ns}_${pod === 'elsewhere' ? 'elsewhere-0' : `${pod}-0`}_${uids[pod]}`, 'app');
    fs.mkdirSync(dir, { recursive: true });
    return path.join(dir, `${n}.log`);
  };
  let i = 0;
  const write = (pod: keyof typeof uids, message: string, n = 0) => fs.appendFileSync(logFile(pod, n), criLine(T0_MS, i++, message));
  write('api', 'api before');
  write('db', 'db before');
  write('elsewhere', 'elsewhere before');

  // The API server is reached through a gate that stays closed until the agent has shown it is not ready.
  const kubeconfigText = fs.readFileSync(infraVar('KUBECONFIG'), 'utf8');
  const apiServer = /server: https:\/\/127\.0\.0\.1:(\d+)/.exec(kubeconfigText);
  if (!apiServer) throw new Error('the test kubeconfig names no https://127.0.0.1:<port> server');
  gate = new TcpGate('127.0.0.1', Number(apiServer[1]));
  gate.port = await freePort();
  const kubeconfig = path.join(base, 'kubeconfig');
  fs.writeFileSync(kubeconfig, kubeconfigText.replace(apiServer[0], `server: https://127.0.0.1:${gate.port}`));

  const agent = await startAgentProcess({
    root,
    stateDir: path.join(base, 'state'),
    config: {
      routes: [{ name: 'api', endpoint: sextant.url, apiKey: { value: KEY }, podSelector: { matchLabels: { app: 'api' } } }],
      labelsFromPod: ['app', 'tier'],
      tail: { pollInterval: '50ms', rescanInterval: '200ms', podMetadataWait: '10s' },
      batch: { maxWait: '100ms' },
    },
    args: ['--kube', 'on', '--kubeconfig', kubeconfig, '--node-name', NODE],
    env: { SEXTANT_LOG_LEVEL: 'info' },
  });
  try {
    const readyz = async () => {
      const res = await fetch(`http://127.0.0.1:${agent.port}/readyz`);
      return { status: res.status, body: await res.text() };
    };
    await waitFor('the first scan done, the watch not synced', async () => (await readyz()).body.includes('kubernetes'), 10_000);
    const notReady = await readyz();
    t.is(notReady.status, 503);
    t.regex(notReady.body, /pod watch not synced/);
    t.deepEqual(await entries(`{namespace="${ns}"}`), [], 'nothing shipped before the pod labels are known');

    await gate.open();
    await waitFor('ready after the first list', async () => (await readyz()).status === 200, 60_000, 200);

    // api-0 matches the route by its label app=api from the watch; its labels label the entries.
    const [api] = await waitEntries(`{namespace="${ns}",pod="api-0"}`, 1);
    t.is(api!.message, 'api before');
    // service_name: discovered at ingestion from `app` (runtime/src/ingestion/log-discovery.ts).
    t.deepEqual(api!.labels, {
      app: 'api',
      tier: 'web',
      namespace: ns,
      pod: 'api-0',
      container: 'app',
      node: NODE,
      stream: 'stdout',
      service_name: 'api',
    });

    // elsewhere-0 (same labels, another node) is not in this node's watch: after
    // podMetadataWait it is routed without labels, so the label selector does not match.
    await waitFor('elsewhere-0 routed without labels', () => agent.output().includes(`"pod":"${ns}/elsewhere-0"`), 30_000);
    t.regex(agent.output(), new RegExp(`"pod":"${ns}/elsewhere-0".*pod labels unknown after waiting`));
    t.notRegex(agent.output(), new RegExp(`"pod":"${ns}/(api|db)-0".*pod labels unknown`));

    // db-0 matches no route: read and counted, not shipped (yet: see the label change below).
    await waitFor('db-0 and elsewhere-0 lines counted as unrouted', async () => {
      return metricSum(await agent.metrics(), 'sextant_agent_lines_unrouted_total') === 2;
    });

    // Label changes: api-0's tier changes (its open file keeps its route and carries the new
    // labels from its next entry; a new file of the pod has them too); db-0 gets app=api
    // and its open file ships from where its unrouted lines began, so 'db before' is not
    // lost (agent-daemonset/README.md, routes).
    kubectl(['label', 'pod', 'api-0', '-n', ns, 'tier=canary', '--overwrite']);
    kubectl(['label', 'pod', 'db-0', '-n', ns, 'app=api', '--overwrite']);
    await waitFor(
      'the label changes in the watch',
      () => (agent.output().match(/file routed after a routes or labels change/g) ?? []).length >= 1,
      30_000,
    );
    write('api', 'api after');
    write('api', 'api restarted', 1);
    write('db', 'db after');
    write('elsewhere', 'elsewhere after');
    const all = await waitEntries(`{namespace="${ns}"}`, 5);
    const byMessage = new Map(all.map((e) => [e.message, e.labels]));
    t.deepEqual([...byMessage.keys()].sort(), ['api after', 'api before', 'api restarted', 'db after', 'db before']);
    t.is(byMessage.get('api after')!.tier, 'canary');
    t.is(byMessage.get('api restarted')!.tier, 'canary');
    const dbLabels = {
      app: 'api',
      tier: 'data',
      namespace: ns,
      pod: 'db-0',
      container: 'app',
      node: NODE,
      stream: 'stdout',
      service_name: 'api',
    };
    t.deepEqual(byMessage.get('db before'), dbLabels, 'the unrouted line ships with the labels that routed it');
    t.deepEqual(byMessage.get('db after'), dbLabels);
    await waitFor(
      'elsewhere after counted as unrouted',
      async () => metricSum(await agent.metrics(), 'sextant_agent_lines_unrouted_total') === 3,
    );
    t.is((await entries(`{namespace="${ns}"}`)).length, 5, 'elsewhere-0 never shipped');
  } finally {
    t.is(await agent.stop(), 0);
  }
});
