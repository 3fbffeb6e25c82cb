/**
 * The PromQL function table: each function's signature (checked by the parser) and its
 * evaluation at one step (called by the evaluator with the evaluated arguments). A new
 * function is one more entry here. Semantics follow Prometheus 3's promql/functions.go.
 */
import { compileRegex, expand, RegexError, type Regex } from '../../common/regex.js';
import type { Labels } from '../../model/types.js';
import type { Expr, ValueType } from './ast.js';
import { QueryError } from './errors.js';
import { bucketFraction, bucketQuantile, parseBound, type Bucket } from './histogram.js';
import { canonicalLabels, LABEL_NAME } from '../../model/labels.js';
import {
  dropName,
  kahanSum,
  kahanSumInc,
  mean,
  quantile,
  type InstantSample,
  type RangeSeries,
  type RangeValue,
  type Value,
} from './values.js';

export type Argument = Value | RangeValue;

export interface CallContext {
  /** The evaluation time, ms. */
  t: number;
  /** The argument expressions (absent() reads the matchers, timestamp() the selector). */
  exprs: Expr[];
}

export interface FunctionDef {
  args: readonly ValueType[];
  /** How many trailing arguments may be left out. */
  optional?: number;
  /** The last argument type may repeat any number of times (label_join). */
  variadic?: boolean;
  returns: ValueType;
  call(args: Argument[], ctx: CallContext): Value;
}

// ---------------------------------------------------------------------------------------
// Argument helpers.

function vectorArg(arg: Argument | undefined): InstantSample[] {
  if (arg?.type !== 'vector') throw new QueryError('internal', 'expected an instant vector argument');
  return arg.samples;
}

function scalarArg(arg: Argument | undefined): number {
  if (arg?.type !== 'scalar') throw new QueryError('internal', 'expected a scalar argument');
  return arg.value;
}

function stringArg(arg: Argument | undefined): string {
  if (arg?.type !== 'string') throw new QueryError('internal', 'expected a string argument');
  return arg.value;
}

function rangeArg(arg: Argument | undefined): RangeValue {
  if (arg?.type !== 'matrix') throw new QueryError('internal', 'expected a range vector argument');
  return arg;
}

const vector = (samples: InstantSample[]): Value => ({ type: 'vector', samples });

/** f over each element's value; the metric name is dropped. */
function elementwise(f: (x: number, args: Argument[], ctx: CallContext) => number): FunctionDef['call'] {
  return (args, ctx) => vector(vectorArg(args[0]).map((s) => ({ metric: dropName(s.metric), value: f(s.value, args, ctx) })));
}

function simple(f: (x: number) => number): FunctionDef {
  return { args: ['vector'], returns: 'vector', call: elementwise((x) => f(x)) };
}

/**
 * f over each series' window; undefined drops the series. The metric name is dropped except
 * for first/last_over_time, as in Prometheus.
 */
function overRange(
  f: (w: RangeSeries, range: RangeValue, args: Argument[], ctx: CallContext) => number | undefined,
  keepName = false,
): FunctionDef['call'] {
  return (args, ctx) => {
    const range = rangeArg(args.find((a) => a.type === 'matrix'));
    const out: InstantSample[] = [];
    for (const w of range.series) {
      if (w.hi <= w.lo) continue;
      const value = f(w, range, args, ctx);
      if (value === undefined) continue;
      out.push({ metric: keepName ? w.metric : dropName(w.metric), value });
    }
    return vector(out);
  };
}

function rangeFn(
  f: (w: RangeSeries, range: RangeValue, args: Argument[], ctx: CallContext) => number | undefined,
  keepName = false,
): FunctionDef {
  return { args: ['matrix'], returns: 'vector', call: overRange(f, keepName) };
}

// ---------------------------------------------------------------------------------------
// Range-vector computations.

/**
 * Prometheus' extrapolatedRate: the increase between the first and last sample in the
 * window (with counter resets added back), extrapolated towards the window edges when the
 * samples come close to them, and divided by the range for rate().
 */
