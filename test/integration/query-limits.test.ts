/**
 * Query limits and isolation on a real `sextant up`, where ingestion and queries share one
 * process: a pathological query runs (in a worker thread) while /healthz, ingestion and other
 * queries keep answering, and is stopped at its deadline with 503 `timeout`; hostile or huge
 * queries each get a clear 4xx/422/503 and the process stays up.
 */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { startSextant, tempDataDir, type SextantProcess } from '../support/sextant-process.js';

const KEY = 'query-limits-key';
const SERIES = 2000;
const SAMPLES_PER_SERIES = 2;
/** Samples of one series `sx_big`: one read of it loads more than maxSamples. */
const BIG = 210_000;
const NOW_S = Math.floor(Date.now() / 1000);
const T0_MS = (NOW_S - 3600) * 1000;
const CATASTROPHIC_LINE = 'a'.repeat(34) + '!';
/** A generous per-request deadline: a hung process fails the test instead of hanging it. */
const REQUEST_DEADLINE_MS = 120_000;

let sextant: SextantProcess;

test.before(async () => {
  const dataDir = tempDataDir('sextant-limits-');
  const config = path.join(dataDir, 'config.yaml');
  fs.writeFileSync(config, 'query:\n  timeout: 4s\n  maxSamples: 200000\n  maxConcurrency: 4\n');
  sextant = await startSextant({ dataDir, apiKey: KEY, args: ['--config', config] });
  const samples = [];
  for (let i = 0; i < SERIES; i++) {
    for (let j = 0; j < SAMPLES_PER_SERIES; j++)
      samples.push({ name: 'sx_heavy', labels: { i: `${i}` }, timestamp: T0_MS + j * 15_000, value: j });
  }
  await ok(post('/api/v1/metrics', { samples }));
  for (let k = 0; k < BIG; k += 42_000) {
    const big = Array.from({ length: 42_000 }, (_, j) => ({ name: 'sx_big', labels: {}, timestamp: T0_MS - (k + j) * 1000, value: j }));
    await ok(post('/api/v1/metrics', { samples: big }));
  }
  const entries = [{ labels: { service: 'r' }, message: CATASTROPHIC_LINE, timestamp: T0_MS }];
  for (let i = 0; i < SERIES; i++)
    entries.push({ labels: { service: 'h', i: `${i}` } as never, message: `line ${i}`, timestamp: T0_MS + i });
  await ok(post('/api/v1/logs', { entries }));
});

test.after.always(async () => {
  await sextant?.stop();
});

function post(route: string, body: unknown): Promise<Response> {
  return fetch(`${sextant.url}${route}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(REQUEST_DEADLINE_MS),
  });
}

/** A form POST: Prometheus and Loki take queries too long for a URL this way. */
function postForm(route: string, params: Record<string, string>): Promise<Response> {
  return fetch(`${sextant.url}${route}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
    signal: AbortSignal.timeout(REQUEST_DEADLINE_MS),
  });
}

function get(route: string, params: Record<string, string> = {}): Promise<Response> {
  return fetch(`${sextant.url}${route}?${new URLSearchParams(params)}`, {
    headers: { authorization: `Bearer ${KEY}` },
    signal: AbortSignal.timeout(REQUEST_DEADLINE_MS),
  });
}

