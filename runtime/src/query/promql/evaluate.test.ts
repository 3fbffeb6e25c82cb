import test from 'ava';
import { evaluateInstant, evaluateRange, type QueryResult } from './evaluate.js';
import { QueryError } from './errors.js';
import { FakeReader } from './fake-reader.js';
import { formatResult, formatValue } from './format.js';
import { parsePromQL } from './parse.js';

const S = 1000;

/** A counter rising by 1/s, sampled every 15 s from 0 s to 120 s; a second instance at 2/s. */
function counters(): FakeReader {
  const reader = new FakeReader();
  const every15 = (perSecond: number): [number, number][] => Array.from({ length: 9 }, (_, i) => [i * 15 * S, i * 15 * perSecond]);
  reader.addSeries({ __name__: 'requests_total', job: 'api', instance: 'a' }, every15(1));
  reader.addSeries({ __name__: 'requests_total', job: 'api', instance: 'b' }, every15(2));
  reader.addSeries({ __name__: 'requests_total', job: 'db', instance: 'c' }, every15(0.5));
  return reader;
}

/** 15s:10, 30s:20, 45s:5 (counter reset), 60s:15. */
function resetCounter(): FakeReader {
  return new FakeReader().addSeries({ __name__: 'c', job: 'x' }, [
    [15 * S, 10],
    [30 * S, 20],
    [45 * S, 5],
    [60 * S, 15],
  ]);
}

async function instant(reader: FakeReader, query: string, timeMs: number): Promise<QueryResult> {
  return await evaluateInstant(parsePromQL(query), reader, timeMs);
}

async function vector(reader: FakeReader, query: string, timeMs: number): Promise<Record<string, number>> {
  const result = await instant(reader, query, timeMs);
  if (result.resultType !== 'vector') throw new Error(`expected a vector, got ${result.resultType}`);
  return Object.fromEntries(result.samples.map((s) => [JSON.stringify(s.metric), s.value]));
}

async function scalar(query: string, timeMs = 0): Promise<number> {
  const result = await instant(new FakeReader(), query, timeMs);
  if (result.resultType !== 'scalar') throw new Error(`expected a scalar, got ${result.resultType}`);
  return result.value;
}

test('scalar arithmetic, comparisons with bool, special values', async (t) => {
  t.is(await scalar('1+1'), 2);
  t.is(await scalar('2 ^ 3 ^ 2'), 512);
  t.is(await scalar('-2 ^ 2'), -4);
  t.is(await scalar('7 % 4'), 3);
  t.is(await scalar('1 / 0'), Infinity);
  t.is(await scalar('-1 / 0'), -Infinity);
  t.true(Number.isNaN(await scalar('0 / 0')));
  t.is(await scalar('3 > bool 2'), 1);
  t.is(await scalar('3 == bool 2'), 0);
  t.is(await scalar('time()', 4000), 4);
  t.is(await scalar('1 ^ NaN'), 1); // Go's math.Pow(1, NaN) = 1
  t.deepEqual(formatResult(await instant(new FakeReader(), '1+1', 4000)), { resultType: 'scalar', result: [4, '2'] });
});

test('string result', async (t) => {
  t.deepEqual(formatResult(await instant(new FakeReader(), '"hello"', 1500)), { resultType: 'string', result: [1.5, 'hello'] });
});

test('instant vector selector: latest sample within the 5m lookback, left-open', async (t) => {
  const reader = counters();
  // At 100 s the latest sample of instance a is the one at 90 s (value 90).
  t.deepEqual(await vector(reader, 'requests_total{instance="a"}', 100 * S), {
    '{"__name__":"requests_total","instance":"a","job":"api"}': 90,
  });
  // The last sample is at 120 s: it is still visible at 120 s + 5 m - 1 ms, gone at exactly +5 m.
  t.is(Object.keys(await vector(reader, 'requests_total{instance="a"}', 420 * S - 1)).length, 1);
  t.deepEqual(await vector(reader, 'requests_total{instance="a"}', 420 * S), {});
  // Regex matchers are anchored: "ap" does not match "api".
  t.deepEqual(await vector(reader, 'requests_total{job=~"ap"}', 100 * S), {});
  t.is(Object.keys(await vector(reader, 'requests_total{job=~"ap.*"}', 100 * S)).length, 2);
});

