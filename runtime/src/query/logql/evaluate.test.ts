import test from 'ava';
import { QueryError } from '../promql/errors.js';
import { FakeReader } from '../promql/fake-reader.js';
import { formatResult } from '../promql/format.js';
import type { QueryResult } from '../promql/evaluate.js';
import type { LogQuery, MetricExpr } from './ast.js';
import { evaluateLogQLInstant, evaluateLogQLRange, selectLogStreams } from './evaluate.js';
import { parseLogQL } from './parse.js';

const NS = 1_000_000_000n;

/**
 * info:  10 s "GET /a 200", 20 s "GET /b 200", 70 s "POST /c 201"
 * error: 30 s "GET /d 500", 80 s "GET /e 500"
 * db:    15 s "query ok"
 */
function logs(): FakeReader {
  return new FakeReader()
    .addLog({ app: 'api', level: 'info' }, 10n * NS, 'GET /a 200')
    .addLog({ app: 'api', level: 'info' }, 20n * NS, 'GET /b 200')
    .addLog({ app: 'api', level: 'info' }, 70n * NS, 'POST /c 201')
    .addLog({ app: 'api', level: 'error' }, 30n * NS, 'GET /d 500')
    .addLog({ app: 'api', level: 'error' }, 80n * NS, 'GET /e 500')
    .addLog({ app: 'db' }, 15n * NS, 'query ok');
}

function metric(query: string): MetricExpr {
  const expr = parseLogQL(query);
  if (expr.type === 'logs') throw new Error('expected a metric query');
  return expr;
}

function logQuery(query: string): LogQuery {
  const expr = parseLogQL(query);
  if (expr.type !== 'logs') throw new Error('expected a log query');
  return expr;
}

function vector(result: QueryResult): Record<string, number> {
  if (result.resultType !== 'vector') throw new Error(`expected a vector, got ${result.resultType}`);
  // Label order is not part of the answer (Prometheus' JSON sorts it): compare sorted.
  const key = (m: Record<string, string>) => JSON.stringify(Object.fromEntries(Object.entries(m).sort(([a], [b]) => a.localeCompare(b))));
  return Object.fromEntries(result.samples.map((s) => [key(s.metric), s.value]));
}

test('log query backward: newest first, limit applies across streams, grouped by stream', async (t) => {
  const streams = await selectLogStreams(logQuery('{app="api"}'), logs(), {
    startNs: 0n,
    endNs: 100n * NS,
    limit: 3,
    direction: 'backward',
  });
  t.deepEqual(streams, [
    {
      stream: { app: 'api', level: 'error' },
      entries: [
        { timestampNs: 80n * NS, line: 'GET /e 500' },
        { timestampNs: 30n * NS, line: 'GET /d 500' },
      ],
    },
    { stream: { app: 'api', level: 'info' }, entries: [{ timestampNs: 70n * NS, line: 'POST /c 201' }] },
  ]);
});

test('log query forward with line filters; end is exclusive', async (t) => {
  const reader = logs();
  const streams = await selectLogStreams(logQuery('{app="api"} |= "GET" != "/b"'), reader, {
    startNs: 10n * NS,
    endNs: 80n * NS,
    limit: 100,
    direction: 'forward',
  });
  t.deepEqual(streams, [
    { stream: { app: 'api', level: 'info' }, entries: [{ timestampNs: 10n * NS, line: 'GET /a 200' }] },
    { stream: { app: 'api', level: 'error' }, entries: [{ timestampNs: 30n * NS, line: 'GET /d 500' }] },
  ]);
  t.deepEqual(reader.logSelections[0]?.lineFilters, [
    { op: '|=', value: 'GET' },
    { op: '!=', value: '/b' },
  ]);
  const regex = await selectLogStreams(logQuery('{app="api"} |~ "5\\\\d\\\\d$"'), reader, {
    startNs: 0n,
    endNs: 100n * NS,
    limit: 100,
    direction: 'forward',
  });
  t.deepEqual(
    regex.flatMap((s) => s.entries.map((e) => e.line)),
    ['GET /d 500', 'GET /e 500'],
  );
});

