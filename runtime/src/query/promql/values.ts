/** The values PromQL expressions evaluate to, one evaluation step at a time. */
import { canonicalLabels } from '../../model/labels.js';
import type { Labels } from '../../model/types.js';
import { QueryError } from './errors.js';

/** One element of an instant vector. */
export interface InstantSample {
  metric: Labels;
  value: number;
  /** The stored sample's own time (ms): set by selectors only, read by timestamp(). */
  ts?: number;
}

export type Value = { type: 'scalar'; value: number } | { type: 'string'; value: string } | { type: 'vector'; samples: InstantSample[] };

/** One series of a range vector: the points [lo, hi) of times/values. */
export interface RangeSeries {
  metric: Labels;
  times: readonly number[];
  values: readonly number[];
  lo: number;
  hi: number;
}

/** A range vector at one evaluation step: the window (rangeStart, rangeEnd] of each series. */
export interface RangeValue {
  type: 'matrix';
  series: RangeSeries[];
  rangeStart: number;
  rangeEnd: number;
  rangeMs: number;
}

// Label sets are never modified once built, and a series' labels are the same object at every
// step: the engine memoises what it derives from them (a range query derives it per step).
const keys = new WeakMap<Labels, string>();
const withoutName = new WeakMap<Labels, Labels>();

/** canonicalLabels(metric), memoised per label-set object. */
export function labelsKey(metric: Labels): string {
  let key = keys.get(metric);
  if (key === undefined) {
    key = canonicalLabels(metric);
    keys.set(metric, key);
  }
  return key;
}

/** The labels without `__name__` (the same object for the same input). */
export function dropName(metric: Labels): Labels {
  if (!('__name__' in metric)) return metric;
  let rest = withoutName.get(metric);
  if (!rest) {
    const { __name__: _, ...others } = metric;
    rest = others;
    withoutName.set(metric, rest);
  }
  return rest;
}

/** Prometheus fails a step whose vector holds two elements with the same labels. */
export function assertUniqueLabelSets(samples: InstantSample[]): void {
  if (samples.length < 2) return;
  const seen = new Set<string>();
  for (const s of samples) {
    const key = labelsKey(s.metric);
    if (seen.has(key)) throw new QueryError('execution', 'vector cannot contain metrics with the same labelset');
    seen.add(key);
  }
}

/** Kahan–Neumaier summation step, as Prometheus' kahansum.Inc. */
export function kahanSumInc(inc: number, sum: number, c: number): [number, number] {
  const t = sum + inc;
  if (!Number.isFinite(t) && !Number.isNaN(t)) return [t, 0];
  if (Math.abs(sum) >= Math.abs(inc)) c += sum - t + inc;
  else c += inc - t + sum;
  return [t, c];
}

/** Kahan–Neumaier summation, as Prometheus uses for sum and sum_over_time. */
export function kahanSum(values: readonly number[], lo = 0, hi = values.length): number {
  let sum = 0;
  let c = 0;
  for (let i = lo; i < hi; i++) [sum, c] = kahanSumInc(values[i]!, sum, c);
  return sum + c;
}

/**
 * Prometheus' mean: Kahan-summed, switching to an incremental mean if the sum would
 * overflow (avg and avg_over_time).
 */
export function mean(values: readonly number[], lo = 0, hi = values.length): number {
  let sum = values[lo]!;
  let c = 0;
  let avg = 0;
  let incremental = false;
  for (let i = lo + 1; i < hi; i++) {
    const v = values[i]!;
    const count = i - lo + 1;
    if (!incremental) {
      const [newSum, newC] = kahanSumInc(v, sum, c);
      if (newSum !== Infinity && newSum !== -Infinity) {
        sum = newSum;
        c = newC;
        continue;
      }
      incremental = true;
      avg = sum / (count - 1);
      c /= count - 1;
    }
    const q = (count - 1) / count;
    [avg, c] = kahanSumInc(v / count, q * avg, q * c);
  }
  const n = hi - lo;
  return incremental ? avg + c : sum / n + c / n;
}

/** Index of the first element greater than x (arr ascending). */
export function upperBound(arr: readonly number[], x: number, lo = 0, hi = arr.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Prometheus' quantile over values (φ-quantile with linear interpolation; NaN sorts first). */
export function quantile(q: number, input: readonly number[]): number {
  if (input.length === 0 || Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const values = [...input].sort((a, b) => (Number.isNaN(a) ? (Number.isNaN(b) ? 0 : -1) : Number.isNaN(b) ? 1 : a - b));
  const n = values.length;
  const rank = q * (n - 1);
  const lower = Math.max(0, Math.floor(rank));
  const upper = Math.min(n - 1, lower + 1);
  const weight = rank - Math.floor(rank);
  if (weight === 0) return values[lower]!;
  return values[lower]! * (1 - weight) + values[upper]! * weight;
}

/** Prometheus' labels.Compare: sorted pairs compared name first, then value. */
export function compareLabels(a: Labels, b: Labels): number {
  const an = Object.keys(a).sort();
  const bn = Object.keys(b).sort();
  for (let i = 0; i < Math.min(an.length, bn.length); i++) {
    const x = an[i]!;
    const y = bn[i]!;
    if (x !== y) return x < y ? -1 : 1;
    const xv = a[x]!;
    const yv = b[y]!;
    if (xv !== yv) return xv < yv ? -1 : 1;
  }
  return an.length - bn.length;
}
