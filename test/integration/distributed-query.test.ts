/**
 * The shared query suite (test/integration/query-suite) against both modes, on the real
 * servers: (a) `sextant up`; (b) `sextant ingestion` + `sextant processor` (OpenSearch and
 * S3 sinks) + two `sextant query` runtimes — one reading everything from OpenSearch
 * (hotWindow 7d), one with a 90-minute hot window, so the older half of the dataset comes
 * from S3. All three must answer every case identically, and a few answers are checked
 * against values computed here from the dataset, so equal-but-wrong cannot pass.
 *
 * Proof that the tiered runtime really reads S3: after the comparison the old documents are
 * deleted from OpenSearch; the OpenSearch-only runtime then loses them, the tiered one does not.
 */
import test from 'ava';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startRuntime, type RuntimeProcess } from '../support/runtime-process.js';
import { startSextant, tempDataDir, type SextantProcess } from '../support/sextant-process.js';
import { TcpGate } from '../support/tcp-gate.js';
import { infraVar } from './helpers/infra-env.js';
import { s3ClientForS3Proxy } from './helpers/s3.js';
import { runSuite, suiteCases, type SuiteResults } from './query-suite/cases.js';
import { HOUR_MS, LOG_COUNT, logBodies, makeDataset, SAMPLE_POINTS, sampleBodies, type Dataset } from './query-suite/dataset.js';

const KEY = 'it-query-suite-key';
const HOT_WINDOW_MS = 90 * 60_000;

const processes: Array<RuntimeProcess | SextantProcess> = [];
let osPrefix: string | undefined;

test.after.always(async () => {
  for (const p of processes.splice(0)) await p.kill();
  if (osPrefix) await fetch(`${infraVar('OPENSEARCH_URL')}/${osPrefix}-*`, { method: 'DELETE' }).catch(() => undefined);
});