async function ok(response: Promise<Response>): Promise<unknown> {
  const res = await response;
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${res.url} → ${res.status}: ${text}`);
  return JSON.parse(text) as unknown;
}

/** A range of 11,000 one-second steps ending now (the most Prometheus and Loki allow). */
const RANGE = { start: `${NOW_S - 10_999}`, end: `${NOW_S}`, step: '1' };
const LOKI_RANGE = { start: `${NOW_S - 10_999}000000000`, end: `${NOW_S}000000000`, step: '1s' };
/**
 * 40 aggregations over 2,000 series at each of 11,000 steps: minutes of CPU on any machine,
 * far past the 4 s deadline, while loading only 40 × 4,000 samples (under maxSamples).
 * The LogQL one uses max, not sum: a sum over count_over_time folds lines straight into its
 * one group (cheap by design), while max must keep all 2,000 series at every step.
 */
const HEAVY_PROMQL = Array.from({ length: 40 }, () => 'sum(max_over_time(sx_heavy[100y]))').join(' + ');
const HEAVY_LOGQL = Array.from({ length: 40 }, () => 'max(count_over_time({service="h"}[100y]))').join(' + ');

test.serial('a pathological query is stopped at the deadline with 503 timeout while /healthz, ingestion and queries answer', async (t) => {
  let settled = false;
  const heavy = get('/api/v1/query_range', { query: HEAVY_PROMQL, ...RANGE }).finally(() => (settled = true));
  let rounds = 0;
  let pushed = 0;
  // Poll until the heavy query has answered; every round is three requests served meanwhile.
  while (!settled) {
    t.is((await fetch(`${sextant.url}/healthz`, { signal: AbortSignal.timeout(REQUEST_DEADLINE_MS) })).status, 200);
    const entry = { labels: { service: 'during' }, message: `pushed ${pushed}`, timestamp: (NOW_S - 10) * 1000 + pushed };
    await ok(post('/api/v1/logs', { entries: [entry] }));
    pushed++;
    const quick = (await ok(get('/loki/api/v1/query_range', { query: `{service="r"} |~ "(a+)+b"`, limit: '10' }))) as {
      data: { result: unknown[] };
    };
    t.deepEqual(quick.data.result, [], 'the catastrophic regex matches nothing and answers at once');
    if (!settled) rounds++;
  }
  t.true(rounds >= 3, `only ${rounds} rounds of /healthz, ingestion and a query were served while the heavy query ran`);
  const res = await heavy;
  t.is(res.status, 503);
  const body = (await res.json()) as { status: string; errorType: string; error: string };
  t.is(body.status, 'error');
  t.is(body.errorType, 'timeout');
  t.regex(body.error, /query timed out/);
  const during = (await ok(
    get('/loki/api/v1/query_range', { query: '{service="during"}', limit: '5000', start: `${NOW_S - 3600}000000000` }),
  )) as { data: { result: Array<{ values: unknown[] }> } };
  t.is(
    during.data.result.reduce((n, s) => n + s.values.length, 0),
    pushed,
    'every entry pushed during the heavy query is stored',
  );
});

test.serial('a pathological LogQL query answers 503 in Loki format (plain text) at the deadline', async (t) => {
  const res = await get('/loki/api/v1/query_range', { query: HEAVY_LOGQL, ...LOKI_RANGE });
  t.is(res.status, 503);
  t.regex(res.headers.get('content-type') ?? '', /^text\/plain/);
  t.regex(await res.text(), /query timed out/);
  t.is((await fetch(`${sextant.url}/healthz`)).status, 200);
});

interface BadInput {
  name: string;
  route: string;
  params: Record<string, string>;
  status: number[];
  body: RegExp;
}

const BAD_INPUTS: BadInput[] = [
  {
    name: 'a request timeout shorter than the configured deadline',
    route: '/api/v1/query_range',
    params: { query: HEAVY_PROMQL, ...RANGE, timeout: '1s' },
    status: [503],
    body: /"errorType":"timeout"/,
  },
  { name: 'an invalid timeout', route: '/api/v1/query', params: { query: '1', timeout: 'soon' }, status: [400], body: /timeout/ },
  {
    name: 'a backreference in a line filter',
    route: '/loki/api/v1/query_range',
    params: { query: '{service="r"} |~ "(a)\\\\1"' },
    status: [400],
    body: /invalid regular expression in line filter \|~ "\(a\)\\\\1".*unsupported/,
  },
  {
    name: 'a lookahead in a PromQL matcher',
    route: '/api/v1/query',
    params: { query: 'sx_heavy{i=~"(?=1)"}' },
    status: [400],
    body: /"errorType":"bad_data".*invalid regular expression.*unsupported/,
  },
  {
    name: 'a [100y] range loading more samples than maxSamples',
    route: '/api/v1/query',
    params: { query: 'count_over_time(sx_big[100y])' },
    status: [422],
    body: /"errorType":"execution".*too many samples/,
  },
  {
    name: 'deep nesting (PromQL)',
    route: '/api/v1/query',
    params: { query: '('.repeat(5000) + 'sx_heavy' + ')'.repeat(5000) },
    status: [400],
    body: /"errorType":"bad_data"/,
  },
  {
    name: 'deep nesting (LogQL)',
    route: '/loki/api/v1/query',
    params: { query: 'sum('.repeat(3000) + 'count_over_time({service="h"}[1m])' + ')'.repeat(3000) },
    status: [400],
    body: /parse error/,
  },
  { name: 'a huge topk k', route: '/api/v1/query', params: { query: 'topk(1e20, sx_heavy)' }, status: [422], body: /overflows int64/ },
  {
    name: '11,001 points per series (Prometheus)',
    route: '/api/v1/query_range',
    params: { query: 'sx_heavy', start: `${NOW_S - 11_001}`, end: `${NOW_S}`, step: '1' },
    status: [400],
    body: /11,000 points/,
  },
  {
    name: '11,001 points per series (Loki)',
    route: '/loki/api/v1/query_range',
    params: { query: 'count_over_time({service="h"}[1m])', start: `${NOW_S - 11_001}000000000`, end: `${NOW_S}000000000`, step: '1s' },
    status: [400],
    body: /11,000 points/,
  },
  {
    name: 'a subquery with a tiny resolution',
    route: '/api/v1/query',
    params: { query: 'max_over_time(sx_heavy[100y:1ms])' },
    status: [400, 422, 503],
    body: /"status":"error"/,
  },
];

test.serial('hostile or huge queries each get a clear 4xx/422/503 and the process stays up', async (t) => {
  for (const bad of BAD_INPUTS) {
    const res = await postForm(bad.route, bad.params);
    const text = await res.text();
    t.true(bad.status.includes(res.status), `${bad.name}: ${res.status} ${text.slice(0, 300)}`);
    t.regex(text, bad.body, bad.name);
    t.is((await fetch(`${sextant.url}/healthz`)).status, 200, `${bad.name}: /healthz after it`);
  }
  t.is(sextant.child.exitCode, null, 'sextant up is still running');
});
