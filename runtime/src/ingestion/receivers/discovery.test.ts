/**
 * service_name and detected_level through each logs receiver (Loki push as JSON and
 * protobuf, the native API, OTLP), on a real express server with the embedded bus, SQLite
 * and the Loki query API beside it: what Logs Drilldown reads (index/volume by service_name,
 * the level breakdown, drilldown-limits) fills in, and with the switches off nothing is added.
 */
import test from 'ava';
import type http from 'node:http';
import snappy from 'snappy';
import { silentLogger } from '../../common/log.js';
import { RuntimeMetrics } from '../../common/metrics.js';
import { baseApp, boundPort, finishApp, listen } from '../../common/server.js';
import { defaultLimits } from '../../model/limits.js';
import { createEmbeddedBus } from '../../platform/embedded.js';
import { emptyPipeline } from '../../processor/pipeline.js';
import { createLokiRouter } from '../../query/api/loki.js';
import { SqliteStore } from '../../storage/sqlite/store.js';
import { ingestionRouter } from '../app.js';
import { ApiKeys } from '../auth.js';
import { DEFAULT_LOG_DISCOVERY, type LogDiscoveryConfig } from '../log-discovery.js';
import { encodePushRequest } from './loki-push.js';

const KEY = 'discovery-key';
const NOW_NS = BigInt(Date.now()) * 1_000_000n;
const S = 1_000_000_000n;

interface Harness {
  url: string;
  store: SqliteStore;
  server: http.Server;
}

async function start(discovery?: LogDiscoveryConfig): Promise<Harness> {
  const store = new SqliteStore({ dataDir: ':memory:', sync: 'normal' });
  const metrics = new RuntimeMetrics();
  const log = silentLogger();
  const bus = createEmbeddedBus({ store, metrics, log, pipeline: emptyPipeline() });
  const app = baseApp(metrics, { notReady: () => [] });
  const rateLimit = { requestsPerSecond: 10_000, burst: 10_000 };
  app.use(
    ingestionRouter({
      bus,
      keys: new ApiKeys([KEY]),
      limits: defaultLimits,
      rateLimit,
      maxBodyBytes: 1024 * 1024,
      metrics,
      log,
      ...(discovery ? { discovery } : {}),
    }),
  );
  app.use('/loki/api/v1', createLokiRouter({ reader: store, log, ...(discovery ? { logDiscovery: discovery } : {}) }));
  finishApp(app, log);
  const server = await listen(app, 0, '127.0.0.1');
  return { url: `http://127.0.0.1:${boundPort(server)}`, store, server };
}

function stop(h: Harness): void {
  h.server.closeAllConnections();
  h.server.close();
  h.store.close();
}

