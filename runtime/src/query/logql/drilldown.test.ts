/**
 * The Logs Drilldown endpoints over the generated corpus, with the shapes GRAFANA-API.md
 * documents and values computed from the generated data.
 */
import type { AddressInfo } from 'node:net';
import type http from 'node:http';
import test from 'ava';
import express from 'express';
import { CORPUS_STREAMS, makeCorpus } from '../../../../test/logql/corpus.js';
import { silentLogger } from '../../common/log.js';
import type { LogPage, LogSelection } from '../../storage/reader.js';
import { FakeReader } from '../promql/fake-reader.js';
import { createLokiRouter } from '../api/loki.js';
import { DEFAULT_LOG_DISCOVERY } from '../../ingestion/log-discovery.js';

const NS = 1_000_000_000n;
const START = 1_700_000_000n * NS;
const corpus = makeCorpus(START);
const END = corpus[corpus.length - 1]!.timestampNs + NS;

/** The fake reader with structured metadata (`fields`) on the JSON stream: a request id. */
class ReaderWithFields extends FakeReader {
  override selectLogs(selection: LogSelection): LogPage {
    const page = super.selectLogs(selection);
    return {
      ...page,
      entries: page.entries.map((e) => ({ ...e, fields: e.labels.app === 'api' ? { request_id: `r${e.timestampNs % 7n}` } : {} })),
    };
  }
}

let server: http.Server;
let base: string;

test.before(async () => {
  const reader = new ReaderWithFields();
  for (const e of corpus) reader.addLog(e.labels, e.timestampNs, e.line);
  const app = express();
  app.use('/loki/api/v1', createLokiRouter({ reader, log: silentLogger(), now: () => END }));
  server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/loki/api/v1`;
});

test.after.always(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function get(path: string, params: Record<string, string>): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${base}${path}?${new URLSearchParams({ start: String(START), end: String(END), ...params })}`);
  const text = await res.text();
  return { status: res.status, json: res.status === 200 ? (JSON.parse(text) as Record<string, unknown>) : { error: text } };
}

const json = corpus.flatMap((e) => (e.source.kind === 'json' ? [e.source] : []));
const distinct = (xs: unknown[]) => new Set(xs.map(String)).size;

test('detected_fields: json fields with types, cardinality and jsonPath; structured metadata with parsers null', async (t) => {
  const { status, json: body } = await get('/detected_fields', { query: '{app="api"}', line_limit: '5000' });
  t.is(status, 200);
  const fields = body.fields as { label: string; type: string; cardinality: number; parsers: string[] | null; jsonPath?: string[] }[];
  const by = Object.fromEntries(fields.map((f) => [f.label, f]));
  t.is(body.limit, 1000);
  t.deepEqual(by.status, {
    label: 'status',
    type: 'int',
    cardinality: distinct(json.map((s) => s.status)),
    parsers: ['json'],
    jsonPath: ['status'],
  });
  t.deepEqual(by.latency, {
    label: 'latency',
    type: 'duration',
    cardinality: distinct(json.map((s) => s.latency)),
    parsers: ['json'],
    jsonPath: ['latency'],
  });
  t.deepEqual(by.size, {
    label: 'size',
    type: 'bytes',
    cardinality: distinct(json.map((s) => s.size)),
    parsers: ['json'],
    jsonPath: ['size'],
  });
  t.deepEqual(by.user_name, {
    label: 'user_name',
    type: 'string',
    cardinality: distinct(json.map((s) => s.user.name)),
    parsers: ['json'],
    jsonPath: ['user', 'name'],
  });
  const ints = json.every((s) => Number.isInteger(s.duration_ms));
  t.is(by.duration_ms!.type, ints ? 'int' : 'float');
  t.deepEqual(by.request_id, { label: 'request_id', type: 'string', cardinality: 7, parsers: null });
  t.false('app' in by, 'stream labels are not fields');

  const logfmt = await get('/detected_fields', { query: '{app="worker"}' });
  const lf = Object.fromEntries((logfmt.json.fields as { label: string; type: string; parsers: string[] }[]).map((f) => [f.label, f]));
  t.is(lf.duration!.type, 'duration');
  t.deepEqual(lf.level!.parsers, ['logfmt']);
  t.is(lf.job!.type, 'int');
});

