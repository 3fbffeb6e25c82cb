import test from 'ava';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { silentLogger } from '../../../runtime/src/common/index.js';
import { resolveAgentConfig } from '../config.js';
import type { PodInfo } from '../kube/pods.js';
import { AgentMetrics } from '../metrics.js';
import { parseScrape, PodScraper, scrapeTargets, type Sample } from './scrape.js';

const TEXT = `# HELP http_requests_total Requests.
# TYPE http_requests_total counter
http_requests_total{code="200",pod="inner"} 1027
http_requests_total{code="500"} 3 1700000000000
# TYPE temperature gauge
temperature +Inf
# TYPE latency_seconds histogram
latency_seconds_bucket{le="0.1"} 5
latency_seconds_bucket{le="+Inf"} 7
latency_seconds_sum 1.5
latency_seconds_count 7
# TYPE rpc_seconds summary
rpc_seconds{quantile="0.5"} NaN
rpc_seconds_sum 2
rpc_seconds_count 4
`;

const target = { namespace: 'shop', pod: 'api-0', node: 'n1' };

test('text format → samples: counters, gauges, histograms, summaries, special values, target labels win', (t) => {
  const { samples, truncated } = parseScrape(TEXT, target, 1_800_000_000_000, 100);
  t.false(truncated);
  const key = (s: Sample) =>
    `${s.name}{${Object.entries(s.labels)
      .sort()
      .map(([k, v]) => `${k}=${v}`)
      .join(',')}} ${s.value}`;
  const base = 'namespace=shop,node=n1,pod=api-0';
  t.deepEqual(samples.map(key).sort(), [
    `http_requests_total{code=200,exported_pod=inner,${base}} 1027`,
    `http_requests_total{code=500,${base}} 3`,
    `latency_seconds_bucket{le=+Inf,${base}} 7`,
    `latency_seconds_bucket{le=0.1,${base}} 5`,
    `latency_seconds_count{${base}} 7`,
    `latency_seconds_sum{${base}} 1.5`,
    `rpc_seconds_count{${base}} 4`,
    `rpc_seconds_sum{${base}} 2`,
    `rpc_seconds{${base},quantile=0.5} NaN`,
    `temperature{${base}} +Inf`,
  ]);
  t.is(samples.find((s) => s.labels.code === '500')!.timestamp, 1_700_000_000_000, 'an exposed timestamp is kept');
  t.is(samples.find((s) => s.labels.code === '200')!.timestamp, 1_800_000_000_000);
  const cut = parseScrape(TEXT, target, 0, 3);
  t.true(cut.truncated);
  t.is(cut.samples.length, 3);
});

const pod = (over: Partial<PodInfo> & { annotations: Record<string, string> }): PodInfo => ({
  uid: 'u',
  namespace: 'shop',
  name: 'api-0',
  labels: {},
  ip: '10.1.2.3',
  phase: 'Running',
  ports: [9100],
  ...over,
});

test('scrape targets from annotations: port, path, scheme, declared port as default; reasons for the rest', (t) => {
  const { targets, skipped } = scrapeTargets([
    pod({ annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8080', 'prometheus.io/path': 'stats' } }),
    pod({ name: 'b', annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/scheme': 'https' }, ip: 'fd00::1' }),
    pod({ name: 'c', annotations: { 'prometheus.io/scrape': 'false' } }),
    pod({ name: 'd', annotations: {} }),
    pod({ name: 'e', annotations: { 'prometheus.io/scrape': 'true' }, phase: 'Pending', ip: undefined }),
    pod({ name: 'f', annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': 'http' } }),
    pod({ name: 'g', annotations: { 'prometheus.io/scrape': 'true' }, ports: [] }),
  ]);
  t.deepEqual(
    targets.map((x) => x.url),
    ['http://10.1.2.3:8080/stats', 'https://[fd00::1]:9100/metrics'],
  );
  t.deepEqual(skipped, [
    { pod: 'shop/e', reason: 'not running with an IP (phase Pending)' },
    { pod: 'shop/f', reason: 'prometheus.io/port: not a port: "http"' },
    { pod: 'shop/g', reason: 'no prometheus.io/port and no declared container port' },
  ]);
});

async function listen(handler: http.RequestListener): Promise<{ port: number; close: () => void }> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, close: () => server.close() };
}

test('a round: the first podMetrics route matching the pod gets its samples and up; a failing target is up 0', async (t) => {
  const exporter = await listen((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end(TEXT));
  const received = new Map<string, Sample[]>();
  const rx = await listen((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const body = JSON.parse(zlib.gunzipSync(Buffer.concat(parts)).toString('utf8')) as { samples: Sample[] };
      received.set(req.headers.authorization ?? '', [...(received.get(req.headers.authorization ?? '') ?? []), ...body.samples]);
      res.writeHead(200).end('{}');
    });
  });
  const config = resolveAgentConfig(
    {
      routes: [
        { name: 'logs-only', endpoint: `http://127.0.0.1:${rx.port}`, apiKey: { value: 'x' } },
        {
          name: 'shop',
          endpoint: `http://127.0.0.1:${rx.port}`,
          apiKey: { value: 'shop-key' },
          namespaces: ['shop'],
          containers: ['app'],
          podMetrics: true,
        },
        { name: 'rest', endpoint: `http://127.0.0.1:${rx.port}`, apiKey: { value: 'rest-key' }, podMetrics: true },
      ],
      podMetrics: { timeout: '2s' },
    },
    'test',
  );
  const metrics = new AgentMetrics();
  const annotated = (port: number) => ({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(port) });
  const scraper = new PodScraper({
    pods: () => [
      pod({ name: 'api-0', ip: '127.0.0.1', annotations: annotated(exporter.port) }),
      pod({ name: 'db-0', namespace: 'db', ip: '127.0.0.1', annotations: annotated(1) }), // refused
      pod({ name: 'quiet-0', annotations: {} }),
    ],
    routes: () => config.routes.filter((r) => r.podMetrics),
    nodeName: 'n1',
    config,
    metrics,
    log: silentLogger(),
  });
  try {
    await scraper.once();
    const shop = received.get('Bearer shop-key')!;
    t.is(shop.length, 12, '10 samples + up + scrape_samples_scraped (a container selector does not restrict pod metrics)');
    t.deepEqual(
      shop.filter((s) => s.name === 'up').map((s) => [s.labels, s.value]),
      [[{ namespace: 'shop', pod: 'api-0', node: 'n1' }, 1]],
    );
    t.is(shop.find((s) => s.name === 'scrape_samples_scraped')!.value, 10);
    t.deepEqual(received.get('Bearer rest-key'), [
      {
        name: 'up',
        labels: { namespace: 'db', pod: 'db-0', node: 'n1' },
        value: 0,
        timestamp: received.get('Bearer rest-key')![0]!.timestamp,
      },
    ]);
    t.false(received.has('Bearer x'));
    const results = (await metrics.scrapes.get()).values.map((v) => [v.labels.result, v.value]).sort();
    t.deepEqual(results, [
      ['error', 1],
      ['ok', 1],
    ]);
    t.is((await metrics.podSamplesShipped.get()).values.find((v) => v.labels.route === 'shop')!.value, 12);
  } finally {
    await scraper.stop();
    exporter.close();
    rx.close();
  }
});
