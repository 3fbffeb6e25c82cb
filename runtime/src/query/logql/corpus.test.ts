/**
 * The LogQL corpus: queries over generated JSON, logfmt, Apache, multi-line, unicode and ANSI
 * lines (test/logql/corpus.ts). Each expected answer is computed here from the values the
 * lines were generated from, by plain code that shares nothing with the engine.
 */
import test from 'ava';
import {
  CORPUS_STREAMS,
  makeCorpus,
  type ApacheLine,
  type CorpusEntry,
  type JsonAccess,
  type LogfmtLine,
} from '../../../../test/logql/corpus.js';
import type { Labels } from '../../model/types.js';
import { FakeReader } from '../promql/fake-reader.js';
import { QueryError } from '../promql/errors.js';
import { evaluateLogQLInstant, evaluateLogQLRange, selectLogStreams } from './evaluate.js';
import { parseLogQL } from './parse.js';

const NS = 1_000_000_000n;
const START = 1_700_000_000n * NS;
const corpus = makeCorpus(START);
const END = corpus[corpus.length - 1]!.timestampNs + NS;

function reader(): FakeReader {
  const r = new FakeReader();
  for (const e of corpus) r.addLog(e.labels, e.timestampNs, e.line);
  return r;
}

interface Row {
  labels: Labels;
  line: string;
}

/** Runs a log query forward over the whole corpus; rows in time order. */
async function run(query: string): Promise<Row[]> {
  const expr = parseLogQL(query);
  if (expr.type !== 'logs') throw new Error('expected a log query');
  const streams = await selectLogStreams(expr, reader(), { startNs: START, endNs: END, limit: 5000, direction: 'forward' });
  return streams
    .flatMap((s) => s.entries.map((e) => ({ ts: e.timestampNs, labels: s.stream, line: e.line })))
    .sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0))
    .map(({ labels, line }) => ({ labels: sorted(labels), line }));
}