test('offset shifts the evaluation time', async (t) => {
  // At 100 s with offset 1m the selector looks at 40 s: latest sample 30 s → value 30.
  t.deepEqual(await vector(counters(), 'requests_total{instance="a"} offset 1m', 100 * S), {
    '{"__name__":"requests_total","instance":"a","job":"api"}': 30,
  });
});

test('rate/increase on a steady counter: samples 15 s apart inside a 1m window', async (t) => {
  // Window (0, 60] holds 15,30,45,60 s → values 15..60: increase 45 over 45 s; the first
  // sample is 15 s (< 1.1 × 15 s) from the window start, so extrapolate to the full 60 s:
  // increase = 45 × 60/45 = 60, rate = 60 / 60 = 1 — but Prometheus computes
  // 45 × ((60/45) / 60), which is 0.9999999999999999 in float64; we do the same.
  const reader = counters();
  t.deepEqual(await vector(reader, 'rate(requests_total{instance="a"}[1m])', 60 * S), {
    '{"instance":"a","job":"api"}': 0.9999999999999999,
  });
  t.deepEqual(await vector(reader, 'increase(requests_total{instance="a"}[1m])', 60 * S), { '{"instance":"a","job":"api"}': 60 });
  t.deepEqual(await vector(reader, 'rate(requests_total{instance="b"}[1m])', 60 * S), {
    '{"instance":"b","job":"api"}': 1.9999999999999998,
  });
});

test('rate extrapolation stops at the counter zero point and at half an interval from sparse edges', async (t) => {
  // Samples 10s:5, 20s:15, 30s:25, 40s:35; rate[1m] at 60 s. Increase 30 over 30 s, average
  // spacing 10 s (threshold 11 s). Start: 10 s away < 11 s, but the counter would reach 0
  // 5 s before the first sample (30 × 5/30), so extrapolate 5 s. End: 20 s away ≥ 11 s, so
  // extrapolate half a spacing, 5 s. increase = 30 × 40/30 = 40; rate = 40/60.
  const reader = new FakeReader().addSeries({ __name__: 'c' }, [
    [10 * S, 5],
    [20 * S, 15],
    [30 * S, 25],
    [40 * S, 35],
  ]);
  t.deepEqual(await vector(reader, 'increase(c[1m])', 60 * S), { '{}': 40 });
  t.deepEqual(await vector(reader, 'rate(c[1m])', 60 * S), { '{}': 0.6666666666666666 });
});

test('counter resets, irate, delta and the *_over_time functions', async (t) => {
  const reader = resetCounter();
  // 10 → 20 → 5 → 15: the reset adds back 20, so the raw increase is (15 - 10) + 20 = 25;
  // window (0, 60] starts 15 s before the first sample (= spacing < 16.5 s): × 60/45.
  t.deepEqual(await vector(reader, 'increase(c[1m])', 60 * S), { '{"job":"x"}': 33.33333333333333 });
  t.deepEqual(await vector(reader, 'rate(c[1m])', 60 * S), { '{"job":"x"}': 0.5555555555555555 });
  // irate: last two samples 45s:5 → 60s:15, (15 - 5) / 15 s.
  t.deepEqual(await vector(reader, 'irate(c[1m])', 60 * S), { '{"job":"x"}': 0.6666666666666666 });
  // delta (gauge, no reset handling): (15 - 10) × 60/45.
  t.deepEqual(await vector(reader, 'delta(c[1m])', 60 * S), { '{"job":"x"}': 6.666666666666666 });
  t.deepEqual(await vector(reader, 'sum_over_time(c[1m])', 60 * S), { '{"job":"x"}': 50 });
  t.deepEqual(await vector(reader, 'avg_over_time(c[1m])', 60 * S), { '{"job":"x"}': 12.5 });
  t.deepEqual(await vector(reader, 'min_over_time(c[1m])', 60 * S), { '{"job":"x"}': 5 });
  t.deepEqual(await vector(reader, 'max_over_time(c[1m])', 60 * S), { '{"job":"x"}': 20 });
  t.deepEqual(await vector(reader, 'count_over_time(c[1m])', 60 * S), { '{"job":"x"}': 4 });
  // last_over_time keeps the metric name, the others drop it.
  t.deepEqual(await vector(reader, 'last_over_time(c[1m])', 60 * S), { '{"__name__":"c","job":"x"}': 15 });
  // Windows are left-open: at 75 s the 15 s sample is out of (15, 75].
  t.deepEqual(await vector(reader, 'count_over_time(c[1m])', 75 * S), { '{"job":"x"}': 3 });
  // A single sample gives no rate.
  t.deepEqual(await vector(reader, 'rate(c[10s])', 60 * S), {});
});