test('detected_field/<name>/values and detected_labels', async (t) => {
  const values = await get('/detected_field/method/values', { query: '{app="api"}' });
  t.deepEqual(values.json, { values: [...new Set(json.map((s) => s.method))].sort() });
  const labels = await get('/detected_labels', { query: '' });
  const want = new Map<string, Set<string>>();
  for (const e of corpus) for (const [k, v] of Object.entries(e.labels)) (want.get(k) ?? want.set(k, new Set()).get(k)!).add(v);
  t.deepEqual(labels.json, {
    detectedLabels: [...want.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([label, set]) => ({ label, cardinality: set.size })),
  });
  t.is((await get('/detected_fields', {})).status, 400);
});

test('index/volume: bytes per selector label, sorted by volume; volume_range a matrix', async (t) => {
  const { json: body } = await get('/index/volume', { query: '{app=~".+"}', limit: '3' });
  const bytes = new Map<string, number>();
  for (const e of corpus) bytes.set(e.labels.app!, (bytes.get(e.labels.app!) ?? 0) + Buffer.byteLength(e.line));
  const top = [...bytes.entries()].sort((a, b) => b[1] - a[1]).slice(0, 3);
  const data = body.data as { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
  t.is(body.status, 'success');
  t.is(data.resultType, 'vector');
  t.deepEqual(
    data.result.map((r) => [r.metric, r.value[1]]),
    top.map(([app, b]) => [{ app }, String(b)]),
  );
  t.is(data.result[0]!.value[0], Number(END / NS));
  const byFormat = await get('/index/volume', { query: `{app="${CORPUS_STREAMS.json.app}"}`, targetLabels: 'format' });
  t.deepEqual(
    (byFormat.json.data as typeof data).result.map((r) => r.metric),
    [{ format: 'json' }],
  );
  const rangeBody = await get('/index/volume_range', { query: '{app="api"}', step: '60' });
  const matrix = rangeBody.json.data as { resultType: string; result: { metric: object; values: [number, string][] }[] };
  t.is(matrix.resultType, 'matrix');
  t.deepEqual(
    matrix.result.map((r) => r.metric),
    [{ app: 'api' }],
  );
  // Windows (t - 60 s, t] at t = START, START + 60 s, … ≤ END tile (START - 60 s, last step].
  const lastStep = START + ((END - START) / (60n * NS)) * 60n * NS;
  const wanted = corpus
    .filter((e) => e.labels.app === 'api' && e.timestampNs <= lastStep)
    .reduce((a, e) => a + Buffer.byteLength(e.line), 0);
  t.is(
    matrix.result[0]!.values.reduce((a, [, v]) => a + Number(v), 0),
    wanted,
  );
});

test('drilldown-limits, format_query and status/buildinfo have the shapes Grafana reads', async (t) => {
  const limits = await get('/drilldown-limits', {});
  t.is(limits.status, 200);
  t.like(limits.json, { pattern_ingester_enabled: true, limits: { volume_enabled: true, discover_log_levels: true } });
  const reported = limits.json.limits as { discover_service_name: string[]; log_level_fields: string[] };
  t.deepEqual(reported.discover_service_name, DEFAULT_LOG_DISCOVERY.discoverServiceName, 'what ingestion derives service_name from');
  t.deepEqual(reported.log_level_fields, DEFAULT_LOG_DISCOVERY.logLevelFields);
  t.is(typeof limits.json.version, 'string');
  const formatted = await get('/format_query', { query: '{app="api"}|json|status>=500' });
  t.deepEqual(formatted.json, { status: 'success', data: '{app="api"} | json | status >= 500' });
  t.is((await get('/format_query', { query: '{app="api"' })).status, 400);
  const build = await get('/status/buildinfo', {});
  t.is(typeof build.json.version, 'string');
});

test('structured metadata: entry fields are labels for filters and metrics, categorised on request', async (t) => {
  const api = corpus.filter((e) => e.labels.app === 'api');
  const rid = (ts: bigint) => `r${ts % 7n}`;
  const res = await get('/query_range', { query: '{app="api"} | request_id="r3"', limit: '1000', direction: 'forward' });
  const result = (res.json.data as { result: { stream: Record<string, string>; values: [string, string][] }[] }).result;
  t.deepEqual(
    result.flatMap((s) => s.values.map(([ts]) => ts)),
    api.filter((e) => rid(e.timestampNs) === 'r3').map((e) => String(e.timestampNs)),
  );
  t.true(
    result.every((s) => s.stream.request_id === 'r3' && s.stream.app === 'api'),
    'merged into the stream without the flag',
  );

  const cat = await fetch(
    `${base}/query_range?${new URLSearchParams({ query: '{app="api"} | json | __error__=""', start: String(START), end: String(END), limit: '1000', direction: 'forward' })}`,
    { headers: { 'X-Loki-Response-Encoding-Flags': 'categorize-labels' } },
  );
  const body = (await cat.json()) as {
    data: {
      encodingFlags: string[];
      result: { stream: object; values: [string, string, { structuredMetadata?: object; parsed?: Record<string, string> }][] }[];
    };
  };
  t.deepEqual(body.data.encodingFlags, ['categorize-labels']);
  t.deepEqual(
    body.data.result.map((s) => s.stream),
    [{ app: 'api', format: 'json' }],
  );
  const values = body.data.result[0]!.values;
  const good = api.flatMap((e) => (e.source.kind === 'json' ? [e] : []));
  t.deepEqual(
    values.map(([ts, , m]) => [ts, m.structuredMetadata, m.parsed?.method]),
    good.map((e) => [String(e.timestampNs), { request_id: rid(e.timestampNs) }, e.source.kind === 'json' ? e.source.method : '']),
  );

  const counts = await get('/query', { query: 'sum by (request_id) (count_over_time({app="api"}[1h]))', time: String(END) });
  const want = new Map<string, number>();
  for (const e of api) want.set(rid(e.timestampNs), (want.get(rid(e.timestampNs)) ?? 0) + 1);
  t.deepEqual(
    Object.fromEntries(
      (counts.json.data as { result: { metric: { request_id: string }; value: [number, string] }[] }).result.map((r) => [
        r.metric.request_id,
        Number(r.value[1]),
      ]),
    ),
    Object.fromEntries(want),
  );
});

test('patterns: templates of the selected lines, counted per step, each one usable as a |> filter', async (t) => {
  for (const app of ['web', 'worker', 'api']) {
    const lines = corpus.filter((e) => e.labels.app === app);
    const res = await get('/patterns', { query: `{app="${app}"}`, step: '60s' });
    t.is(res.status, 200);
    t.is(res.json.status, 'success');
    const data = res.json.data as { pattern: string; samples: [number, number][] }[];
    const counted = (p: { samples: [number, number][] }) => p.samples.reduce((n, [, c]) => n + c, 0);
    t.is(
      data.reduce((n, p) => n + counted(p), 0),
      lines.length,
      `${app}: every line in one pattern`,
    );
    t.true(data.length < lines.length, `${app}: ${data.length} patterns for ${lines.length} lines`);
    for (const p of data) {
      t.true(
        p.samples.every(([sec]) => Number.isInteger(sec) && (BigInt(sec) * NS - START) % (60n * NS) === 0n),
        'steps from start',
      );
      // What Drilldown does with a pattern: filter the stream by it.
      const back = await get('/query_range', { query: `{app="${app}"} |> \`${p.pattern}\``, limit: '1000' });
      t.is(back.status, 200, String(back.json.error));
      const result = (back.json.data as { result: { values: unknown[] }[] }).result;
      const n = result.reduce((acc, r) => acc + r.values.length, 0);
      t.true(n >= counted(p), `${JSON.stringify(p.pattern)}: ${n} lines match, ${counted(p)} counted`);
    }
  }
});

test('patterns: bad requests name what is wrong', async (t) => {
  const metric = await get('/patterns', { query: 'rate({app="api"}[1m])' });
  t.is(metric.status, 400);
  t.regex(String(metric.json.error), /patterns need a log query/);
  t.is((await get('/patterns', { query: '{app="api"}', step: '0' })).status, 400);
  t.regex(String((await get('/patterns', { query: '{app="api"}', line_limit: 'x' })).json.error), /line_limit/);
});
