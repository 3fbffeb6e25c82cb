/**
 * Prometheus staleness markers end a series at query time, on every read path (issue 14).
 * A remote_write 1.0 request (snappy protobuf, as Prometheus sends it) carries, per case,
 * a series with three samples 15 s apart and then a staleness marker, and a control series
 * with the same samples and no marker. PromQL must answer:
 *
 * - before the marker: the last sample;
 * - after the marker, still within the 5-minute lookback of the last sample: nothing for
 *   the ended series, while the control series still answers (so it is the marker, not the
 *   lookback, that ends it);
 * - query_range: the ended series stops at its last sample, the control runs on.
 *
 * Into (a) `sextant up` (SQLite) and (b) `sextant ingestion` → Kafka → `sextant processor`
 * (OpenSearch and S3 sinks) → two `sextant query` runtimes: one reading everything from
 * OpenSearch (hotWindow 7d) and one with a 1 h hot window, which reads the case 2 h old
 * from S3 and the 10-minute-old one from OpenSearch, and merges both for a range across
 * the boundary.
 */
import test from 'ava';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import snappy from 'snappy';
import { encodeWriteRequest } from '../../runtime/src/ingestion/receivers/remote-write-proto.js';
import { STALE_NAN } from '../../runtime/src/model/stale.js';
import { startRuntime, type RuntimeProcess } from '../support/runtime-process.js';
import { startSextant, tempDataDir, type SextantProcess } from '../support/sextant-process.js';
import { infraVar } from './helpers/infra-env.js';
import { s3ClientForS3Proxy } from './helpers/s3.js';

const KEY = 'it-staleness-key';
const S = 1000;
const NOW = Math.floor(Date.now() / 60_000) * 60_000;

/** A case: samples at start, +15 s, +30 s (values 1, 2, 3), the marker at +45 s. */
interface Case {
  name: string;
  startMs: number;
}

const HOT: Case = { name: 'hot', startMs: NOW - 10 * 60_000 };
const COLD: Case = { name: 'cold', startMs: NOW - 2 * 3_600_000 };

const processes: Array<RuntimeProcess | SextantProcess> = [];
let osPrefix: string | undefined;

test.after.always(async () => {
  for (const p of processes.splice(0)) await p.kill();
  if (osPrefix) await fetch(`${infraVar('OPENSEARCH_URL')}/${osPrefix}-*`, { method: 'DELETE' }).catch(() => undefined);
});

function writeRequest(cases: Case[]): Buffer {
  const series = (name: string, c: Case, marker: boolean) => ({
    labels: [
      { name: '__name__', value: name },
      { name: 'case', value: c.name },
    ],
    samples: [
      ...[1, 2, 3].map((value, i) => ({ value, timestamp: c.startMs + i * 15 * S })),
      ...(marker ? [{ value: STALE_NAN, timestamp: c.startMs + 45 * S }] : []),
    ],
  });
  const timeseries = cases.flatMap((c) => [series('it_ended', c, true), series('it_live', c, false)]);
  return snappy.compressSync(Buffer.from(encodeWriteRequest({ timeseries })));
}