test('math functions drop the name; round to nearest', async (t) => {
  const reader = new FakeReader().addSeries({ __name__: 'g', k: 'v' }, [[0, -2.5]]);
  t.deepEqual(await vector(reader, 'abs(g)', 0), { '{"k":"v"}': 2.5 });
  t.deepEqual(await vector(reader, 'ceil(g)', 0), { '{"k":"v"}': -2 });
  t.deepEqual(await vector(reader, 'floor(g)', 0), { '{"k":"v"}': -3 });
  t.deepEqual(await vector(reader, 'round(g)', 0), { '{"k":"v"}': -2 }); // half rounds up
  t.deepEqual(await vector(reader, 'round(g, 2)', 0), { '{"k":"v"}': -2 });
  t.deepEqual(await vector(reader, 'vector(3)', 0), { '{}': 3 });
  t.is((await instant(reader, 'scalar(g)', 0)).resultType, 'scalar');
  t.like(await instant(reader, 'scalar(g)', 0), { value: -2.5 });
  t.true(Number.isNaN(((await instant(reader, 'scalar(nothing)', 0)) as { value: number }).value));
});

test('aggregations: sum/avg/min/max/count by and without', async (t) => {
  const reader = counters();
  // At 60 s: a = 60, b = 120, c = 30.
  t.deepEqual(await vector(reader, 'sum(requests_total)', 60 * S), { '{}': 210 });
  t.deepEqual(await vector(reader, 'sum by (job) (requests_total)', 60 * S), { '{"job":"api"}': 180, '{"job":"db"}': 30 });
  t.deepEqual(await vector(reader, 'avg without (instance) (requests_total)', 60 * S), { '{"job":"api"}': 90, '{"job":"db"}': 30 });
  t.deepEqual(await vector(reader, 'min by (job) (requests_total)', 60 * S), { '{"job":"api"}': 60, '{"job":"db"}': 30 });
  t.deepEqual(await vector(reader, 'max(requests_total)', 60 * S), { '{}': 120 });
  t.deepEqual(await vector(reader, 'count by (job) (requests_total)', 60 * S), { '{"job":"api"}': 2, '{"job":"db"}': 1 });
  t.deepEqual(await vector(reader, 'sum by (nope) (requests_total)', 60 * S), { '{}': 210 });
  // increase() is exact here (45 × 60/45 = 60 etc.), so sum it: api 60 + 120, db 30.
  t.deepEqual(await vector(reader, 'sum by (job) (increase(requests_total[1m]))', 60 * S), { '{"job":"api"}': 180, '{"job":"db"}': 30 });
});

test('topk/bottomk keep the input labels, ordered', async (t) => {
  const result = await instant(counters(), 'topk(2, requests_total)', 60 * S);
  t.deepEqual(formatResult(result).result, [
    { metric: { __name__: 'requests_total', instance: 'b', job: 'api' }, value: [60, '120'] },
    { metric: { __name__: 'requests_total', instance: 'a', job: 'api' }, value: [60, '60'] },
  ]);
  t.deepEqual(await vector(counters(), 'bottomk by (job) (1, requests_total)', 60 * S), {
    '{"__name__":"requests_total","instance":"a","job":"api"}': 60,
    '{"__name__":"requests_total","instance":"c","job":"db"}': 30,
  });
});

test('topk/bottomk refuse a k beyond int64 or NaN even over an empty input', async (t) => {
  await t.throwsAsync(instant(counters(), 'topk(1e20, nonexistent)', 60 * S), { message: /Scalar value 1e\+20 overflows int64/ });
  await t.throwsAsync(instant(counters(), 'bottomk(NaN, nonexistent)', 60 * S), { message: /Parameter value is NaN/ });
  t.deepEqual(await vector(counters(), 'topk(0, requests_total)', 60 * S), {});
  // Below 1 answers nothing before the int64 check, as in Prometheus (the differential tier found it).
  t.deepEqual(await vector(counters(), 'topk(-1e20, requests_total)', 60 * S), {});
});