function sorted(labels: Labels): Labels {
  return Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

const of = <K extends CorpusEntry['source']['kind']>(kind: K) =>
  corpus.filter((e): e is CorpusEntry & { source: Extract<CorpusEntry['source'], { kind: K }> } => e.source.kind === kind);

const jsonStream = (e: CorpusEntry) => e.labels.app === 'api';

/** The labels `| json` gives a well-formed access line, written out by hand. */
function jsonLabels(s: JsonAccess): Labels {
  return {
    ...CORPUS_STREAMS.json,
    method: s.method,
    path: s.path,
    status: String(s.status),
    duration_ms: String(s.duration_ms),
    latency: s.latency,
    size: s.size,
    ip: s.ip,
    user_id: s.user.id,
    user_name: s.user.name,
    headers_user_agent: s.headers['user-agent']!,
  };
}

const JSON_ERROR = { __error__: 'JSONParserErr' };

function jsonRows(filter: (s: JsonAccess | undefined) => boolean): Row[] {
  return corpus.filter(jsonStream).flatMap((e) => {
    const s = e.source.kind === 'json' ? e.source : undefined;
    if (!filter(s)) return [];
    return [{ labels: sorted(s ? jsonLabels(s) : { ...e.labels, ...JSON_ERROR }), line: e.line }];
  });
}

function withoutDetails(rows: Row[]): Row[] {
  return rows.map((r) => ({ ...r, labels: Object.fromEntries(Object.entries(r.labels).filter(([k]) => k !== '__error_details__')) }));
}

test('corpus: the generated data has every kind of line', (t) => {
  for (const kind of ['json', 'badjson', 'logfmt', 'badlogfmt', 'apache', 'multiline', 'ansi', 'packed'] as const) {
    t.true(of(kind).length >= 3, kind);
  }
});

test('| json: flattened nested keys, arrays skipped, malformed lines keep __error__ and pass numeric filters', async (t) => {
  const rows = await run('{app="api"} | json | status >= 500');
  t.true(rows.some((r) => r.labels.__error__ === 'JSONParserErr'));
  t.true(rows.every((r) => r.labels.__error__ === undefined || r.labels.__error_details__ !== undefined));
  t.deepEqual(
    withoutDetails(rows),
    jsonRows((s) => s === undefined || s.status >= 500),
  );
  t.deepEqual(
    await run('{app="api"} | json | __error__ = "" | status >= 500'),
    jsonRows((s) => s !== undefined && s.status >= 500),
  );
  t.deepEqual(
    await run('{app="api"} | json | __error__ != "" | drop __error_details__'),
    jsonRows((s) => s === undefined),
  );
});

test('| json with parameters: nested paths, array indexes, quoted keys, objects as JSON text', async (t) => {
  const rows = await run(
    '{app="api"} | json code="status", tag="tags[0]", who="user.name", ua=`headers["user-agent"]`, user, method | __error__=""',
  );
  const expected = corpus.filter(jsonStream).flatMap((e) => {
    if (e.source.kind !== 'json') return [];
    const s = e.source;
    return [
      {
        labels: sorted({
          ...e.labels,
          code: String(s.status),
          tag: s.tags[0] ?? '',
          who: s.user.name,
          ua: s.headers['user-agent']!,
          user: JSON.stringify(s.user),
          method: s.method,
        }),
        line: e.line,
      },
    ];
  });
  t.deepEqual(rows, expected);
});

test('label filters: strings, numbers, durations, bytes with and / or / comma / parentheses', async (t) => {
  const ms = (d: string) => Number(d.replace('ms', ''));
  const kb = (b: string) => Number(b.replace('KB', '')) * 1000;
  t.deepEqual(
    await run('{app="api"} | json | __error__="" | latency >= 150ms and size < 2KB'),
    jsonRows((s) => s !== undefined && ms(s.latency) >= 150 && kb(s.size) < 2000),
  );
  t.deepEqual(
    await run('{app="api"} | json | __error__="" | (method="POST" or method=~"DEL.*"), duration_ms > 250.5'),
    jsonRows((s) => s !== undefined && (s.method === 'POST' || s.method.startsWith('DEL')) && s.duration_ms > 250.5),
  );
  t.deepEqual(
    await run('{app="api"} | json | __error__="" | status == 404 or status = 201 | user_name !~ "[a-z].*"'),
    jsonRows((s) => s !== undefined && (s.status === 404 || s.status === 201) && !/^[a-z]/.test(s.user.name)),
  );
  t.deepEqual(
    await run('{app="api"} | json | __error__="" | ip = ip("10.1.0.0/16") or ip = ip("10.2.3.1-10.2.3.100")'),
    jsonRows((s) => {
      if (s === undefined) return false;
      const [, b, c, d] = s.ip.split('.').map(Number) as [number, number, number, number];
      return b === 1 || (b === 2 && c === 3 && d >= 1 && d <= 100);
    }),
  );
  // A value that does not convert: the entry is kept with LabelFilterErr.
  const converted = await run('{app="api"} | json | __error__="" | user_name > 5');
  t.deepEqual(
    converted.map((r) => r.labels.__error__),
    jsonRows((s) => s !== undefined).map(() => 'LabelFilterErr'),
  );
});

test('| logfmt: quoted values, standalone keys, --keep-empty, --strict and its __error__', async (t) => {
  const lf = of('logfmt');
  const base = (s: LogfmtLine): Labels => ({
    ...CORPUS_STREAMS.logfmt,
    level: s.level,
    msg: s.msg,
    duration: s.duration,
    job: String(s.job),
  });
  t.deepEqual(
    await run('{app="worker"} | logfmt | duration > 1.5s'),
    lf.filter((e) => Number(e.source.duration.replace('s', '')) > 1.5).map((e) => ({ labels: sorted(base(e.source)), line: e.line })),
  );
  t.deepEqual(
    await run('{app="worker"} | logfmt --keep-empty | job < 30'),
    lf
      .filter((e) => e.source.job < 30)
      .map((e) => ({
        labels: sorted({ ...base(e.source), ...(e.source.retry ? { retry: '' } : {}), ...(e.source.empty ? { empty: '' } : {}) }),
        line: e.line,
      })),
  );
  // Non-strict: the unterminated quote is skipped, `level` before it still parsed.
  const lenient = await run('{app="worker"} | logfmt | level="error"');
  t.deepEqual(
    lenient.map((r) => r.line),
    corpus
      .filter(
        (e) => e.labels.app === 'worker' && (e.source.kind === 'badlogfmt' || (e.source.kind === 'logfmt' && e.source.level === 'error')),
      )
      .map((e) => e.line),
  );
  const strict = await run('{app="worker"} | logfmt --strict | __error__="LogfmtParserErr"');
  t.deepEqual(
    strict.map((r) => r.line),
    of('badlogfmt').map((e) => e.line),
  );
  t.deepEqual(
    await run('{app="worker"} | logfmt lvl="level", job | lvl="warn"'),
    lf
      .filter((e) => e.source.level === 'warn')
      .map((e) => ({ labels: sorted({ ...CORPUS_STREAMS.logfmt, lvl: 'warn', job: String(e.source.job) }), line: e.line })),
  );
});

const apache = of('apache');
const apacheLabels = (s: ApacheLine): Labels => ({
  ...CORPUS_STREAMS.apache,
  ip: s.ip,
  user: s.user,
  method: s.method,
  path: s.path,
  status: String(s.status),
  size: String(s.size),
});

test('| pattern and | regexp on Apache lines; bytes and ip filters on the captures', async (t) => {
  t.deepEqual(
    await run('{app="web"} | pattern `<ip> - <user> [<_>] "<method> <path> <_>" <status> <size>` | status=200 and size > 2KiB'),
    apache
      .filter((e) => e.source.status === 200 && e.source.size > 2048)
      .map((e) => ({ labels: sorted(apacheLabels(e.source)), line: e.line })),
  );
  t.deepEqual(
    await run(
      '{app="web"} | regexp `^(?P<ip>\\S+) - (?P<user>\\S+) \\[[^\\]]+\\] "(?P<method>\\w+) (?P<path>\\S+) [^"]+" (?P<status>\\d{3}) (?P<size>\\d+)$` | ip != ip("10.0.2.0/24")',
    ),
    apache.filter((e) => !e.source.ip.startsWith('10.0.2.')).map((e) => ({ labels: sorted(apacheLabels(e.source)), line: e.line })),
  );
  // A line the pattern does not fit gets no labels and no error.
  t.deepEqual(
    (await run('{app="java"} | pattern "<a> in thread <b>"')).map((r) => r.labels.b ?? null),
    of('multiline').map((e) => (e.line.includes(' in thread ') ? e.line.slice(e.line.indexOf(' in thread ') + 11) : null)),
  );
});

test('line filters: or-chains, negated or-chains, ip(), pattern filters, (?i), multi-line (?s), unicode', async (t) => {
  const lines = async (q: string) => (await run(q)).map((r) => r.line);
  const web = corpus.filter((e) => e.labels.app === 'web');
  t.deepEqual(
    await lines('{app="web"} |= "\\"DELETE " or "\\"PUT "'),
    web.filter((e) => /"(DELETE|PUT) /.test(e.line)).map((e) => e.line),
  );
  t.deepEqual(
    await lines('{app="web"} != "\\"GET " or "\\"POST "'),
    web.filter((e) => !/"(GET|POST) /.test(e.line)).map((e) => e.line),
  );
  t.deepEqual(
    await lines('{app="web"} |= ip("10.1.2.0-10.1.2.9")'),
    apache.filter((e) => e.source.ip.startsWith('10.1.2.') && Number(e.source.ip.split('.')[3]) <= 9).map((e) => e.line),
  );
  t.deepEqual(
    await lines('{app="web"} |> `<_> "GET <_>" 404 <_>`'),
    apache.filter((e) => e.source.method === 'GET' && e.source.status === 404).map((e) => e.line),
  );
  t.deepEqual(
    await lines('{app="web"} !> `<_> "GET <_>" <_>`'),
    apache.filter((e) => e.source.method !== 'GET').map((e) => e.line),
  );
  const cli = of('ansi');
  t.deepEqual(
    await lines('{app="cli"} |~ "(?i)error"'),
    cli.filter((e) => e.source.level === 'error').map((e) => e.line),
  );
  const java = of('multiline');
  t.deepEqual(
    await lines('{app="java"} |~ "(?s)Exception.+Main\\\\.java"'),
    java.filter((e) => e.line.startsWith('Exception')).map((e) => e.line),
  );
  t.deepEqual(
    await lines('{app="java"} |= "\\tat com.example.Main"'),
    java.map((e) => e.line),
  );
  t.deepEqual(
    await lines('{app="api"} |= "日本語"'),
    corpus.filter((e) => jsonStream(e) && e.source.kind === 'json' && e.source.user.name === '日本語').map((e) => e.line),
  );
});

test('| decolorize, | line_format with template functions, | label_format renames and templates', async (t) => {
  const cli = of('ansi');
  t.deepEqual(
    (await run('{app="cli"} | decolorize')).map((r) => r.line),
    cli.map((e) => `${e.source.level.toUpperCase()} ${e.source.text}`),
  );
  t.deepEqual(
    (await run('{app="cli"} | decolorize | pattern "<level> <_>" | level="ERROR"')).length,
    cli.filter((e) => e.source.level === 'error').length,
  );
  const json = of('json');
  t.deepEqual(
    (
      await run(
        '{app="api"} | json | __error__="" | line_format `{{ .method | ToLower }} {{ printf "%05.1f" (float64 .duration_ms) }} {{ trunc 3 .user_name }} {{ default "none" .tag }} {{ replace "/items/" "#" .path }} {{ if ge (int .status) 500 }}FAIL{{ else }}ok{{ end }}`',
      )
    ).map((r) => r.line),
    json.map((e) => {
      const s = e.source;
      const fixed = s.duration_ms.toFixed(1).padStart(5, '0');
      return `${s.method.toLowerCase()} ${fixed} ${[...s.user.name].slice(0, 3).join('')} none ${s.path.replace('/items/', '#')} ${s.status >= 500 ? 'FAIL' : 'ok'}`;
    }),
  );
  t.deepEqual(
    (
      await run(
        '{app="api"} | json | __error__="" | keep method, path | label_format route=path, verb=`{{ ToUpper .method }}-{{ regexReplaceAll "/items/(\\\\d+)" .path "n$1" }}`',
      )
    ).map((r) => r.labels),
    json.map((e) => sorted({ method: e.source.method, route: e.source.path, verb: `${e.source.method}-n${e.source.path.slice(7)}` })),
  );
  const first = corpus[0]!;
  const [row] = await run(
    `{app="api"} | line_format "{{ __timestamp__ | date \\"2006-01-02T15:04:05.000Z07:00\\" }} {{ __timestamp__ | unixEpoch }} {{ toDate \\"2006-01-02\\" \\"2024-02-29\\" | unixEpoch }} {{ len __line__ }}"`,
  );
  const ms = Number(first.timestampNs / 1_000_000n);
  t.is(
    row!.line,
    `${new Date(ms).toISOString()} ${Math.floor(ms / 1000)} ${Date.UTC(2024, 1, 29) / 1000} ${Buffer.byteLength(first.line)}`,
  );
});

test('| drop and | keep with matchers, | unpack', async (t) => {
  const json = of('json');
  t.deepEqual(
    (
      await run(
        '{app="api"} | json | __error__="" | drop method="GET", format, user_id, user_name, headers_user_agent, latency, size, ip, duration_ms',
      )
    ).map((r) => r.labels),
    json.map((e) =>
      sorted({
        app: 'api',
        path: e.source.path,
        status: String(e.source.status),
        ...(e.source.method === 'GET' ? {} : { method: e.source.method }),
      }),
    ),
  );
  t.deepEqual(
    (await run('{app="api"} | json | __error__="" | keep app, status=~"5.."')).map((r) => r.labels),
    json.map((e) => sorted({ app: 'api', ...(e.source.status >= 500 ? { status: String(e.source.status) } : {}) })),
  );
  t.deepEqual(
    await run('{app="packed"} | unpack'),
    of('packed').map((e) => ({ labels: sorted({ ...CORPUS_STREAMS.packed, pod: e.source.pod }), line: e.source.entry })),
  );
  // A parsed label named like a stream label becomes <name>_extracted.
  t.deepEqual(
    (await run('{app="api"} | json app="method" | __error__=""')).map((r) => r.labels.app_extracted),
    json.map((e) => e.source.method),
  );
});

test('metric queries over pipelines; a pipeline error in a metric query is a 400 naming the way out', async (t) => {
  const r = reader();
  const result = await evaluateLogQLInstant(
    (() => {
      const e = parseLogQL('sum by (status) (count_over_time({app="api"} | json | __error__="" [1h]))');
      if (e.type === 'logs') throw new Error('metric');
      return e;
    })(),
    r,
    END,
  );
  if (result.resultType !== 'vector') throw new Error('vector');
  const expected: Record<string, number> = {};
  for (const e of of('json')) expected[String(e.source.status)] = (expected[String(e.source.status)] ?? 0) + 1;
  t.deepEqual(Object.fromEntries(result.samples.map((s) => [s.metric.status!, s.value])), expected);

  const bad = parseLogQL('count_over_time({app="api"} | json [1h])');
  if (bad.type === 'logs') throw new Error('metric');
  const error = await t.throwsAsync(evaluateLogQLInstant(bad, r, END), { instanceOf: QueryError });
  t.regex(error!.message, /^pipeline error: 'JSONParserErr' for series: .*Use a label filter to intentionally skip this error/);
});

// ---------------------------------------------------------------- metric queries

function metricExpr(query: string) {
  const e = parseLogQL(query);
  if (e.type === 'logs') throw new Error('expected a metric query');
  return e;
}

/** An instant query at END over the whole corpus: label set (JSON) → value. */
async function instant(query: string): Promise<Record<string, number>> {
  const result = await evaluateLogQLInstant(metricExpr(query), reader(), END);
  if (result.resultType !== 'vector') throw new Error(`expected a vector, got ${result.resultType}`);
  return Object.fromEntries(result.samples.map((s) => [JSON.stringify(sorted(s.metric)), s.value]));
}

function groupBy<T>(items: T[], key: (x: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const x of items) out.set(key(x), [...(out.get(key(x)) ?? []), x]);
  return out;
}

/** Expected vector: one sample per group, labels {label: group}. */
function byLabel<T>(label: string, items: T[], key: (x: T) => string, value: (xs: T[]) => number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, xs] of groupBy(items, key)) out[JSON.stringify({ [label]: k })] = value(xs);
  return out;
}

function close(t: import('ava').ExecutionContext, actual: Record<string, number>, expected: Record<string, number>, what: string): void {
  t.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort(), what);
  for (const k of Object.keys(expected))
    t.true(
      Math.abs(actual[k]! - expected[k]!) <= 1e-9 * Math.max(1, Math.abs(expected[k]!)),
      `${what} ${k}: ${actual[k]} vs ${expected[k]}`,
    );
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const variance = (xs: number[]) => mean(xs.map((x) => (x - mean(xs)) ** 2));
function median(xs: number[], phi: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const pos = phi * (s.length - 1);
  const i = Math.floor(pos);
  return i + 1 < s.length ? s[i]! + (s[i + 1]! - s[i]!) * (pos - i) : s[i]!;
}

test('unwrapped range aggregations with by/without, conversions duration() and bytes()', async (t) => {
  const json = of('json').map((e) => e.source);
  const sel = '{app="api"} | json | __error__=""';
  const m = (s: JsonAccess) => s.method;
  close(
    t,
    await instant(`sum by (method) (sum_over_time(${sel} | unwrap duration_ms [1h]))`),
    byLabel('method', json, m, (xs) => xs.reduce((a, s) => a + s.duration_ms, 0)),
    'sum',
  );
  close(
    t,
    await instant(`sum_over_time(${sel} | unwrap duration_ms [1h]) by (method)`),
    byLabel('method', json, m, (xs) => xs.reduce((a, s) => a + s.duration_ms, 0)),
    'sum by',
  );
  close(
    t,
    await instant(`avg_over_time(${sel} | unwrap bytes(size) [1h]) by (method)`),
    byLabel('method', json, m, (xs) => mean(xs.map((s) => Number(s.size.replace('KB', '')) * 1000))),
    'avg bytes',
  );
  const latency = (xs: JsonAccess[]) => xs.map((s) => Number(s.latency.replace('ms', '')) / 1000);
  close(
    t,
    await instant(`quantile_over_time(0.9, ${sel} | unwrap duration(latency) [1h]) by (method)`),
    byLabel('method', json, m, (xs) => median(latency(xs), 0.9)),
    'p90',
  );
  close(
    t,
    await instant(`min_over_time(${sel} | unwrap duration(latency) [1h]) by (method)`),
    byLabel('method', json, m, (xs) => Math.min(...latency(xs))),
    'min',
  );
  close(
    t,
    await instant(`max_over_time(${sel} | unwrap duration_seconds(latency) [1h]) by (method)`),
    byLabel('method', json, m, (xs) => Math.max(...latency(xs))),
    'max',
  );
  close(
    t,
    await instant(`stddev_over_time(${sel} | unwrap duration_ms [1h]) by (method)`),
    byLabel('method', json, m, (xs) => Math.sqrt(variance(xs.map((s) => s.duration_ms)))),
    'stddev',
  );
  close(
    t,
    await instant(`stdvar_over_time(${sel} | unwrap duration_ms [1h]) by (method)`),
    byLabel('method', json, m, (xs) => variance(xs.map((s) => s.duration_ms))),
    'stdvar',
  );
  close(
    t,
    await instant(`first_over_time(${sel} | unwrap duration_ms [1h]) by (method)`),
    byLabel('method', json, m, (xs) => xs[0]!.duration_ms),
    'first',
  );
  close(
    t,
    await instant(`last_over_time(${sel} | unwrap duration_ms [1h]) by (method)`),
    byLabel('method', json, m, (xs) => xs[xs.length - 1]!.duration_ms),
    'last',
  );
  close(
    t,
    await instant(`rate(${sel} | unwrap duration_ms [1h]) by (method)`),
    byLabel('method', json, m, (xs) => xs.reduce((a, s) => a + s.duration_ms, 0) / 3600),
    'rate',
  );
  // without: everything but the listed labels; the unwrapped label itself is gone.
  const w = await instant(
    `sum_over_time({app="worker"} | logfmt | __error__="" | keep app, level, duration | unwrap duration(duration) | __error__="" [1h]) without (app)`,
  );
  const lf = of('logfmt').map((e) => e.source);
  close(
    t,
    w,
    byLabel(
      'level',
      lf,
      (s) => s.level,
      (xs) => xs.reduce((a, s) => a + Number(s.duration.replace('s', '')), 0),
    ),
    'without',
  );
});

test('unwrap of a non-numeric value: SampleExtractionErr, a 400 unless a filter after unwrap drops it', async (t) => {
  const error = await t.throwsAsync(instant('sum_over_time({app="api"} | json | __error__="" | unwrap user_name [1h])'), {
    instanceOf: QueryError,
  });
  t.regex(error!.message, /^pipeline error: 'SampleExtractionErr'/);
  t.deepEqual(await instant('sum_over_time({app="api"} | json | __error__="" | unwrap user_name | __error__="" [1h])'), {});
  // Lines without the label are errors too (the malformed logfmt lines have no job); the
  // filter after unwrap keeps the others.
  close(
    t,
    await instant('sum(sum_over_time({app="worker"} | logfmt | unwrap job | __error__="" [1h]))'),
    { '{}': of('logfmt').reduce((a, e) => a + e.source.job, 0) },
    'sum of the unwrappable lines',
  );
  await t.throwsAsync(instant('sum(sum_over_time({app="worker"} | logfmt | unwrap job [1h]))'), { message: /SampleExtractionErr/ });
});

test('absent_over_time, topk, sort_desc, stddev, label_replace and binary operators with vector matching', async (t) => {
  t.deepEqual(await instant('absent_over_time({app="nope", env=~"x"}[1h])'), { '{"app":"nope"}': 1 });
  t.deepEqual(await instant('absent_over_time({app="api"}[1h])'), {});
  const json = of('json').map((e) => e.source);
  const counts = byLabel(
    'method',
    json,
    (s) => s.method,
    (xs) => xs.length,
  );
  const sel = 'sum by (method) (count_over_time({app="api"} | json | __error__="" [1h]))';
  t.deepEqual(await instant(sel), counts);
  const top = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  t.deepEqual(await instant(`topk(1, ${sel})`), Object.fromEntries(top.slice(0, 1)));
  const result = await evaluateLogQLInstant(metricExpr(`sort_desc(${sel})`), reader(), END);
  if (result.resultType !== 'vector') throw new Error('vector');
  t.deepEqual(
    result.samples.map((s) => s.value),
    top.map(([, v]) => v),
  );
  close(t, await instant(`stddev(${sel})`), { '{}': Math.sqrt(variance(Object.values(counts))) }, 'stddev');
  t.deepEqual(
    await instant(`label_replace(${sel}, "verb", "x-$1", "method", "(P.*)")`),
    Object.fromEntries(
      Object.entries(counts).map(([k, v]) => {
        const method = (JSON.parse(k) as { method: string }).method;
        return [JSON.stringify(sorted({ method, ...(method.startsWith('P') ? { verb: `x-${method}` } : {}) })), v];
      }),
    ),
  );
  const errors = byLabel(
    'method',
    json.filter((s) => s.status >= 500),
    (s) => s.method,
    (xs) => xs.length,
  );
  const ratio = Object.fromEntries(Object.entries(errors).map(([k, v]) => [k, v / counts[k]!]));
  close(
    t,
    await instant(`sum by (method) (count_over_time({app="api"} | json | __error__="" | status >= 500 [1h])) / on(method) ${sel}`),
    ratio,
    'ratio',
  );
  close(t, await instant(`${sel} > bool 10`), Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, v > 10 ? 1 : 0])), 'bool');
});

test('range query: per-step windows (t - range, t] over a pipeline, no point for empty windows', async (t) => {
  const step = 30n * NS;
  const range = 45n * NS;
  const result = await evaluateLogQLRange(
    metricExpr('sum by (level) (count_over_time({app="worker"} | logfmt | __error__="" [45s]))'),
    reader(),
    START,
    END,
    step,
  );
  if (result.resultType !== 'matrix') throw new Error('matrix');
  const expected: Record<string, [number, number][]> = {};
  for (let ts = START; ts <= END; ts += step) {
    // The malformed lines start with level=error, which the lenient logfmt still reads.
    const inWindow = corpus.filter((e) => e.labels.app === 'worker' && e.timestampNs > ts - range && e.timestampNs <= ts);
    const level = (e: CorpusEntry) => (e.source.kind === 'logfmt' ? e.source.level : 'error');
    for (const [l, xs] of groupBy(inWindow, level)) (expected[l] ??= []).push([Number(ts / 1_000_000n), xs.length]);
  }
  t.deepEqual(Object.fromEntries(result.series.map((s) => [s.metric.level!, s.points.map((p) => [p.t, p.v])])), expected);
});
