/**
 * `sextant agent` scraping pods annotated `prometheus.io/scrape: "true"`, with the pods from
 * the real API server (kwok nodes) and real exporters: a small HTTP server serving the text
 * format, and node_exporter (the infra `prometheus` service, NODE_EXPORTER_PORT, default
 * 19100). kwok gives pods unreachable IPs, so the test sets each pod's status.podIP to
 * 127.0.0.1 (status subresource) where the exporters listen. The samples are read back
 * through the receiver's Prometheus API; pods that are not annotated, or on another node,
 * are never scraped (their server counts requests).
 */
import test from 'ava';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { infraVar } from '../integration/helpers/infra-env.js';
import { createKwokPod, createNamespaces, deleteNamespace, kubectl } from '../support/kube.js';
import { startSextant, tempDataDir, type SextantProcess } from '../support/sextant-process.js';
import { metricSum, startAgentProcess, tempDir, waitFor } from '../../agent-daemonset/src/testkit/agent-process.js';

const KEY = 'agent-scrape-key';
const NODE = 'kwok-node-0';
const NODE_EXPORTER_PORT = Number(process.env.NODE_EXPORTER_PORT ?? 19100);
const ns = `agent-scrape-${Date.now() % 1_000_000}`;

/** A pod bound to `node`, its IP set to 127.0.0.1 (where the test's exporters listen). */
function createPod(name: string, node: string, annotations: Record<string, string>): void {
  createKwokPod(ns, name, node, { labels: { app: name }, annotations });
  kubectl([
    'patch',
    'pod',
    name,
    '-n',
    ns,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({ status: { phase: 'Running', podIP: '127.0.0.1', podIPs: [{ ip: '127.0.0.1' }] } }),
  ]);
}

async function exporter(text: string): Promise<{ port: number; hits: () => number; close: () => void }> {
  let hits = 0;
  const server = http.createServer((_req, res) => {
    hits++;
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(text);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, hits: () => hits, close: () => server.close() };
}

async function nodeExporterUp(): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${NODE_EXPORTER_PORT}/metrics`, { signal: AbortSignal.timeout(2000) })).ok;
  } catch {
    return false;
  }
}

/** Instant query through the receiver's Prometheus API: labels → value. */
async function query(url: string, promql: string): Promise<Array<{ metric: Record<string, string>; value: number }>> {
  const res = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: promql })}`, { headers: { authorization: `Bearer ${KEY}` } });
  const body = (await res.json()) as {
    status: string;
    data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
  };
  if (body.status !== 'success') throw new Error(`query ${promql}: ${JSON.stringify(body)}`);
  return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
}

let sextant: SextantProcess;
const cleanup: string[] = [];

test.before(async () => {
  createNamespaces(ns);
  sextant = await startSextant({ dataDir: tempDataDir('sextant-agent-scrape-'), apiKey: KEY, args: ['--sync', 'normal'] });
  cleanup.push(sextant.dataDir);
});

test.after.always(async () => {
  await sextant?.stop();
  deleteNamespace(ns);
  for (const dir of cleanup) fs.rmSync(dir, { recursive: true, force: true });
});

test('annotated pods of this node are scraped (port and path annotations) and their samples reach the ingestion labelled', async (t) => {
  const app = await exporter(
    '# TYPE orders_total counter\norders_total{status="paid"} 42\n# TYPE queue_depth gauge\nqueue_depth 7\n' +
      '# TYPE wait_seconds histogram\nwait_seconds_bucket{le="1"} 3\nwait_seconds_bucket{le="+Inf"} 4\nwait_seconds_sum 2.5\nwait_seconds_count 4\n',
  );
  const never = await exporter('never_scraped 1\n');
  t.teardown(() => {
    app.close();
    never.close();
  });
  createPod('shop-0', NODE, { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(app.port), 'prometheus.io/path': '/stats' });
  createPod('quiet-0', NODE, { 'prometheus.io/port': String(never.port) }); // not annotated for scraping
  createPod('remote-0', 'kwok-node-1', { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(never.port) });
  const withNodeExporter = await nodeExporterUp();
  if (withNodeExporter)
    createPod('node-exporter-0', NODE, { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(NODE_EXPORTER_PORT) });
  else
    t.log(`node_exporter is not running on ${NODE_EXPORTER_PORT} (bash test/infra/infra.sh up prometheus): scraping the text server only`);

  const base = tempDir('agent-cluster-scrape-');
  cleanup.push(base);
  const agent = await startAgentProcess({
    root: `${base}/pods`,
    stateDir: `${base}/state`,
    config: {
      routes: [{ name: 'shop', endpoint: sextant.url, apiKey: { value: KEY }, namespaces: [ns], logs: false, podMetrics: true }],
      podMetrics: { interval: '1s', timeout: '1s' },
    },
    args: ['--kube', 'on', '--kubeconfig', infraVar('KUBECONFIG'), '--node-name', NODE],
  });
  try {
    const orders = await waitFor(
      'orders_total from shop-0',
      async () => {
        const r = await query(sextant.url, `orders_total{namespace="${ns}"}`);
        return r.length > 0 ? r : undefined;
      },
      60_000,
      500,
    );
    t.deepEqual(orders, [{ metric: { __name__: 'orders_total', status: 'paid', namespace: ns, pod: 'shop-0', node: NODE }, value: 42 }]);
    t.deepEqual((await query(sextant.url, `wait_seconds_bucket{pod="shop-0"}`)).map((r) => [r.metric.le, r.value]).sort(), [
      ['+Inf', 4],
      ['1', 3],
    ]);
    t.is((await query(sextant.url, `queue_depth{pod="shop-0"}`))[0]?.value, 7);
    await waitFor('up 1 for shop-0', async () => (await query(sextant.url, `up{pod="shop-0"}`))[0]?.value === 1, 30_000, 500);
    if (withNodeExporter) {
      const boot = await waitFor(
        'node_exporter samples',
        async () => {
          const r = await query(sextant.url, `node_boot_time_seconds{pod="node-exporter-0"}`);
          return r.length > 0 ? r : undefined;
        },
        60_000,
        500,
      );
      t.is(boot![0]!.metric.namespace, ns);
      t.true(boot![0]!.value > 1e9);
    }
    // Several rounds have run (interval 1s); the other pods were never asked.
    await waitFor('3 scrapes of shop-0', () => app.hits() >= 3, 30_000, 200);
    t.is(never.hits(), 0, 'neither the pod without the annotation nor the pod of another node is scraped');
    t.deepEqual(await query(sextant.url, `up{pod=~"quiet-0|remote-0"}`), []);
    const m = await agent.metrics();
    t.true(metricSum(m, 'sextant_agent_pod_scrapes_total', 'result="ok"') >= 3);
    t.true(metricSum(m, 'sextant_agent_pod_samples_shipped_total', 'route="shop"') > 0);
    t.is(metricSum(m, 'sextant_agent_pod_samples_dropped_total'), 0);
  } finally {
    t.is(await agent.stop(), 0);
  }
});