test('count_over_time, rate, bytes_over_time, bytes_rate over a (t - range, t] window', async (t) => {
  const reader = logs();
  // Window (0, 60]: info has 10 s and 20 s (10 bytes each), error has 30 s (10 bytes).
  t.deepEqual(vector(await evaluateLogQLInstant(metric('count_over_time({app="api"}[1m])'), reader, 60n * NS)), {
    '{"app":"api","level":"info"}': 2,
    '{"app":"api","level":"error"}': 1,
  });
  t.deepEqual(vector(await evaluateLogQLInstant(metric('rate({app="api"}[1m])'), reader, 60n * NS)), {
    '{"app":"api","level":"info"}': 2 / 60,
    '{"app":"api","level":"error"}': 1 / 60,
  });
  t.deepEqual(vector(await evaluateLogQLInstant(metric('bytes_over_time({app="api"}[1m])'), reader, 60n * NS)), {
    '{"app":"api","level":"info"}': 20,
    '{"app":"api","level":"error"}': 10,
  });
  t.deepEqual(vector(await evaluateLogQLInstant(metric('bytes_rate({app="api", level="info"}[10s])'), reader, 20n * NS)), {
    '{"app":"api","level":"info"}': 1, // (10, 20] holds only the 20 s entry: 10 bytes / 10 s
  });
  // Bytes are UTF-8 bytes: "héllo" is 6.
  const utf8 = new FakeReader().addLog({ app: 'x' }, 1n * NS, 'héllo');
  t.deepEqual(vector(await evaluateLogQLInstant(metric('bytes_over_time({app="x"}[1m])'), utf8, 10n * NS)), { '{"app":"x"}': 6 });
  // offset 1m at 120 s looks at (0, 60].
  t.deepEqual(vector(await evaluateLogQLInstant(metric('count_over_time({app="api", level="error"}[1m] offset 1m)'), reader, 120n * NS)), {
    '{"app":"api","level":"error"}': 1,
  });
});

test('Grafana logs-volume query over a range: absent detected_level, no point for empty windows', async (t) => {
  const reader = logs();
  const query = 'sum by (level, detected_level) (count_over_time({app="api"} |= "GET" | drop __error__ [1m]))';
  const result = await evaluateLogQLRange(metric(query), reader, 60n * NS, 120n * NS, 30n * NS);
  // 60 s: (0, 60] info 10,20 → 2; error 30 → 1. 90 s: (30, 90] info only has POST (filtered) → none;
  // error 80 → 1. 120 s: (60, 120] error 80 → 1.
  t.deepEqual(formatResult(result), {
    resultType: 'matrix',
    result: [
      {
        metric: { level: 'error' },
        values: [
          [60, '1'],
          [90, '1'],
          [120, '1'],
        ],
      },
      { metric: { level: 'info' }, values: [[60, '2']] },
    ],
  });
  // One pass over the whole window: (start - range, end], forward.
  t.is(reader.logSelections.length, 1);
  t.like(reader.logSelections[0], { startNs: 0n, endNs: 120n * NS + 1n, direction: 'forward' });
});

test('vector(1)+vector(1) (Grafana health check) and arithmetic with precedence', async (t) => {
  t.deepEqual(formatResult(await evaluateLogQLInstant(metric('vector(1)+vector(1)'), new FakeReader(), 4n * NS)), {
    resultType: 'vector',
    result: [{ metric: {}, value: [4, '2'] }],
  });
  t.like(await evaluateLogQLInstant(metric('1 + 2 * 3'), new FakeReader(), 0n), { resultType: 'scalar', value: 7 });
  t.deepEqual(vector(await evaluateLogQLInstant(metric('sum(count_over_time({app="api"}[1m])) * 2 + 1'), logs(), 60n * NS)), { '{}': 7 });
  t.deepEqual(vector(await evaluateLogQLInstant(metric('count_over_time({app="api"}[1m]) > 1'), logs(), 60n * NS)), {
    '{"app":"api","level":"info"}': 2,
  });
  t.deepEqual(vector(await evaluateLogQLInstant(metric('topk(1, count_over_time({app="api"}[1m]))'), logs(), 60n * NS)), {
    '{"app":"api","level":"info"}': 2,
  });
});

test('group_left/group_right: each series of the many side takes the value of the one side and its listed labels', async (t) => {
  // The share of each level in its app's lines: many (app, level) per one app.
  const share =
    'sum by (app, level) (count_over_time({app="api"}[1m])) / on (app) group_left sum by (app) (count_over_time({app="api"}[1m]))';
  t.deepEqual(vector(await evaluateLogQLInstant(metric(share), logs(), 60n * NS)), {
    '{"app":"api","level":"error"}': 1 / 3,
    '{"app":"api","level":"info"}': 2 / 3,
  });
  // group_right with an extra label copied from the one side (level, from the left).
  const right =
    'max by (app, level) (count_over_time({app="api", level="error"}[1m])) * on (app) group_right (level) sum by (app, path) (count_over_time({app="api"} | pattern "<_> <path> <_>" [1m]))';
  t.deepEqual(vector(await evaluateLogQLInstant(metric(right), logs(), 60n * NS)), {
    '{"app":"api","level":"error","path":"/a"}': 1,
    '{"app":"api","level":"error","path":"/b"}': 1,
    '{"app":"api","level":"error","path":"/d"}': 1,
  });
  // Two series on the one side for a match: Prometheus' error, not a silent pick.
  await t.throwsAsync(
    evaluateLogQLInstant(
      metric(
        'sum by (app) (count_over_time({app="api"}[1m])) / on (app) group_left sum by (app, level) (count_over_time({app="api"}[1m]))',
      ),
      logs(),
      60n * NS,
    ),
    { instanceOf: QueryError, message: /many-to-many matching not allowed|multiple matches/ },
  );
});

