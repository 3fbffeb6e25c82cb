import test from 'ava';
import { aggregateSeries } from './native-aggregate.js';

const series = (labels: Record<string, string>, points: Array<[number, number]>) => ({
  labels,
  timestampsMs: points.map((p) => p[0]),
  values: points.map((p) => p[1]),
});

// Steps at 10, 20, 30 s; step t covers (t - 10 s, t].
const q = { startMs: 10_000, endMs: 30_000, stepMs: 10_000 };
const a = series({ job: 'a', pod: '1' }, [
  [1_000, 1],
  [5_000, 3],
  [10_000, 5], // last sample of the first step
  [15_000, 2],
  [25_000, 8],
]);
const b = series({ job: 'a', pod: '2' }, [
  [9_000, 10],
  [19_000, 20],
]);

test('per-series aggregation over each step window', (t) => {
  t.deepEqual(aggregateSeries([a], { ...q, aggregation: 'avg' })[0]!.points, [
    [10_000, 3],
    [20_000, 2],
    [30_000, 8],
  ]);
  t.deepEqual(aggregateSeries([a], { ...q, aggregation: 'count' })[0]!.points, [
    [10_000, 3],
    [20_000, 1],
    [30_000, 1],
  ]);
  t.deepEqual(aggregateSeries([a], { ...q, aggregation: 'max' })[0]!.points, [
    [10_000, 5],
    [20_000, 2],
    [30_000, 8],
  ]);
});

test('rate: per-second increase within the window, a drop counts as a reset', (t) => {
  const counter = series({ job: 'c' }, [
    [11_000, 100],
    [13_000, 104],
    [15_000, 2], // reset: +2
    [19_000, 10], // +8
  ]);
  // (4 + 2 + 8) / (19 - 11) s = 1.75/s; windows with fewer than two samples have no rate.
  t.deepEqual(aggregateSeries([counter], { ...q, aggregation: 'rate' })[0]!.points, [[20_000, 1.75]]);
});

test('by: series sharing the labels are combined, others dropped', (t) => {
  const sum = aggregateSeries([a, b], { ...q, aggregation: 'sum', by: ['job'] });
  t.deepEqual(sum, [
    {
      labels: { job: 'a' },
      points: [
        [10_000, 19], // a: 1+3+5, b: 10
        [20_000, 22], // a: 2, b: 20
        [30_000, 8],
      ],
    },
  ]);
  const min = aggregateSeries([a, b], { ...q, aggregation: 'min', by: ['pod'] });
  t.deepEqual(
    min.map((s) => s.labels),
    [{ pod: '1' }, { pod: '2' }],
  );
});

test('staleness markers are not samples: not averaged, not counted', (t) => {
  const marked = {
    ...series({ job: 'a' }, [
      [1_000, 2],
      [5_000, NaN],
      [15_000, NaN],
    ]),
    staleTimestampsMs: [5_000, 15_000],
  };
  t.deepEqual(aggregateSeries([marked], { ...q, aggregation: 'avg' })[0]!.points, [[10_000, 2]]);
  t.deepEqual(aggregateSeries([marked], { ...q, aggregation: 'count' })[0]!.points, [[10_000, 1]]);
});