test('vector/scalar operators: arithmetic drops the name, filters keep it, bool gives 0/1', async (t) => {
  const reader = counters();
  t.deepEqual(await vector(reader, 'requests_total{job="db"} * 2', 60 * S), { '{"instance":"c","job":"db"}': 60 });
  t.deepEqual(await vector(reader, '100 - requests_total{job="db"}', 60 * S), { '{"instance":"c","job":"db"}': 70 });
  t.deepEqual(await vector(reader, 'requests_total > 50', 60 * S), {
    '{"__name__":"requests_total","instance":"a","job":"api"}': 60,
    '{"__name__":"requests_total","instance":"b","job":"api"}': 120,
  });
  // With the scalar on the left, a filter still returns the vector's value.
  t.deepEqual(await vector(reader, '50 < requests_total{instance="a"}', 60 * S), {
    '{"__name__":"requests_total","instance":"a","job":"api"}': 60,
  });
  t.deepEqual(await vector(reader, 'requests_total > bool 50', 60 * S), {
    '{"instance":"a","job":"api"}': 1,
    '{"instance":"b","job":"api"}': 1,
    '{"instance":"c","job":"db"}': 0,
  });
  t.deepEqual(await vector(reader, '-requests_total{job="db"}', 60 * S), { '{"instance":"c","job":"db"}': -30 });
});

test('vector/vector: one-to-one on identical labels, on(), ignoring(), set operators', async (t) => {
  const reader = counters();
  reader.addSeries({ __name__: 'limit', job: 'api', instance: 'a' }, [[0, 100]]);
  reader.addSeries({ __name__: 'limit', job: 'api', instance: 'b' }, [[0, 200]]);
  reader.addSeries({ __name__: 'jobinfo', job: 'api' }, [[0, 10]]);
  t.deepEqual(await vector(reader, 'requests_total / limit', 60 * S), {
    '{"instance":"a","job":"api"}': 0.6,
    '{"instance":"b","job":"api"}': 0.6,
  });
  t.deepEqual(await vector(reader, 'sum by (job) (requests_total) + on(job) jobinfo', 60 * S), { '{"job":"api"}': 190 });
  t.deepEqual(await vector(reader, 'requests_total{instance="a"} - ignoring(instance) jobinfo', 60 * S), { '{"job":"api"}': 50 });
  t.deepEqual(await vector(reader, 'requests_total and limit', 60 * S), {
    '{"__name__":"requests_total","instance":"a","job":"api"}': 60,
    '{"__name__":"requests_total","instance":"b","job":"api"}': 120,
  });
  t.deepEqual(await vector(reader, 'requests_total unless limit', 60 * S), {
    '{"__name__":"requests_total","instance":"c","job":"db"}': 30,
  });
  t.is(Object.keys(await vector(reader, 'limit or requests_total', 60 * S)).length, 3);
  t.deepEqual(await vector(reader, 'vector(1) + vector(1)', 0), { '{}': 2 });
  // Two api series match the one jobinfo series: Prometheus demands group_left.
  const error = await t.throwsAsync(() => instant(reader, 'requests_total - on(job) jobinfo', 60 * S), { instanceOf: QueryError });
  t.is(error?.type, 'execution');
  t.regex(error?.message ?? '', /many-to-one matching must be explicit/);
});

test('dropping the name must not merge series silently', async (t) => {
  const reader = new FakeReader().addSeries({ __name__: 'a', k: '1' }, [[0, 1]]).addSeries({ __name__: 'b', k: '1' }, [[0, 2]]);
  const error = await t.throwsAsync(() => instant(reader, 'abs({k="1"})', 0), { instanceOf: QueryError });
  t.is(error?.message, 'vector cannot contain metrics with the same labelset');
});

test('instant query of a matrix selector returns the raw samples', async (t) => {
  const result = await instant(resetCounter(), 'c[30s]', 60 * S);
  t.deepEqual(formatResult(result), {
    resultType: 'matrix',
    result: [
      {
        metric: { __name__: 'c', job: 'x' },
        values: [
          [45, '5'],
          [60, '15'],
        ],
      },
    ],
  });
});