function extrapolatedRate(w: RangeSeries, range: RangeValue, isCounter: boolean, isRate: boolean): number | undefined {
  const n = w.hi - w.lo;
  if (n < 2) return undefined;
  const firstT = w.times[w.lo]!;
  const lastT = w.times[w.hi - 1]!;
  const firstV = w.values[w.lo]!;
  let result = w.values[w.hi - 1]! - firstV;
  if (isCounter) {
    let prev = firstV;
    for (let i = w.lo + 1; i < w.hi; i++) {
      const v = w.values[i]!;
      if (v < prev) result += prev;
      prev = v;
    }
  }
  let durationToStart = (firstT - range.rangeStart) / 1000;
  let durationToEnd = (range.rangeEnd - lastT) / 1000;
  const sampledInterval = (lastT - firstT) / 1000;
  const averageDurationBetweenSamples = sampledInterval / (n - 1);
  const extrapolationThreshold = averageDurationBetweenSamples * 1.1;
  if (durationToStart >= extrapolationThreshold) durationToStart = averageDurationBetweenSamples / 2;
  if (isCounter && result > 0 && firstV >= 0) {
    // A counter cannot go below zero: do not extrapolate past the point where it would be 0.
    const durationToZero = sampledInterval * (firstV / result);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  if (durationToEnd >= extrapolationThreshold) durationToEnd = averageDurationBetweenSamples / 2;
  let factor = (sampledInterval + durationToStart + durationToEnd) / sampledInterval;
  if (isRate) factor /= range.rangeMs / 1000;
  return result * factor;
}

/** irate/idelta: the last two samples. */
function instantValue(w: RangeSeries, isRate: boolean): number | undefined {
  if (w.hi - w.lo < 2) return undefined;
  const last = w.values[w.hi - 1]!;
  const prev = w.values[w.hi - 2]!;
  const interval = w.times[w.hi - 1]! - w.times[w.hi - 2]!;
  if (interval === 0) return undefined;
  const diff = isRate && last < prev ? last : last - prev; // a counter reset starts again from 0
  return isRate ? diff / (interval / 1000) : diff;
}

/** Prometheus' linearRegression (Kahan sums, x in seconds from interceptTime). */
function linearRegression(w: RangeSeries, interceptTime: number): [number, number] {
  let n = 0;
  let sumX = 0;
  let cX = 0;
  let sumY = 0;
  let cY = 0;
  let sumXY = 0;
  let cXY = 0;
  let sumX2 = 0;
  let cX2 = 0;
  const initY = w.values[w.lo]!;
  let constY = true;
  for (let i = w.lo; i < w.hi; i++) {
    const y = w.values[i]!;
    if (constY && i > w.lo && y !== initY) constY = false;
    n += 1;
    const x = (w.times[i]! - interceptTime) / 1e3;
    [sumX, cX] = kahanSumInc(x, sumX, cX);
    [sumY, cY] = kahanSumInc(y, sumY, cY);
    [sumXY, cXY] = kahanSumInc(x * y, sumXY, cXY);
    [sumX2, cX2] = kahanSumInc(x * x, sumX2, cX2);
  }
  if (constY) return Number.isFinite(initY) || Number.isNaN(initY) ? [0, initY] : [NaN, NaN];
  sumX += cX;
  sumY += cY;
  sumXY += cXY;
  sumX2 += cX2;
  const covXY = sumXY - (sumX * sumY) / n;
  const varX = sumX2 - (sumX * sumX) / n;
  const slope = covXY / varX;
  return [slope, sumY / n - (slope * sumX) / n];
}

/** Welford's variance with Kahan-compensated mean, as varianceOverTime. */
function varianceOverTime(w: RangeSeries): number {
  let count = 0;
  let avg = 0;
  let cMean = 0;
  let aux = 0;
  let cAux = 0;
  for (let i = w.lo; i < w.hi; i++) {
    const f = w.values[i]!;
    count++;
    const delta = f - (avg + cMean);
    [avg, cMean] = kahanSumInc(delta / count, avg, cMean);
    [aux, cAux] = kahanSumInc(delta * (f - (avg + cMean)), aux, cAux);
  }
  return (aux + cAux) / count;
}

function extremeOverTime(w: RangeSeries, better: (candidate: number, current: number) => boolean): number {
  let result = w.values[w.lo]!;
  for (let i = w.lo + 1; i < w.hi; i++) {
    const v = w.values[i]!;
    if (Number.isNaN(result) || better(v, result)) result = v;
  }
  return result;
}

// ---------------------------------------------------------------------------------------
// Labels.

/** Labels for absent()/absent_over_time(): the equality matchers of a plain selector. */
function absentLabels(expr: Expr | undefined): Labels {
  const selector = expr?.type === 'vectorSelector' ? expr : expr?.type === 'matrixSelector' ? expr.selector : undefined;
  if (!selector) return {};
  const out: Labels = {};
  const has = new Set<string>();
  for (const m of selector.matchers) {
    if (m.name === '__name__') continue;
    if (m.op === '=' && !has.has(m.name)) {
      out[m.name] = m.value;
      has.add(m.name);
    } else {
      delete out[m.name];
    }
  }
  return out;
}

function checkLabelName(name: string, what: string): void {
  // Prometheus 3 accepts any non-empty UTF-8 label name.
  if (name === '' || !name.isWellFormed()) throw new QueryError('execution', `invalid ${what} label name in ${name}`);
}

function compileAnchored(source: string, what: string): Regex {
  try {
    // Fully anchored, `.` matching newlines, as Prometheus' ^(?s:…)$.
    return compileRegex(source, { anchored: true, dotAll: true });
  } catch (error) {
    if (error instanceof RegexError) throw new QueryError('execution', `${error.message} in ${what}()`);
    throw error;
  }
}

function withLabel(metric: Labels, name: string, value: string): Labels {
  const out = { ...metric };
  if (value === '') delete out[name];
  else out[name] = value;
  return out;
}

// ---------------------------------------------------------------------------------------
// Dates: Go's time.Unix(int64(v), 0).UTC().

function dateFn(f: (d: Date) => number): FunctionDef {
  return {
    args: ['vector'],
    optional: 1,
    returns: 'vector',
    call: (args, ctx) => {
      if (args.length === 0) return vector([{ metric: {}, value: f(new Date(Math.floor(ctx.t / 1000) * 1000)) }]);
      return vector(
        vectorArg(args[0]).map((s) => {
          const seconds = Math.trunc(s.value);
          // Go converts NaN and out-of-range floats to the minimum int64; such dates are not
          // representable here, so they answer NaN.
          const date = new Date(seconds * 1000);
          return { metric: dropName(s.metric), value: Number.isFinite(s.value) && !Number.isNaN(date.getTime()) ? f(date) : NaN };
        }),
      );
    },
  };
}

const daysInMonth = (d: Date): number => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
const dayOfYear = (d: Date): number => Math.floor((d.getTime() - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000) + 1;

// ---------------------------------------------------------------------------------------
// Histograms over classic `le` buckets.

/** A bucket series' bound, and its histogram's key and output labels (without le and __name__). */
const bucketCache = new WeakMap<Labels, { upperBound: number; key: string; metric: Labels }>();

function bucketOf(metric: Labels): { upperBound: number; key: string; metric: Labels } {
  let entry = bucketCache.get(metric);
  if (!entry) {
    const { le, ...rest } = metric;
    entry = { upperBound: le === undefined ? NaN : parseBound(le), key: canonicalLabels(rest), metric: dropName(rest) };
    bucketCache.set(metric, entry);
  }
  return entry;
}

function bucketsBySeries(samples: InstantSample[]): { metric: Labels; buckets: Bucket[] }[] {
  const groups = new Map<string, { metric: Labels; buckets: Bucket[] }>();
  for (const s of samples) {
    const { upperBound, key, metric } = bucketOf(s.metric);
    if (Number.isNaN(upperBound)) continue;
    let group = groups.get(key);
    if (!group) {
      group = { metric, buckets: [] };
      groups.set(key, group);
    }
    group.buckets.push({ upperBound, count: s.value });
  }
  return [...groups.values()];
}

// ---------------------------------------------------------------------------------------
// Sorting: NaN last in both directions.

function byValue(desc: boolean): (a: InstantSample, b: InstantSample) => number {
  return (a, b) => {
    if (Number.isNaN(a.value)) return Number.isNaN(b.value) ? 0 : 1;
    if (Number.isNaN(b.value)) return -1;
    return desc ? b.value - a.value : a.value - b.value;
  };
}

/** sort / sort_desc (shared with LogQL): by value, NaN last either way, ties in input order. */
export function sortByValue(samples: readonly InstantSample[], desc: boolean): InstantSample[] {
  return [...samples].sort(byValue(desc));
}

/** label_replace (shared with LogQL): `dst` set from `replacement` where `regex` matches all of `src`. */
export function labelReplace(
  samples: readonly InstantSample[],
  dst: string,
  replacement: string,
  src: string,
  regexSource: string,
): InstantSample[] {
  const regex = compileAnchored(regexSource, 'label_replace');
  if (!LABEL_NAME.test(dst) && (dst === '' || !dst.isWellFormed())) {
    throw new QueryError('execution', `invalid destination label name in label_replace(): ${dst}`);
  }
  return samples.map((s) => {
    const match = regex.matchWhole(s.metric[src] ?? '');
    if (!match) return s;
    return { metric: withLabel(s.metric, dst, expand(replacement, match)), value: s.value };
  });
}

function clamp(samples: InstantSample[], lo: number, hi: number): Value {
  if (hi < lo) return vector([]);
  return vector(samples.map((s) => ({ metric: dropName(s.metric), value: Math.max(lo, Math.min(hi, s.value)) })));
}

const sgn = (x: number): number => (x > 0 ? 1 : x < 0 ? -1 : x);

export const FUNCTIONS: Record<string, FunctionDef> = {
  time: { args: [], returns: 'scalar', call: (_, ctx) => ({ type: 'scalar', value: ctx.t / 1000 }) },
  pi: { args: [], returns: 'scalar', call: () => ({ type: 'scalar', value: Math.PI }) },
  vector: { args: ['scalar'], returns: 'vector', call: (args) => vector([{ metric: {}, value: scalarArg(args[0]) }]) },
  scalar: {
    args: ['vector'],
    returns: 'scalar',
    call: (args) => {
      const samples = vectorArg(args[0]);
      return { type: 'scalar', value: samples.length === 1 ? samples[0]!.value : NaN };
    },
  },

  rate: rangeFn((w, r) => extrapolatedRate(w, r, true, true)),
  increase: rangeFn((w, r) => extrapolatedRate(w, r, true, false)),
  delta: rangeFn((w, r) => extrapolatedRate(w, r, false, false)),
  irate: rangeFn((w) => instantValue(w, true)),
  idelta: rangeFn((w) => instantValue(w, false)),
  deriv: rangeFn((w) => (w.hi - w.lo < 2 ? undefined : linearRegression(w, w.times[w.lo]!)[0])),
  predict_linear: {
    args: ['matrix', 'scalar'],
    returns: 'vector',
    call: overRange((w, _, args, ctx) => {
      if (w.hi - w.lo < 2) return undefined;
      const [slope, intercept] = linearRegression(w, ctx.t);
      return slope * scalarArg(args[1]) + intercept;
    }),
  },
  changes: rangeFn((w) => {
    let changes = 0;
    for (let i = w.lo + 1; i < w.hi; i++) {
      const cur = w.values[i]!;
      const prev = w.values[i - 1]!;
      if (cur !== prev && !(Number.isNaN(cur) && Number.isNaN(prev))) changes++;
    }
    return changes;
  }),
  resets: rangeFn((w) => {
    let resets = 0;
    for (let i = w.lo + 1; i < w.hi; i++) if (w.values[i]! < w.values[i - 1]!) resets++;
    return resets;
  }),
  sum_over_time: rangeFn((w) => kahanSum(w.values, w.lo, w.hi)),
  avg_over_time: rangeFn((w) => mean(w.values, w.lo, w.hi)),
  count_over_time: rangeFn((w) => w.hi - w.lo),
  min_over_time: rangeFn((w) => extremeOverTime(w, (v, cur) => v < cur)),
  max_over_time: rangeFn((w) => extremeOverTime(w, (v, cur) => v > cur)),
  last_over_time: rangeFn((w) => w.values[w.hi - 1], true),
  first_over_time: rangeFn((w) => w.values[w.lo], true),
  present_over_time: rangeFn(() => 1),
  stddev_over_time: rangeFn((w) => Math.sqrt(varianceOverTime(w))),
  stdvar_over_time: rangeFn((w) => varianceOverTime(w)),
  quantile_over_time: {
    args: ['scalar', 'matrix'],
    returns: 'vector',
    call: overRange((w, _, args) => quantile(scalarArg(args[0]), w.values.slice(w.lo, w.hi))),
  },
  absent_over_time: {
    args: ['matrix'],
    returns: 'vector',
    call: (args, ctx) => {
      const range = rangeArg(args[0]);
      if (range.series.some((w) => w.hi > w.lo)) return vector([]);
      return vector([{ metric: absentLabels(ctx.exprs[0]), value: 1 }]);
    },
  },
  absent: {
    args: ['vector'],
    returns: 'vector',
    call: (args, ctx) => (vectorArg(args[0]).length > 0 ? vector([]) : vector([{ metric: absentLabels(ctx.exprs[0]), value: 1 }])),
  },

  abs: simple(Math.abs),
  ceil: simple(Math.ceil),
  floor: simple(Math.floor),
  sqrt: simple(Math.sqrt),
  exp: simple(Math.exp),
  ln: simple(Math.log),
  log2: simple(Math.log2),
  log10: simple(Math.log10),
  sgn: simple(sgn),
  sin: simple(Math.sin),
  cos: simple(Math.cos),
  tan: simple(Math.tan),
  asin: simple(Math.asin),
  acos: simple(Math.acos),
  atan: simple(Math.atan),
  sinh: simple(Math.sinh),
  cosh: simple(Math.cosh),
  tanh: simple(Math.tanh),
  asinh: simple(Math.asinh),
  acosh: simple(Math.acosh),
  atanh: simple(Math.atanh),
  deg: simple((x) => (x * 180) / Math.PI),
  rad: simple((x) => (x * Math.PI) / 180),
  round: {
    args: ['vector', 'scalar'],
    optional: 1,
    returns: 'vector',
    call: elementwise((x, args) => {
      // Prometheus: math.Floor(f*inverse+0.5) / inverse, rounding half up.
      const inverse = 1 / (args.length > 1 ? scalarArg(args[1]) : 1);
      return Math.floor(x * inverse + 0.5) / inverse;
    }),
  },
  clamp: {
    args: ['vector', 'scalar', 'scalar'],
    returns: 'vector',
    call: (args) => clamp(vectorArg(args[0]), scalarArg(args[1]), scalarArg(args[2])),
  },
  clamp_min: { args: ['vector', 'scalar'], returns: 'vector', call: (args) => clamp(vectorArg(args[0]), scalarArg(args[1]), Infinity) },
  clamp_max: { args: ['vector', 'scalar'], returns: 'vector', call: (args) => clamp(vectorArg(args[0]), -Infinity, scalarArg(args[1])) },
  timestamp: {
    args: ['vector'],
    returns: 'vector',
    call: (args, ctx) => {
      // Of a selector: the stored samples' own times; of anything else: the evaluation time.
      const ofSelector = ctx.exprs[0]?.type === 'vectorSelector';
      return vector(
        vectorArg(args[0]).map((s) => ({ metric: dropName(s.metric), value: ((ofSelector ? s.ts : undefined) ?? ctx.t) / 1000 })),
      );
    },
  },
  sort: { args: ['vector'], returns: 'vector', call: (args) => vector(sortByValue(vectorArg(args[0]), false)) },
  sort_desc: { args: ['vector'], returns: 'vector', call: (args) => vector(sortByValue(vectorArg(args[0]), true)) },

  year: dateFn((d) => d.getUTCFullYear()),
  month: dateFn((d) => d.getUTCMonth() + 1),
  day_of_month: dateFn((d) => d.getUTCDate()),
  day_of_week: dateFn((d) => d.getUTCDay()),
  day_of_year: dateFn(dayOfYear),
  days_in_month: dateFn(daysInMonth),
  hour: dateFn((d) => d.getUTCHours()),
  minute: dateFn((d) => d.getUTCMinutes()),

  label_replace: {
    args: ['vector', 'string', 'string', 'string', 'string'],
    returns: 'vector',
    call: (args) =>
      vector(labelReplace(vectorArg(args[0]), stringArg(args[1]), stringArg(args[2]), stringArg(args[3]), stringArg(args[4]))),
  },
  label_join: {
    args: ['vector', 'string', 'string', 'string'],
    variadic: true,
    optional: 1,
    returns: 'vector',
    call: (args) => {
      const dst = stringArg(args[1]);
      const separator = stringArg(args[2]);
      const sources = args.slice(3).map(stringArg);
      for (const src of sources) checkLabelName(src, 'source');
      checkLabelName(dst, 'destination');
      return vector(
        vectorArg(args[0]).map((s) => ({
          metric: withLabel(s.metric, dst, sources.map((src) => s.metric[src] ?? '').join(separator)),
          value: s.value,
        })),
      );
    },
  },

  histogram_quantile: {
    args: ['scalar', 'vector'],
    returns: 'vector',
    call: (args) => {
      const q = scalarArg(args[0]);
      return vector(bucketsBySeries(vectorArg(args[1])).map((g) => ({ metric: g.metric, value: bucketQuantile(q, g.buckets) })));
    },
  },
  histogram_fraction: {
    args: ['scalar', 'scalar', 'vector'],
    returns: 'vector',
    call: (args) => {
      const [lower, upper] = [scalarArg(args[0]), scalarArg(args[1])];
      return vector(bucketsBySeries(vectorArg(args[2])).map((g) => ({ metric: g.metric, value: bucketFraction(lower, upper, g.buckets) })));
    },
  },
  // Native histograms are not stored: these functions find no histogram samples.
  histogram_count: { args: ['vector'], returns: 'vector', call: () => vector([]) },
  histogram_sum: { args: ['vector'], returns: 'vector', call: () => vector([]) },
  histogram_avg: { args: ['vector'], returns: 'vector', call: () => vector([]) },
  histogram_stddev: { args: ['vector'], returns: 'vector', call: () => vector([]) },
  histogram_stdvar: { args: ['vector'], returns: 'vector', call: () => vector([]) },
};
