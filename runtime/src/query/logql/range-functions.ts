/**
 * LogQL's range functions over one window of one series: `(t - range, t]`, with the
 * entries' timestamps, byte sizes and (for unwrapped ranges) values. One table entry per
 * function, so a new function is one line.
 */
import type { RangeOp } from './ast.js';

export interface Window {
  /** Timestamps of the series, ascending, ns. */
  ts: readonly bigint[];
  /** Unwrapped values, parallel to ts (empty for log ranges). */
  values: readonly number[];
  /** Cumulative byte sizes: bytesBefore[i] = bytes of entries 0..i-1. */
  bytesBefore: readonly number[];
  /** The window is entries [lo, hi). */
  lo: number;
  hi: number;
  /** Window bounds, ns: (startNs, endNs]. */
  startNs: bigint;
  endNs: bigint;
  rangeSeconds: number;
  /** φ of quantile_over_time. */
  param?: number;
}

type RangeFunction = (w: Window) => number;

function values(w: Window): readonly number[] {
  return w.values.slice(w.lo, w.hi);
}

function sum(w: Window): number {
  let s = 0;
  let c = 0;
  for (let i = w.lo; i < w.hi; i++) {
    // Kahan summation, as Prometheus and Loki sum.
    const v = w.values[i]!;
    const t = s + v;
    if (Math.abs(s) >= Math.abs(v)) c += s - t + v;
    else c += v - t + s;
    s = t;
  }
  return s + c;
}

function variance(w: Window): number {
  const n = w.hi - w.lo;
  const mean = sum(w) / n;
  let acc = 0;
  for (let i = w.lo; i < w.hi; i++) acc += (w.values[i]! - mean) ** 2;
  return acc / n;
}

/** Prometheus' quantile: linear interpolation between closest ranks; φ outside [0,1] is ±Inf. */
export function quantile(phi: number, input: readonly number[]): number {
  if (input.length === 0 || Number.isNaN(phi)) return NaN;
  if (phi < 0) return -Infinity;
  if (phi > 1) return Infinity;
  const sorted = [...input].sort((a, b) => a - b);
  const rank = phi * (sorted.length - 1);
  const lower = Math.max(0, Math.floor(rank));
  const upper = Math.min(sorted.length - 1, lower + 1);
  const weight = rank - Math.floor(rank);
  return sorted[lower]! * (1 - weight) + sorted[upper]! * weight;
}

/**
 * A counter's per-second rate over the window, extrapolated towards the window edges the
 * way Prometheus' rate() does (resets add the value before the reset).
 */
function counterRate(w: Window): number {
  const n = w.hi - w.lo;
  if (n < 2) return NaN;
  const first = w.values[w.lo]!;
  let last = first;
  let delta = 0;
  for (let i = w.lo + 1; i < w.hi; i++) {
    const v = w.values[i]!;
    if (v < last) delta += last;
    last = v;
  }
  delta += last - first;
  const firstT = Number(w.ts[w.lo]! - w.startNs) / 1e9;
  const lastT = Number(w.endNs - w.ts[w.hi - 1]!) / 1e9;
  const sampled = Number(w.ts[w.hi - 1]! - w.ts[w.lo]!) / 1e9;
  const avgInterval = sampled / (n - 1);
  let toStart = firstT;
  const toEnd = lastT;
  if (delta > 0 && first >= 0) {
    // A counter cannot go below zero: do not extrapolate past the point it would be 0.
    const toZero = sampled * (first / delta);
    if (toZero < toStart) toStart = toZero;
  }
  const threshold = avgInterval * 1.1;
  let extrapolate = sampled;
  extrapolate += toStart < threshold ? toStart : avgInterval / 2;
  extrapolate += toEnd < threshold ? toEnd : avgInterval / 2;
  return (delta * (extrapolate / sampled)) / w.rangeSeconds;
}

export const RANGE_FUNCTIONS: Record<Exclude<RangeOp, 'absent_over_time'>, { unwrapped: RangeFunction; log: RangeFunction }> = {
  count_over_time: { unwrapped: (w) => w.hi - w.lo, log: (w) => w.hi - w.lo },
  rate: { unwrapped: (w) => sum(w) / w.rangeSeconds, log: (w) => (w.hi - w.lo) / w.rangeSeconds },
  bytes_over_time: { unwrapped: NaNFn, log: (w) => w.bytesBefore[w.hi]! - w.bytesBefore[w.lo]! },
  bytes_rate: { unwrapped: NaNFn, log: (w) => (w.bytesBefore[w.hi]! - w.bytesBefore[w.lo]!) / w.rangeSeconds },
  rate_counter: { unwrapped: counterRate, log: NaNFn },
  sum_over_time: { unwrapped: sum, log: NaNFn },
  avg_over_time: { unwrapped: (w) => sum(w) / (w.hi - w.lo), log: NaNFn },
  min_over_time: { unwrapped: (w) => values(w).reduce((a, b) => (b < a || Number.isNaN(a) ? b : a)), log: NaNFn },
  max_over_time: { unwrapped: (w) => values(w).reduce((a, b) => (b > a || Number.isNaN(a) ? b : a)), log: NaNFn },
  stddev_over_time: { unwrapped: (w) => Math.sqrt(variance(w)), log: NaNFn },
  stdvar_over_time: { unwrapped: variance, log: NaNFn },
  quantile_over_time: { unwrapped: (w) => quantile(w.param ?? NaN, values(w)), log: NaNFn },
  first_over_time: { unwrapped: (w) => w.values[w.lo]!, log: NaNFn },
  last_over_time: { unwrapped: (w) => w.values[w.hi - 1]!, log: NaNFn },
};

/** The parser only pairs each function with the input it accepts; this fills the other slot. */
function NaNFn(): number {
  return NaN;
}