async function post(url: string, route: string, body: unknown): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(`${url}${route}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.status === 200) return;
    // 503 + Retry-After is the contract while a dependency is getting ready: retry like a client.
    if (res.status !== 503 || attempt >= 30) throw new Error(`POST ${route} → ${res.status}: ${await res.text()}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function ingest(url: string, data: Dataset): Promise<void> {
  for (const body of logBodies(data)) await post(url, '/api/v1/logs', body);
  for (const body of sampleBodies(data)) await post(url, '/api/v1/metrics', body);
}

async function getJson<T>(url: string, route: string, params: Record<string, string>): Promise<T> {
  const res = await fetch(`${url}${route}?${new URLSearchParams(params)}`, { headers: { authorization: `Bearer ${KEY}` } });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${route} → ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

/** Entries and samples a query runtime sees over the whole dataset (Loki and Prometheus counts). */
async function visibleCounts(url: string, data: Dataset): Promise<{ logs: number; samples: number }> {
  const time = String(data.baseMs / 1000);
  const logs = await getJson<{ data: { result: Array<{ value: [number, string] }> } }>(url, '/loki/api/v1/query', {
    query: 'sum(count_over_time({service=~".+"}[3h]))',
    time,
  });
  const samples = await getJson<{ data: { result: Array<{ value: [number, string] }> } }>(url, '/api/v1/query', {
    query: 'sum(count_over_time({__name__=~".+"}[3h]))',
    time,
  });
  return { logs: Number(logs.data.result[0]?.value[1] ?? 0), samples: Number(samples.data.result[0]?.value[1] ?? 0) };
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let error: unknown;
  for (;;) {
    try {
      last = await probe();
      if (done(last)) return last;
    } catch (e) {
      error = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last ${JSON.stringify(last)} ${String(error ?? '')}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

function runtimeConfig(id: string, hotWindow: string): Record<string, unknown> {
  return {
    pipeline: { namespace: 'qs', name: id },
    http: { port: 0 },
    kafka: {
      brokers: infraVar('KAFKA_BROKERS').split(','),
      clientId: id,
      topics: { partitions: 3, replicationFactor: 1 },
      consumer: { sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000 },
    },
    sinks: {
      opensearch: { endpoints: [infraVar('OPENSEARCH_URL')], indexPrefix: id },
      s3: {
        bucket: id,
        prefix: 'cold',
        endpoint: infraVar('S3_ENDPOINT'),
        region: infraVar('S3_REGION'),
        forcePathStyle: true,
        accessKeyId: { env: 'IT_S3_ACCESS_KEY_ID' },
        secretAccessKey: { env: 'IT_S3_SECRET_ACCESS_KEY' },
        requestChecksumCalculation: 'WHEN_REQUIRED',
        flush: { maxAge: '2s' },
      },
    },
    query: { hotWindow },
  };
}

async function startComponent(
  dir: string,
  component: 'ingestion' | 'processor' | 'query',
  config: Record<string, unknown>,
  name: string = component,
) {
  const file = path.join(dir, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify(config, null, 2));
  const p = await startRuntime(component, file, {
    SEXTANT_API_KEYS: KEY,
    IT_S3_ACCESS_KEY_ID: infraVar('S3_ACCESS_KEY_ID'),
    IT_S3_SECRET_ACCESS_KEY: infraVar('S3_SECRET_ACCESS_KEY'),
  });
  processes.push(p);
  return p;
}

/** Values computed from the dataset alone, to check the answers are right, not just equal. */
function checkIndependently(t: import('ava').ExecutionContext, data: Dataset, results: SuiteResults): void {
  // native search: api entries with status=500, newest first
  const expected = data.logs
    .filter((e) => e.labels.service === 'api' && !e.labels.job && e.message.includes('status=500'))
    .map((e) => e.timestampNs.toString())
    .reverse();
  const native = results['native search: stream + line filter, backward'] as { entries: Array<{ timestamp: string; labels: object }> };
  t.true(expected.length > 10);
  t.deepEqual(
    native.entries.map((e) => String(BigInt(Date.parse(e.timestamp.slice(0, 19) + 'Z')) * 1_000_000n + BigInt(e.timestamp.slice(20, 29)))),
    expected,
  );
  // Loki: every entry counted once
  const count = results['loki query: instant count over the whole dataset'] as { data: { result: Array<{ value: [number, string] }> } };
  t.is(count.data.result[0]?.value[1], String(LOG_COUNT));
  // Loki series for {service="api"}
  const series = results['loki series'] as { data: object[] };
  // service_name: discovered at ingestion from `service` (runtime/src/ingestion/log-discovery.ts).
  t.deepEqual(series.data, [
    { level: 'error', service: 'api', service_name: 'api' },
    { level: 'info', service: 'api', service_name: 'api' },
  ]);
  // Loki pipelines: the api entries with status=500 carry the parsed status and took labels
  const parsed = results['loki query_range: logfmt and a numeric label filter'] as {
    data: { result: Array<{ stream: Record<string, string>; values: Array<[string, string]> }> };
  };
  const want500 = data.logs.filter((e) => e.labels.service === 'api' && e.message.includes('status=500'));
  t.true(want500.length > 10);
  t.deepEqual(
    parsed.data.result.flatMap((r) => r.values.map(([ts]) => `${ts} ${r.stream.status} ${r.stream.took}`)).sort(),
    want500.map((e) => `${e.timestampNs} 500 ${/took=(\d+ms)/.exec(e.message)![1]}`).sort(),
  );
  // quantile_over_time(0.9) of took (seconds) per service over all three hours
  const q = results['loki query: quantile_over_time by service and topk over a parsed label'] as {
    data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
  };
  for (const service of ['api', 'web']) {
    const took = data.logs
      .filter((e) => e.labels.service === service)
      .map((e) => Number(/took=(\d+)ms/.exec(e.message)![1]) / 1000)
      .sort((a, b) => a - b);
    const rank = 0.9 * (took.length - 1);
    const lo = Math.floor(rank);
    const p90 = took[lo]! + (took[Math.min(lo + 1, took.length - 1)]! - took[lo]!) * (rank - lo);
    const got = q.data.result.find((r) => r.metric.service === service && r.metric.status === undefined);
    t.true(got !== undefined && Math.abs(Number(got.value[1]) - p90) < 1e-9, `p90 ${service}: ${got?.value[1]} vs ${p90}`);
  }
  // Structured metadata: the entries' fields filter, and come back as structuredMetadata
  // beside the parsed labels when Grafana asks for categorize-labels.
  const meta = results['loki query_range: a label filter on structured metadata, categorize-labels'] as {
    data: {
      encodingFlags?: string[];
      result: Array<{ values: Array<[string, string, { structuredMetadata?: Record<string, string>; parsed?: Record<string, string> }]> }>;
    };
  };
  const wantU3 = data.logs.filter((e) => e.labels.service === 'api' && e.fields.user === 'u3' && !e.message.includes('status=404'));
  t.true(wantU3.length > 5);
  t.deepEqual(meta.data.encodingFlags, ['categorize-labels']);
  const gotU3 = meta.data.result.flatMap((r) => r.values);
  t.deepEqual(gotU3.map(([ts]) => ts).sort(), wantU3.map((e) => String(e.timestampNs)).sort());
  for (const [, line, m] of gotU3) {
    const source = wantU3.find((e) => e.message === line)!;
    // detected_level: discovered at ingestion from the `level` label (log-discovery.ts).
    const want = { i: String(source.fields.i), user: 'u3', trace_id: String(source.fields.trace_id), detected_level: source.labels.level };
    t.deepEqual(m.structuredMetadata, want);
    t.is(m.parsed?.status, /status=(\d+)/.exec(line)![1]);
  }
  // detected_field values: the users of the db entries
  const users = results['loki detected_field values of a structured-metadata field'] as { values: string[] };
  const wantUsers = [...new Set(data.logs.filter((e) => e.labels.service === 'db').map((e) => String(e.fields.user)))];
  t.deepEqual([...users.values].sort(), wantUsers.sort());
  // index/volume: the bytes of each service's lines over the whole dataset
  const volume = results['loki index/volume by service_name'] as {
    data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
  };
  const bytes = new Map<string, number>();
  for (const e of data.logs) bytes.set(e.labels.service!, (bytes.get(e.labels.service!) ?? 0) + Buffer.byteLength(e.message));
  t.deepEqual(Object.fromEntries(volume.data.result.map((r) => [r.metric.service_name, Number(r.value[1])])), Object.fromEntries(bytes));
  // Prometheus: counters rise 2/s, 5/s, 1/s (code 200) and 0.1/s (code 500) per service
  const rate = results['prometheus query_range: sum by (service) (rate)'] as {
    data: { result: Array<{ metric: { service: string }; values: Array<[number, string]> }> };
  };
  const want: Record<string, number> = { api: 2.1, db: 1.1, web: 5.1 };
  t.deepEqual(
    rate.data.result.map((r) => r.metric.service),
    ['api', 'db', 'web'],
  );
  for (const r of rate.data.result) {
    t.is(r.values.length, 34);
    for (const [, v] of r.values) t.true(Math.abs(Number(v) - want[r.metric.service]!) < 1e-9, `${r.metric.service}: ${v}`);
  }
  const labels = results['prometheus label values'] as { data: string[] };
  t.deepEqual(labels.data, ['http_requests_total', 'queue_depth']);
  t.is(SAMPLE_POINTS * 7, data.samples.length);
}

test.serial(
  'the query suite answers identically in sextant up and in ingestion + processor + query (OpenSearch, and OpenSearch + S3)',
  async (t) => {
    const data = makeDataset(Date.now());
    const cases = suiteCases(data);

    // (a) embedded
    const up = await startSextant({ dataDir: tempDataDir('sextant-qs-'), apiKey: KEY });
    processes.push(up);
    await ingest(up.url, data);
    const embedded = await runSuite(up.url, KEY, cases);
    checkIndependently(t, data, embedded);

    // (b) distributed
    const id = `qs-${randomBytes(4).toString('hex')}`;
    osPrefix = id;
    const s3 = s3ClientForS3Proxy({
      endpoint: infraVar('S3_ENDPOINT'),
      region: infraVar('S3_REGION'),
      forcePathStyle: true,
      credentials: { accessKeyId: infraVar('S3_ACCESS_KEY_ID'), secretAccessKey: infraVar('S3_SECRET_ACCESS_KEY') },
    });
    await s3.send(new CreateBucketCommand({ Bucket: id }));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sextant-qs-'));
    const ingestion = await startComponent(dir, 'ingestion', runtimeConfig(id, '7d'));
    await startComponent(dir, 'processor', runtimeConfig(id, '7d'));
    const hotOnly = await startComponent(dir, 'query', runtimeConfig(id, '7d'), 'query-hot');
    const tiered = await startComponent(dir, 'query', runtimeConfig(id, '90m'), 'query-tiered');
    await waitFor(
      'ingestion ready',
      30_000,
      async () => (await fetch(`${ingestion.url}/readyz`)).status,
      (s) => s === 200,
    );
    await ingest(ingestion.url, data);

    const all = { logs: LOG_COUNT, samples: data.samples.length };
    await waitFor(
      'everything in OpenSearch',
      120_000,
      () => visibleCounts(hotOnly.url, data),
      (c) => c.logs === all.logs && c.samples === all.samples,
    );
    // The tiered runtime sees the older half only once the S3 sink has flushed it.
    await waitFor(
      'everything through OpenSearch + S3',
      120_000,
      () => visibleCounts(tiered.url, data),
      (c) => c.logs === all.logs && c.samples === all.samples,
    );

    const fromOpenSearch = await runSuite(hotOnly.url, KEY, cases);
    const fromBothTiers = await runSuite(tiered.url, KEY, cases);
    for (const c of cases) {
      t.deepEqual(fromOpenSearch[c.name], embedded[c.name], `OpenSearch-only: ${c.name}`);
      t.deepEqual(fromBothTiers[c.name], embedded[c.name], `OpenSearch + S3: ${c.name}`);
    }

    // Remove the old half from OpenSearch: only S3 still has it.
    const boundaryMs = Date.now() - HOT_WINDOW_MS - 60_000;
    for (const signal of ['logs', 'metrics']) {
      const res = await fetch(`${infraVar('OPENSEARCH_URL')}/${id}-${signal}-*/_delete_by_query?refresh=true&conflicts=proceed`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: { range: { '@timestamp': { lt: new Date(boundaryMs).toISOString() } } } }),
      });
      t.is(res.status, 200, await res.text());
    }
    const oldLogs = data.logs.filter((e) => e.timestampNs < BigInt(boundaryMs) * 1_000_000n).length;
    t.true(oldLogs > LOG_COUNT / 3, `${oldLogs} entries older than the hot window`);
    t.deepEqual((await visibleCounts(hotOnly.url, data)).logs, LOG_COUNT - oldLogs, 'OpenSearch-only runtime lost the old half');
    t.deepEqual(await visibleCounts(tiered.url, data), all, 'the tiered runtime still has everything: the old half came from S3');
    const again = await runSuite(tiered.url, KEY, cases);
    for (const c of cases) t.deepEqual(again[c.name], embedded[c.name], `S3 for the old half: ${c.name}`);
    t.log(`${cases.length} cases; ${oldLogs} of ${LOG_COUNT} entries older than the ${(HOUR_MS / 60_000) * 1.5}-minute hot window`);
  },
);

test.serial(
  'sextant query: API keys required, /healthz, /metrics; OpenSearch unreachable → /readyz 503 and queries 503, then recovery',
  async (t) => {
    const target = new URL(infraVar('OPENSEARCH_URL'));
    const gate = new TcpGate(target.hostname, Number(target.port));
    await gate.open();
    t.teardown(() => gate.close());
    const id = `qs-${randomBytes(4).toString('hex')}`;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sextant-qs-'));
    const config = runtimeConfig(id, '7d');
    const sinks = config.sinks as { opensearch: { endpoints: string[] }; s3?: unknown };
    sinks.opensearch.endpoints = [`http://127.0.0.1:${gate.port}`];
    delete sinks.s3;
    const query = await startComponent(dir, 'query', config);
    await waitFor(
      'query ready',
      30_000,
      async () => (await fetch(`${query.url}/readyz`)).status,
      (s) => s === 200,
    );
    t.is((await fetch(`${query.url}/healthz`)).status, 200);

    const labels = `${query.url}/loki/api/v1/labels`;
    t.is((await fetch(labels)).status, 401, 'no key');
    t.is((await fetch(labels, { headers: { authorization: 'Bearer wrong' } })).status, 401, 'wrong key');
    const ok = await fetch(labels, { headers: { 'x-api-key': KEY } });
    t.is(ok.status, 200);
    t.deepEqual(await ok.json(), { status: 'success', data: [] }, 'no indices yet: no labels, not an error');

    await gate.close();
    await waitFor(
      'readyz 503',
      30_000,
      async () => (await fetch(`${query.url}/readyz`)).status,
      (s) => s === 503,
    );
    t.regex(await (await fetch(`${query.url}/readyz`)).text(), /opensearch/);
    const native = await fetch(`${query.url}/api/v1/logs/search?${new URLSearchParams({ query: '{service="api"}' })}`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    t.is(native.status, 503);
    t.truthy(native.headers.get('retry-after'));
    t.regex(((await native.json()) as { error: string }).error, /OpenSearch is unreachable/);
    const prom = await fetch(`${query.url}/api/v1/query?${new URLSearchParams({ query: 'up' })}`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    t.is(prom.status, 503);
    t.like(await prom.json(), { status: 'error', errorType: 'unavailable' });
    const loki = await fetch(`${query.url}/loki/api/v1/query_range?${new URLSearchParams({ query: '{a="b"}' })}`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    t.is(loki.status, 503);
    const metrics = await (await fetch(`${query.url}/metrics`)).text();
    t.regex(metrics, /sextant_query_backend_up\{backend="opensearch"\} 0/);

    await gate.open();
    await waitFor(
      'readyz 200 again',
      30_000,
      async () => (await fetch(`${query.url}/readyz`)).status,
      (s) => s === 200,
    );
    t.is((await fetch(labels, { headers: { authorization: `Bearer ${KEY}` } })).status, 200);
    t.regex(await (await fetch(`${query.url}/metrics`)).text(), /sextant_query_backend_up\{backend="opensearch"\} 1/);
    t.is(await query.stop(), 0, 'SIGTERM: exit 0');
  },
);