test('range query: one fetch per selector for the whole window, points per step, sorted series', async (t) => {
  const reader = counters();
  // increase over 1m of a 1/s (a) and 2/s (b) counter sampled every 15 s: 60 and 120 at every step.
  const result = await evaluateRange(parsePromQL('increase(requests_total{job="api"}[1m])'), reader, 60 * S, 120 * S, 30 * S);
  t.deepEqual(formatResult(result), {
    resultType: 'matrix',
    result: [
      {
        metric: { instance: 'a', job: 'api' },
        values: [
          [60, '60'],
          [90, '60'],
          [120, '60'],
        ],
      },
      {
        metric: { instance: 'b', job: 'api' },
        values: [
          [60, '120'],
          [90, '120'],
          [120, '120'],
        ],
      },
    ],
  });
  t.is(reader.sampleSelections.length, 1);
  t.like(reader.sampleSelections[0], { startMs: 0, endMs: 120 * S });
});

test('range query: scalars become a series without labels; gaps stay gaps', async (t) => {
  const scalarResult = await evaluateRange(parsePromQL('time() * 2'), new FakeReader(), 0, 2 * S, S);
  t.deepEqual(formatResult(scalarResult).result, [
    {
      metric: {},
      values: [
        [0, '0'],
        [1, '2'],
        [2, '4'],
      ],
    },
  ]);
  // One sample at 0 s: visible until 5 m, so the step at 300 s has no point.
  const reader = new FakeReader().addSeries({ __name__: 'g' }, [[0, 7]]);
  const gap = await evaluateRange(parsePromQL('g'), reader, 0, 600 * S, 150 * S);
  t.deepEqual(formatResult(gap).result, [
    {
      metric: { __name__: 'g' },
      values: [
        [0, '7'],
        [150, '7'],
      ],
    },
  ]);
});

test('range query limits and types', async (t) => {
  const e1 = await t.throwsAsync(() => evaluateRange(parsePromQL('1'), new FakeReader(), 0, 11_001 * S, S), { instanceOf: QueryError });
  t.regex(e1?.message ?? '', /exceeded maximum resolution of 11,000 points per timeseries/);
  await t.notThrowsAsync(() => evaluateRange(parsePromQL('1'), new FakeReader(), 0, 11_000 * S, S));
  const e2 = await t.throwsAsync(() => evaluateRange(parsePromQL('up[5m]'), new FakeReader(), 0, 10 * S, S), { instanceOf: QueryError });
  t.is(e2?.message, 'invalid expression type "range vector" for range query, must be Scalar or instant Vector');
});

test('values are formatted like Go strconv.FormatFloat(v, f, -1)', async (t) => {
  t.is(formatValue(2), '2');
  t.is(formatValue(0.1), '0.1');
  t.is(formatValue(NaN), 'NaN');
  t.is(formatValue(Infinity), '+Inf');
  t.is(formatValue(-Infinity), '-Inf');
  t.is(formatValue(1e21), '1000000000000000000000');
  t.is(formatValue(1.5e-7), '0.00000015');
  t.is(formatValue(-1.25e22), '-12500000000000000000000');
  t.is(formatValue(123456789.125), '123456789.125');
});

test('subqueries evaluate at absolute multiples of their step inside (t - range, t]', async (t) => {
  const reader = new FakeReader().addSeries({ __name__: 'g' }, [
    [0, 1],
    [60 * S, 2],
    [120 * S, 3],
  ]);
  const result = await instant(reader, 'g[2m:40s]', 130 * S);
  // (10 s, 130 s]: 40, 80, 120 s.
  t.deepEqual(formatResult(result).result, [
    {
      metric: { __name__: 'g' },
      values: [
        [40, '1'],
        [80, '2'],
        [120, '3'],
      ],
    },
  ]);
  t.deepEqual(await vector(reader, 'max_over_time(g[2m:40s] offset 40s)', 130 * S), { '{}': 2 });
  t.deepEqual(await vector(reader, 'count_over_time(g[5m:])', 130 * S), { '{}': 3 }); // default step 1m: 0, 60, 120 s
});

test('@ pins a selector to a time, start() and end() to the range query bounds', async (t) => {
  const reader = new FakeReader().addSeries({ __name__: 'g' }, [
    [0, 1],
    [60 * S, 2],
    [120 * S, 3],
  ]);
  t.deepEqual(await vector(reader, 'g @ 61', 600 * S), { '{"__name__":"g"}': 2 });
  const range = await evaluateRange(parsePromQL('g @ end() - g @ start()'), reader, 0, 120 * S, 60 * S);
  t.deepEqual(formatResult(range).result, [
    {
      metric: {},
      values: [
        [0, '2'],
        [60, '2'],
        [120, '2'],
      ],
    },
  ]);
});