test('metric queries page through the reader and refuse more than the entry cap', async (t) => {
  const reader = logs();
  const result = await evaluateLogQLInstant(metric('count_over_time({app="api"}[2m])'), reader, 100n * NS, { pageSize: 2 });
  t.deepEqual(vector(result), { '{"app":"api","level":"info"}': 3, '{"app":"api","level":"error"}': 2 });
  t.is(reader.logSelections.length, 3); // 2 + 2 + 1 entries
  t.is(reader.logSelections[1]?.cursor, '2');
  const error = await t.throwsAsync(
    () => evaluateLogQLInstant(metric('count_over_time({app="api"}[2m])'), logs(), 100n * NS, { pageSize: 2, maxEntries: 4 }),
    { instanceOf: QueryError },
  );
  t.regex(error?.message ?? '', /^query too large: it would read more than 4 log entries/);
});

test('range limits: 11,000 points per series, positive step', async (t) => {
  const e1 = await t.throwsAsync(() => evaluateLogQLRange(metric('vector(1)'), new FakeReader(), 0n, 11_001n * NS, NS), {
    instanceOf: QueryError,
  });
  t.regex(e1?.message ?? '', /exceeded maximum resolution of 11,000 points per timeseries/);
  await t.throwsAsync(() => evaluateLogQLRange(metric('vector(1)'), new FakeReader(), 0n, NS, 0n), {
    message: /zero or negative query resolution step/,
  });
});

test('rate_counter: counter resets and Prometheus-style extrapolation, worked by hand', async (t) => {
  const r = new FakeReader();
  [0, 10, 20, 30, 5].forEach((v, i) => r.addLog({ app: 'c' }, BigInt(10 * (i + 1)) * NS, `v=${v}`));
  // Window (0, 60]: increase 30 + 5 = 35 over samples 10 s..50 s (40 s, 10 s apart). The
  // counter starts at 0, so no extrapolation before the first sample; 10 s after the last.
  // 35 × (40 + 0 + 10) / 40 / 60 s.
  const result = await evaluateLogQLInstant(metric('rate_counter({app="c"} | logfmt | unwrap v [60s])'), r, 60n * NS);
  t.deepEqual(Object.keys(vector(result)), ['{"app":"c"}']);
  t.true(Math.abs(Object.values(vector(result))[0]! - (35 * 50) / 40 / 60) < 1e-12);
  // One sample is not enough for a rate.
  t.deepEqual(vector(await evaluateLogQLInstant(metric('rate_counter({app="c"} | logfmt | unwrap v [5s])'), r, 30n * NS)), {});
});

/** A formatted result with its values to 12 significant digits: sums in another order differ in the last bits. */
function rounded(result: unknown): unknown {
  const round = (_k: string, v: unknown) => (typeof v === 'string' && /^[\d.e+-]+$/.test(v) ? Number(Number(v).toPrecision(12)) : v);
  return JSON.parse(JSON.stringify(result, round)) as unknown;
}

test('sum by/without over count_over_time, rate, bytes_*: the same answer as summing the series one by one', async (t) => {
  // `| json` gives every line its own series (distinct id and path); the sum loads straight into its groups.
  const reader = new FakeReader();
  for (let i = 0; i < 200; i++) {
    const line = JSON.stringify({ level: i % 7 === 0 ? 'error' : 'info', id: i, path: `/p/${i % 13}` });
    reader.addLog({ app: 'api', pod: `p${i % 3}` }, BigInt(i * 3 + 1) * NS, line);
  }
  const range = async (q: string) => formatResult(await evaluateLogQLRange(metric(q), reader, 60n * NS, 600n * NS, 30n * NS));
  for (const fn of ['count_over_time', 'rate', 'bytes_over_time', 'bytes_rate']) {
    for (const grouping of ['by (level)', 'by (level, pod)', 'without (id, path)', 'by ()']) {
      const inner = `${fn}({app="api"} | json [1m])`;
      // label_replace with a no-op keeps every series apart until the sum: the plain path.
      const direct = await range(`sum ${grouping} (${inner})`);
      const oneByOne = await range(`sum ${grouping} (label_replace(${inner}, "unused", "", "unused", ""))`);
      t.deepEqual(rounded(direct), rounded(oneByOne), `sum ${grouping} (${inner})`);
    }
  }
  // Worked by hand: lines at 1 s, 4 s, … (every 3 s); the window (540 s, 600 s] holds 20 lines, 3 of them errors (i = 182, 189, 196).
  const byLevel = await evaluateLogQLInstant(metric('sum by (level) (count_over_time({app="api"} | json [1m]))'), reader, 600n * NS);
  t.deepEqual(vector(byLevel), { '{"level":"error"}': 3, '{"level":"info"}': 17 });
});