async function remoteWrite(url: string, cases: Case[]): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(`${url}/api/v1/write`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${KEY}`,
        'content-type': 'application/x-protobuf',
        'content-encoding': 'snappy',
        'x-prometheus-remote-write-version': '0.1.0',
      },
      body: writeRequest(cases),
    });
    if (res.status === 204 || res.status === 200) return;
    // 503 while Kafka is getting ready: retry as Prometheus does.
    if (res.status !== 503 || attempt >= 30) throw new Error(`remote write → ${res.status}: ${await res.text()}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

interface PromSeries {
  metric: Record<string, string>;
  value?: [number, string];
  values?: Array<[number, string]>;
}

async function prom(url: string, route: 'query' | 'query_range', params: Record<string, string>): Promise<PromSeries[]> {
  const res = await fetch(`${url}/api/v1/${route}?${new URLSearchParams(params)}`, { headers: { authorization: `Bearer ${KEY}` } });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${route} ${JSON.stringify(params)} → ${res.status}: ${text}`);
  return (JSON.parse(text) as { data: { result: PromSeries[] } }).data.result;
}

/** Instant query: metric name → value, for the series of one case. */
async function instant(url: string, c: Case, atMs: number): Promise<Record<string, string>> {
  const result = await prom(url, 'query', { query: `{__name__=~"it_ended|it_live", case="${c.name}"}`, time: String(atMs / 1000) });
  return Object.fromEntries(result.map((r) => [r.metric.__name__!, r.value![1]]));
}

/** Range query over [start, start + 3 m] every 15 s: metric name → the step times (s after start) that have a point. */
async function range(url: string, c: Case): Promise<Record<string, number[]>> {
  const result = await prom(url, 'query_range', {
    query: `{__name__=~"it_ended|it_live", case="${c.name}"}`,
    start: String(c.startMs / 1000),
    end: String((c.startMs + 180 * S) / 1000),
    step: '15',
  });
  return Object.fromEntries(result.map((r) => [r.metric.__name__!, r.values!.map(([t]) => t - c.startMs / 1000)]));
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

/** The checks of one case against one query endpoint. */
async function checkCase(t: import('ava').ExecutionContext, url: string, c: Case, where: string): Promise<void> {
  // The samples are visible (the whole request went in at once; in the distributed mode the
  // marker may still be on its way), then the marker is: polled, with a deadline.
  await waitFor(
    `${where}: the samples of case ${c.name}`,
    60_000,
    () => instant(url, c, c.startMs + 40 * S),
    (v) => v.it_ended === '3',
  );
  const after = c.startMs + 105 * S;
  await waitFor(
    `${where}: case ${c.name} ended by its marker`,
    60_000,
    () => instant(url, c, after),
    (v) => v.it_ended === undefined,
  );

  t.deepEqual(await instant(url, c, c.startMs + 40 * S), { it_ended: '3', it_live: '3' }, `${where} ${c.name}: before the marker`);
  t.deepEqual(
    await instant(url, c, after),
    { it_live: '3' },
    `${where} ${c.name}: 75 s after the last sample (inside the lookback), 60 s after the marker`,
  );
  t.deepEqual(
    await range(url, c),
    { it_ended: [0, 15, 30], it_live: [0, 15, 30, 45, 60, 75, 90, 105, 120, 135, 150, 165, 180] },
    `${where} ${c.name}: query_range ends the series at its marker; the control runs on for the lookback`,
  );
}

test.serial('sextant up (SQLite): a staleness marker from remote_write ends its series in query and query_range', async (t) => {
  const sextant = await startSextant({ dataDir: tempDataDir('sextant-stale-'), apiKey: KEY, args: ['--sync', 'normal'] });
  processes.push(sextant);
  await remoteWrite(sextant.url, [HOT, COLD]);
  await checkCase(t, sextant.url, HOT, 'sextant up');
  await checkCase(t, sextant.url, COLD, 'sextant up');
});

function runtimeConfig(id: string, hotWindow: string): Record<string, unknown> {
  return {
    pipeline: { namespace: 'st', name: id },
    http: { port: 0 },
    kafka: {
      brokers: infraVar('KAFKA_BROKERS').split(','),
      clientId: id,
      topics: { partitions: 2, replicationFactor: 1 },
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

async function startComponent(dir: string, component: 'ingestion' | 'processor' | 'query', config: object, name: string = component) {
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

test.serial('ingestion → Kafka → processor → OpenSearch and S3 → sextant query: the marker ends its series from either tier', async (t) => {
  const id = `st${randomBytes(4).toString('hex')}`;
  osPrefix = id;
  const s3 = s3ClientForS3Proxy({
    endpoint: infraVar('S3_ENDPOINT'),
    region: infraVar('S3_REGION'),
    forcePathStyle: true,
    credentials: { accessKeyId: infraVar('S3_ACCESS_KEY_ID'), secretAccessKey: infraVar('S3_SECRET_ACCESS_KEY') },
  });
  await s3.send(new CreateBucketCommand({ Bucket: id }));
  const dir = tempDataDir('sextant-stale-dist-');
  const ingestion = await startComponent(dir, 'ingestion', runtimeConfig(id, '7d'));
  await startComponent(dir, 'processor', runtimeConfig(id, '7d'));
  const openSearchOnly = await startComponent(dir, 'query', runtimeConfig(id, '7d'), 'query-hot');
  const tiered = await startComponent(dir, 'query', runtimeConfig(id, '1h'), 'query-tiered');
  await remoteWrite(ingestion.url, [HOT, COLD]);
  for (const c of [HOT, COLD]) await checkCase(t, openSearchOnly.url, c, 'OpenSearch');
  // With COLD's documents gone from OpenSearch, only S3 can answer for it: the tiered
  // runtime (1 h hot window) reads COLD (2 h old) from S3 and HOT from OpenSearch.
  const deleted = await fetch(`${infraVar('OPENSEARCH_URL')}/${id}-metrics-*/_delete_by_query?refresh=true`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: { term: { 'labels.case': COLD.name } } }),
  });
  t.is(((await deleted.json()) as { deleted?: number }).deleted, 7, 'the cold case: 6 samples and 1 marker');
  t.deepEqual(await instant(openSearchOnly.url, COLD, COLD.startMs + 40 * S), {}, 'OpenSearch no longer holds the cold case');
  for (const c of [HOT, COLD]) await checkCase(t, tiered.url, c, 'tiered');
  // One range over both tiers: each series comes through the hot + cold merge.
  const spanning = await prom(tiered.url, 'query_range', {
    query: '{__name__=~"it_ended|it_live"}',
    start: String(COLD.startMs / 1000),
    end: String((HOT.startMs + 180 * S) / 1000),
    step: '15',
  });
  const steps = (from: number, to: number) => Array.from({ length: (to - from) / 15 + 1 }, (_, i) => from + i * 15);
  t.deepEqual(
    Object.fromEntries(
      spanning.map((r) => {
        const c = r.metric.case === COLD.name ? COLD : HOT;
        return [`${r.metric.__name__} ${c.name}`, r.values!.map(([time]) => time - c.startMs / 1000)];
      }),
    ),
    {
      'it_ended cold': [0, 15, 30],
      'it_live cold': steps(0, 315),
      'it_ended hot': [0, 15, 30],
      'it_live hot': steps(0, 180),
    },
    'tiered: a range across the hot window boundary ends both ended series at their markers',
  );
});