test('group_left copies the extra labels from the one side; offset binds to the selector before it', async (t) => {
  const reader = new FakeReader()
    .addSeries({ __name__: 'req', instance: 'a', path: '/x' }, [[0, 10]])
    .addSeries({ __name__: 'req', instance: 'a', path: '/y' }, [[0, 20]])
    .addSeries({ __name__: 'info', instance: 'a', version: '1.2' }, [[0, 1]]);
  t.deepEqual(await vector(reader, 'req * on(instance) group_left(version) info', 0), {
    '{"instance":"a","path":"/x","version":"1.2"}': 10,
    '{"instance":"a","path":"/y","version":"1.2"}': 20,
  });
  const error = await t.throwsAsync(() => instant(reader, 'req * on(instance) info', 0), { instanceOf: QueryError });
  t.is(error?.type, 'execution');
  t.deepEqual(await vector(counters(), 'requests_total{instance="a"} - requests_total{instance="a"} offset 1m', 120 * S), {
    '{"instance":"a","job":"api"}': 60,
  });
});

test('a staleness marker ends a series for instant selectors and range windows', async (t) => {
  const reader = new FakeReader().addSeries({ __name__: 'g' }, [
    [0, 1],
    [15 * S, 2],
    [30 * S, 'stale'],
    [45 * S, 4],
  ]);
  t.deepEqual(await vector(reader, 'g', 20 * S), { '{"__name__":"g"}': 2 });
  t.deepEqual(await vector(reader, 'g', 40 * S), {});
  t.deepEqual(await vector(reader, 'g', 50 * S), { '{"__name__":"g"}': 4 });
  t.deepEqual(await vector(reader, 'count_over_time(g[1m])', 50 * S), { '{}': 3 });
});

test('histogram_quantile over classic buckets: interpolation, missing +Inf, non-monotonic counts', async (t) => {
  const buckets = (instance: string, counts: Record<string, number>) =>
    Object.entries(counts).map(([le, v]) => [{ __name__: 'h_bucket', instance, le }, v] as const);
  const reader = new FakeReader();
  for (const [labels, v] of [
    ...buckets('ok', { '0.1': 50, '1': 90, '+Inf': 100 }),
    ...buckets('noinf', { '0.1': 50, '1': 90 }),
    ...buckets('dip', { '0.1': 60, '1': 50, '+Inf': 100 }),
  ]) {
    reader.addSeries(labels, [[0, v]]);
  }
  const q = await vector(reader, 'histogram_quantile(0.5, h_bucket)', 0);
  t.is(q['{"instance":"ok"}'], 0.1);
  t.true(Number.isNaN(q['{"instance":"noinf"}']));
  // 1's count (50) is forced up to 0.1's (60): the median is in the first bucket, and the 0.7
  // quantile past the last finite bound, which is the answer.
  t.is(q['{"instance":"dip"}'], 0.1 * (50 / 60));
  t.is((await vector(reader, 'histogram_quantile(0.7, h_bucket{instance="dip"})', 0))['{"instance":"dip"}'], 1);
  t.is((await vector(reader, 'histogram_quantile(0.7, h_bucket{instance="ok"})', 0))['{"instance":"ok"}'], 0.1 + 0.9 * (20 / 40));
});

test('aggregations: quantile, stddev, count_values, group', async (t) => {
  const reader = new FakeReader();
  [1, 2, 3, 4].forEach((v, i) => reader.addSeries({ __name__: 'x', i: String(i), odd: String(v % 2) }, [[0, v]]));
  t.deepEqual(await vector(reader, 'quantile(0.5, x)', 0), { '{}': 2.5 });
  t.deepEqual(await vector(reader, 'stddev(x)', 0), { '{}': Math.sqrt(1.25) });
  t.deepEqual(await vector(reader, 'count_values("v", x % 2)', 0), { '{"v":"0"}': 2, '{"v":"1"}': 2 });
  t.deepEqual(await vector(reader, 'group by (odd) (x)', 0), { '{"odd":"0"}': 1, '{"odd":"1"}': 1 });
});