async function post(h: Harness, route: string, body: Uint8Array | string, type: string): Promise<void> {
  const res = await fetch(`${h.url}${route}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': type },
    body: typeof body === 'string' ? body : Buffer.from(body),
  });
  if (res.status >= 300) throw new Error(`${route}: ${res.status} ${await res.text()}`);
}

async function loki<T>(h: Harness, path: string, params: Record<string, string>): Promise<T> {
  const query = new URLSearchParams({ start: String(NOW_NS - 3600n * S), end: String(NOW_NS + 60n * S), ...params });
  const res = await fetch(`${h.url}/loki/api/v1${path}?${query}`);
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

/** Every stored entry as [message, service_name label, detected_level field]. */
function stored(h: Harness): Array<[string, string | undefined, unknown]> {
  const page = h.store.selectLogs({ matchers: [], startNs: 0n, endNs: NOW_NS + 60n * S, limit: 1000, direction: 'forward' });
  return page.entries.map((e) => [e.message, e.labels.service_name, e.fields.detected_level] as [string, string | undefined, unknown]);
}

const at = (i: number) => String(NOW_NS - BigInt(100 - i) * S);

test('Loki push (JSON and protobuf) without service_name: one from the stream labels, a detected_level for each entry', async (t) => {
  const h = await start();
  t.teardown(() => stop(h));
  await post(
    h,
    '/loki/api/v1/push',
    JSON.stringify({
      streams: [
        {
          stream: { namespace: 'shop', app: 'checkout', container: 'main' },
          values: [
            [at(0), '{"level":"warn","msg":"slow payment"}'],
            [at(1), 'ts=1 level=error msg="card declined"'],
            [at(2), '2026-12-07 INFO order placed'],
            [at(3), 'GET /health 200', { severity: 'debug' }],
            [at(4), 'no level here'],
          ],
        },
        { stream: { namespace: 'shop', container: 'sidecar' }, values: [[at(5), 'Fatal: disk full']] },
        { stream: { namespace: 'shop', service_name: 'given' }, values: [[at(6), 'x', { detected_level: 'info' }]] },
        { stream: { namespace: 'other' }, values: [[at(7), 'trace on']] },
      ],
    }),
    'application/json',
  );
  const body = encodePushRequest({
    streams: [
      {
        labels: '{job="batch/nightly", level="WARNING"}',
        entries: [{ timestamp: { seconds: Number(NOW_NS / S) - 2, nanos: 0 }, line: 'an error in the text, but the label says warn' }],
      },
    ],
  });
  await post(h, '/loki/api/v1/push', snappy.compressSync(Buffer.from(body)), 'application/x-protobuf');

  t.deepEqual(stored(h), [
    ['{"level":"warn","msg":"slow payment"}', 'checkout', 'warn'],
    ['ts=1 level=error msg="card declined"', 'checkout', 'error'],
    ['2026-12-07 INFO order placed', 'checkout', 'info'],
    ['GET /health 200', 'checkout', 'debug'],
    ['no level here', 'checkout', 'unknown'],
    ['Fatal: disk full', 'sidecar', 'fatal'],
    ['x', 'given', 'info'],
    ['trace on', 'unknown_service', 'trace'],
    ['an error in the text, but the label says warn', 'batch/nightly', 'warn'],
  ]);
  t.deepEqual(
    h.store.logLabelValues('service_name', {}),
    ['batch/nightly', 'checkout', 'given', 'sidecar', 'unknown_service'],
    'a stream label, listed by the label API',
  );
  t.false(h.store.logLabelNames({}).includes('detected_level'), 'detected_level is structured metadata, not a label');

  // What Logs Drilldown asks: the service list by volume, and the level breakdown of one service.
  const volume = await loki<{ data: { result: Array<{ metric: Record<string, string> }> } }>(h, '/index/volume', {
    query: '{service_name=~".+"}',
  });
  t.deepEqual(volume.data.result.map((r) => r.metric.service_name).sort(), [
    'batch/nightly',
    'checkout',
    'given',
    'sidecar',
    'unknown_service',
  ]);
  const levels = await loki<{ data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }>(h, '/query', {
    query: 'sum by (detected_level) (count_over_time({service_name="checkout"}[2h]))',
    time: String(NOW_NS),
  });
  t.deepEqual(Object.fromEntries(levels.data.result.map((r) => [r.metric.detected_level, r.value[1]])), {
    debug: '1',
    error: '1',
    info: '1',
    unknown: '1',
    warn: '1',
  });
});

test('native API and OTLP logs get the same discovery', async (t) => {
  const h = await start();
  t.teardown(() => stop(h));
  await post(
    h,
    '/api/v1/logs',
    JSON.stringify({
      entries: [
        { timestamp: at(0), labels: { container: 'web', pod: 'web-1' }, message: 'ERROR upstream timeout' },
        { timestamp: at(1), labels: { app_kubernetes_io_name: 'api' }, message: 'ok', fields: { lvl: 'inf' } },
      ],
    }),
    'application/json',
  );
  const attr = (key: string, value: string) => ({ key, value: { stringValue: value } });
  await post(
    h,
    '/v1/logs',
    JSON.stringify({
      resourceLogs: [
        {
          resource: { attributes: [attr('k8s.namespace.name', 'jobs'), attr('k8s.container.name', 'worker')] },
          scopeLogs: [
            {
              logRecords: [
                { timeUnixNano: at(2), severityNumber: 17, body: { stringValue: 'numbered' } },
                { timeUnixNano: at(3), severityText: 'Warning', body: { stringValue: 'text only' } },
                { timeUnixNano: at(4), attributes: [attr('level', 'debug')], body: { stringValue: 'attribute' } },
                { timeUnixNano: at(5), body: { stringValue: '{"severity":"critical"}' } },
                { timeUnixNano: at(6), body: { stringValue: 'nothing' } },
              ],
            },
          ],
        },
        {
          resource: { attributes: [attr('service.name', 'billing'), attr('k8s.container.name', 'main')] },
          scopeLogs: [{ logRecords: [{ timeUnixNano: at(7), body: { stringValue: 'info from billing' } }] }],
        },
      ],
    }),
    'application/json',
  );
  t.deepEqual(stored(h), [
    ['ERROR upstream timeout', 'web', 'error'],
    ['ok', 'api', 'info'],
    ['numbered', 'worker', 'error'],
    ['text only', 'worker', 'warn'],
    ['attribute', 'worker', 'debug'],
    ['{"severity":"critical"}', 'worker', 'critical'],
    ['nothing', 'worker', 'unknown'],
    ['info from billing', 'billing', 'info'],
  ]);
});

test('switched off: nothing added by Loki push or the native API; OTLP still names its service; drilldown-limits says so', async (t) => {
  const off: LogDiscoveryConfig = { ...DEFAULT_LOG_DISCOVERY, discoverServiceName: [], discoverLogLevels: false };
  const h = await start(off);
  t.teardown(() => stop(h));
  await post(
    h,
    '/loki/api/v1/push',
    JSON.stringify({ streams: [{ stream: { app: 'checkout' }, values: [[at(0), 'level=error']] }] }),
    'application/json',
  );
  await post(
    h,
    '/api/v1/logs',
    JSON.stringify({ entries: [{ timestamp: at(1), labels: { app: 'web' }, message: 'ERROR' }] }),
    'application/json',
  );
  await post(
    h,
    '/v1/logs',
    JSON.stringify({
      resourceLogs: [
        {
          resource: { attributes: [{ key: 'k8s.container.name', value: { stringValue: 'worker' } }] },
          scopeLogs: [{ logRecords: [{ timeUnixNano: at(2), severityNumber: 17, body: { stringValue: 'numbered' } }] }],
        },
      ],
    }),
    'application/json',
  );
  t.deepEqual(stored(h), [
    ['level=error', undefined, undefined],
    ['ERROR', undefined, undefined],
    // Loki's OTLP mapping names the service without service.name; discovery from k8s_container_name is off.
    ['numbered', 'unknown_service', undefined],
  ]);
  const limits = await loki<{ limits: Record<string, unknown> }>(h, '/drilldown-limits', {});
  t.like(limits.limits, { discover_log_levels: false, discover_service_name: [] });
});
