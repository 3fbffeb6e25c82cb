/**
 * PromQL evaluation over a MetricReader. Each selector's samples are fetched once for the
 * whole query window; the expression is then evaluated step by step in memory, which keeps
 * the semantics of an instant query and of every step of a range query identical.
 *
 * Semantics follow Prometheus 3: 5-minute lookback and range windows are left-open
 * `(t - d, t]`; rate/increase/delta extrapolate like `extrapolatedRate`; functions and
 * arithmetic drop `__name__`; a step that would hold two series with the same labels fails.
 */
import { canonicalLabels } from '../../model/labels.js';
import type { Labels } from '../../model/types.js';
import type { MetricReader, SeriesSamples } from '../../storage/reader.js';
import {
  isComparison,
  typeOf,
  type AggregateOp,
  type BinaryOp,
  type Expr,
  type MatrixSelector,
  type VectorMatching,
  type VectorSelector,
} from './ast.js';
import { badData, QueryError } from './errors.js';

/** Prometheus' default lookback delta. */
export const LOOKBACK_MS = 5 * 60 * 1000;
/** Prometheus refuses range queries with more points per series than this. */
export const MAX_POINTS_PER_SERIES = 11_000;
/** Refuse to hold more raw samples than this in memory for one query (Prometheus: 50M). */
export const MAX_SAMPLES = 50_000_000;

/** One element of an instant vector. */
export interface InstantSample {
  metric: Labels;
  value: number;
}

export type Value = { type: 'scalar'; value: number } | { type: 'string'; value: string } | { type: 'vector'; samples: InstantSample[] };

export interface Point {
  /** Milliseconds. */
  t: number;
  v: number;
}

export interface Series {
  metric: Labels;
  points: Point[];
}

/** A query result in Prometheus' four shapes; times in milliseconds. */
export type QueryResult =
  | { resultType: 'scalar'; t: number; value: number }
  | { resultType: 'string'; t: number; value: string }
  | { resultType: 'vector'; t: number; samples: InstantSample[] }
  | { resultType: 'matrix'; series: Series[] };

export async function evaluateInstant(expr: Expr, reader: MetricReader, timeMs: number): Promise<QueryResult> {
  const ev = await Evaluator.create(reader, expr, timeMs, timeMs);
  if (expr.type === 'matrixSelector') {
    return { resultType: 'matrix', series: ev.rawMatrix(expr, timeMs) };
  }
  const value = ev.eval(expr, timeMs);
  switch (value.type) {
    case 'scalar':
      return { resultType: 'scalar', t: timeMs, value: value.value };
    case 'string':
      return { resultType: 'string', t: timeMs, value: value.value };
    case 'vector':
      return { resultType: 'vector', t: timeMs, samples: value.samples };
  }
}

export async function evaluateRange(
  expr: Expr,
  reader: MetricReader,
  startMs: number,
  endMs: number,
  stepMs: number,
): Promise<QueryResult> {
  checkRangeParameters(startMs, endMs, stepMs);
  const type = typeOf(expr);
  if (type !== 'scalar' && type !== 'vector') {
    throw badData(
      `invalid expression type "${type === 'matrix' ? 'range vector' : type}" for range query, must be Scalar or instant Vector`,
    );
  }
  const ev = await Evaluator.create(reader, expr, startMs, endMs);
  const matrix = new MatrixBuilder();
  for (let t = startMs; t <= endMs; t += stepMs) matrix.add(t, ev.eval(expr, t));
  return { resultType: 'matrix', series: matrix.build() };
}

/** The checks Prometheus' API applies to start/end/step. */
export function checkRangeParameters(startMs: number, endMs: number, stepMs: number): void {
  if (endMs < startMs) throw badData('invalid parameter "end": end timestamp must not be before start time');
  if (!(stepMs > 0)) {
    throw badData('invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer');
  }
  if (Math.floor((endMs - startMs) / stepMs) > MAX_POINTS_PER_SERIES) {
    throw badData('exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)');
  }
}

/** Collects per-step values into series keyed by label set, sorted like Prometheus' Matrix. */
export class MatrixBuilder {
  private readonly series = new Map<string, Series>();

  add(t: number, value: Value): void {
    if (value.type === 'scalar') {
      this.push({}, t, value.value);
    } else if (value.type === 'vector') {
      for (const s of value.samples) this.push(s.metric, t, s.value);
    }
  }

  private push(metric: Labels, t: number, v: number): void {
    const key = canonicalLabels(metric);
    let series = this.series.get(key);
    if (!series) {
      series = { metric, points: [] };
      this.series.set(key, series);
    }
    series.points.push({ t, v });
  }

  build(): Series[] {
    return [...this.series.values()].sort((a, b) => compareLabels(a.metric, b.metric));
  }
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

export function dropName(metric: Labels): Labels {
  if (!('__name__' in metric)) return metric;
  const { __name__: _, ...rest } = metric;
  return rest;
}

/** Prometheus fails a step whose vector holds two elements with the same labels. */
export function assertUniqueLabelSets(samples: InstantSample[]): void {
  if (samples.length < 2) return;
  const seen = new Set<string>();
  for (const s of samples) {
    const key = canonicalLabels(s.metric);
    if (seen.has(key)) throw new QueryError('execution', 'vector cannot contain metrics with the same labelset');
    seen.add(key);
  }
}

interface SelectorData {
  series: SeriesSamples[];
}

class Evaluator {
  private readonly data = new Map<VectorSelector, SelectorData>();
  private loadedSamples = 0;

  private constructor(private readonly reader: MetricReader) {}

  /** An evaluator with every selector of `expr` loaded (storage reads are async). */
  static async create(reader: MetricReader, expr: Expr, startMs: number, endMs: number): Promise<Evaluator> {
    const ev = new Evaluator(reader);
    await ev.prefetch(expr, startMs, endMs);
    return ev;
  }

  /** Fetches each selector once for the whole query: [start - window - offset, end - offset]. */
  private async prefetch(expr: Expr, startMs: number, endMs: number): Promise<void> {
    switch (expr.type) {
      case 'vectorSelector':
        await this.load(expr, LOOKBACK_MS, startMs, endMs);
        return;
      case 'matrixSelector':
        await this.load(expr.selector, expr.rangeMs, startMs, endMs);
        return;
      case 'unary':
        await this.prefetch(expr.expr, startMs, endMs);
        return;
      case 'binary':
        await this.prefetch(expr.lhs, startMs, endMs);
        await this.prefetch(expr.rhs, startMs, endMs);
        return;
      case 'call':
        for (const arg of expr.args) await this.prefetch(arg, startMs, endMs);
        return;
      case 'aggregate':
        if (expr.param) await this.prefetch(expr.param, startMs, endMs);
        await this.prefetch(expr.expr, startMs, endMs);
        return;
      case 'number':
      case 'string':
        return;
    }
  }

  private async load(selector: VectorSelector, windowMs: number, startMs: number, endMs: number): Promise<void> {
    if (this.data.has(selector)) return;
    const series = await this.reader.selectSamples({
      matchers: selector.matchers,
      startMs: startMs - windowMs - selector.offsetMs,
      endMs: endMs - selector.offsetMs,
    });
    for (const s of series) this.loadedSamples += s.timestampsMs.length;
    if (this.loadedSamples > MAX_SAMPLES) {
      throw new QueryError('execution', 'query processing would load too many samples into memory in query execution');
    }
    this.data.set(selector, { series });
  }

  private seriesOf(selector: VectorSelector): SeriesSamples[] {
    const data = this.data.get(selector);
    if (!data) throw new QueryError('internal', 'selector was not prefetched');
    return data.series;
  }

  eval(expr: Expr, t: number): Value {
    switch (expr.type) {
      case 'number':
        return { type: 'scalar', value: expr.value };
      case 'string':
        return { type: 'string', value: expr.value };
      case 'unary':
        return this.unary(expr.op, this.eval(expr.expr, t));
      case 'binary':
        return binaryOp(expr.op, this.eval(expr.lhs, t), this.eval(expr.rhs, t), expr.returnBool, expr.matching);
      case 'vectorSelector':
        return { type: 'vector', samples: this.instantSelect(expr, t) };
      case 'matrixSelector':
        throw badData('range vector is not allowed here');
      case 'call':
        return this.call(expr, t);
      case 'aggregate': {
        const input = this.eval(expr.expr, t);
        if (input.type !== 'vector') throw new QueryError('internal', 'aggregation over a non-vector');
        let param: number | undefined;
        if (expr.param) {
          const p = this.eval(expr.param, t);
          if (p.type !== 'scalar') throw new QueryError('internal', 'aggregation parameter is not a scalar');
          param = p.value;
        }
        return { type: 'vector', samples: aggregate(expr.op, input.samples, expr.grouping, expr.without, param) };
      }
    }
  }

  private unary(op: '-' | '+', value: Value): Value {
    if (op === '+') return value;
    if (value.type === 'scalar') return { type: 'scalar', value: -value.value };
    if (value.type === 'vector') {
      const samples = value.samples.map((s) => ({ metric: dropName(s.metric), value: -s.value }));
      assertUniqueLabelSets(samples);
      return { type: 'vector', samples };
    }
    throw badData('unary minus on a string');
  }

  /** Latest sample of each series in the lookback window (t - offset - 5m, t - offset]. */
  private instantSelect(selector: VectorSelector, t: number): InstantSample[] {
    const ts = t - selector.offsetMs;
    const out: InstantSample[] = [];
    for (const s of this.seriesOf(selector)) {
      const i = upperBound(s.timestampsMs, ts) - 1;
      if (i < 0) continue;
      if (s.timestampsMs[i]! <= ts - LOOKBACK_MS) continue;
      out.push({ metric: s.labels, value: s.values[i]! });
    }
    return out;
  }

  /** The raw samples of a matrix selector at t, as an instant query of `foo[5m]` returns them. */
  rawMatrix(expr: MatrixSelector, t: number): Series[] {
    return this.windows(expr, t).map((w) => {
      const points: Point[] = [];
      for (let i = w.lo; i < w.hi; i++) points.push({ t: w.times[i]!, v: w.values[i]! });
      return { metric: w.metric, points };
    });
  }

  private windows(expr: MatrixSelector, t: number): Window[] {
    const end = t - expr.selector.offsetMs;
    const start = end - expr.rangeMs;
    const out: Window[] = [];
    for (const s of this.seriesOf(expr.selector)) {
      const lo = upperBound(s.timestampsMs, start);
      const hi = upperBound(s.timestampsMs, end);
      if (hi > lo) out.push({ metric: s.labels, times: s.timestampsMs, values: s.values, lo, hi });
    }
    return out;
  }

  private call(expr: Expr & { type: 'call' }, t: number): Value {
    const { func, args } = expr;
    switch (func) {
      case 'time':
        return { type: 'scalar', value: t / 1000 };
      case 'vector': {
        const v = this.eval(args[0]!, t);
        return { type: 'vector', samples: [{ metric: {}, value: v.type === 'scalar' ? v.value : NaN }] };
      }
      case 'scalar': {
        const v = this.eval(args[0]!, t);
        const samples = v.type === 'vector' ? v.samples : [];
        return { type: 'scalar', value: samples.length === 1 ? samples[0]!.value : NaN };
      }
      case 'rate':
      case 'increase':
      case 'delta':
      case 'irate':
      case 'sum_over_time':
      case 'avg_over_time':
      case 'min_over_time':
      case 'max_over_time':
      case 'count_over_time':
      case 'last_over_time': {
        const m = args[0] as MatrixSelector;
        const rangeEnd = t - m.selector.offsetMs;
        const rangeStart = rangeEnd - m.rangeMs;
        const out: InstantSample[] = [];
        for (const w of this.windows(m, t)) {
          const value = rangeFunction(func, w, rangeStart, rangeEnd, m.rangeMs);
          if (value === undefined) continue;
          out.push({ metric: func === 'last_over_time' ? w.metric : dropName(w.metric), value });
        }
        assertUniqueLabelSets(out);
        return { type: 'vector', samples: out };
      }
      case 'abs':
      case 'ceil':
      case 'floor':
      case 'round':
      case 'sqrt':
      case 'exp':
      case 'ln':
      case 'log2':
      case 'log10':
      case 'sgn': {
        const v = this.eval(args[0]!, t);
        if (v.type !== 'vector') throw new QueryError('internal', `${func} of a non-vector`);
        let f = MATH[func as keyof typeof MATH] as (x: number) => number;
        if (func === 'round') {
          let toNearest = 1;
          if (args[1]) {
            const p = this.eval(args[1], t);
            toNearest = p.type === 'scalar' ? p.value : NaN;
          }
          // Prometheus: math.Floor(f*inverse+0.5) / inverse, rounding half up.
          const inverse = 1 / toNearest;
          f = (x) => Math.floor(x * inverse + 0.5) / inverse;
        }
        const samples = v.samples.map((s) => ({ metric: dropName(s.metric), value: f(s.value) }));
        assertUniqueLabelSets(samples);
        return { type: 'vector', samples };
      }
    }
  }
}

const MATH = {
  abs: Math.abs,
  ceil: Math.ceil,
  floor: Math.floor,
  sqrt: Math.sqrt,
  exp: Math.exp,
  ln: Math.log,
  log2: Math.log2,
  log10: Math.log10,
  sgn: (x: number) => (x > 0 ? 1 : x < 0 ? -1 : x),
};

interface Window {
  metric: Labels;
  times: number[];
  values: number[];
  /** Index of the first sample in the window. */
  lo: number;
  /** One past the last sample. */
  hi: number;
}

/** Index of the first element greater than x (arr ascending). */
export function upperBound(arr: readonly number[], x: number): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function rangeFunction(func: string, w: Window, rangeStart: number, rangeEnd: number, rangeMs: number): number | undefined {
  const n = w.hi - w.lo;
  switch (func) {
    case 'rate':
      return extrapolatedRate(w, rangeStart, rangeEnd, rangeMs, true, true);
    case 'increase':
      return extrapolatedRate(w, rangeStart, rangeEnd, rangeMs, true, false);
    case 'delta':
      return extrapolatedRate(w, rangeStart, rangeEnd, rangeMs, false, false);
    case 'irate': {
      if (n < 2) return undefined;
      const last = w.values[w.hi - 1]!;
      const prev = w.values[w.hi - 2]!;
      const interval = w.times[w.hi - 1]! - w.times[w.hi - 2]!;
      if (interval === 0) return undefined;
      const diff = last < prev ? last : last - prev; // a counter reset starts again from 0
      return diff / (interval / 1000);
    }
    case 'sum_over_time':
      return kahanSum(w.values, w.lo, w.hi);
    case 'avg_over_time':
      return kahanSum(w.values, w.lo, w.hi) / n;
    case 'count_over_time':
      return n;
    case 'last_over_time':
      return w.values[w.hi - 1];
    case 'min_over_time':
    case 'max_over_time': {
      let result = w.values[w.lo]!;
      for (let i = w.lo + 1; i < w.hi; i++) {
        const v = w.values[i]!;
        if (Number.isNaN(result) || (func === 'min_over_time' ? v < result : v > result)) result = v;
      }
      return result;
    }
    default:
      throw new QueryError('internal', `unknown range function ${func}`);
  }
}

/**
 * Prometheus' extrapolatedRate (promql/functions.go): the increase between the first and last
 * sample in the window (with counter resets added back), extrapolated towards the window
 * edges when the samples come close to them, and divided by the range for rate().
 */
function extrapolatedRate(
  w: Window,
  rangeStart: number,
  rangeEnd: number,
  rangeMs: number,
  isCounter: boolean,
  isRate: boolean,
): number | undefined {
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
  let durationToStart = (firstT - rangeStart) / 1000;
  let durationToEnd = (rangeEnd - lastT) / 1000;
  const sampledInterval = (lastT - firstT) / 1000;
  const averageDurationBetweenSamples = sampledInterval / (n - 1);
  const extrapolationThreshold = averageDurationBetweenSamples * 1.1;
  let extrapolateToInterval = sampledInterval;
  if (durationToStart >= extrapolationThreshold) durationToStart = averageDurationBetweenSamples / 2;
  if (isCounter && result > 0 && firstV >= 0) {
    // A counter cannot go below zero: do not extrapolate past the point where it would be 0.
    const durationToZero = sampledInterval * (firstV / result);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  extrapolateToInterval += durationToStart;
  if (durationToEnd >= extrapolationThreshold) durationToEnd = averageDurationBetweenSamples / 2;
  extrapolateToInterval += durationToEnd;
  let factor = extrapolateToInterval / sampledInterval;
  if (isRate) factor /= rangeMs / 1000;
  return result * factor;
}

/** Kahan–Neumaier summation, as Prometheus uses for sum and sum_over_time. */
function kahanSum(values: readonly number[], lo = 0, hi = values.length): number {
  let sum = 0;
  let c = 0;
  for (let i = lo; i < hi; i++) {
    [sum, c] = kahanSumInc(values[i]!, sum, c);
  }
  return sum + c;
}

function kahanSumInc(inc: number, sum: number, c: number): [number, number] {
  const t = sum + inc;
  if (!Number.isFinite(t)) return [t, 0];
  if (Math.abs(sum) >= Math.abs(inc)) c += sum - t + inc;
  else c += inc - t + sum;
  return [t, c];
}

// ---------------------------------------------------------------------------------------
// Operators on evaluated values, shared with the LogQL engine.

/** Go's math.Pow where it differs from JavaScript's `**` (1^NaN, (-1)^±Inf). */
function pow(x: number, y: number): number {
  if (x === 1) return 1;
  if (x === -1 && (y === Infinity || y === -Infinity)) return 1;
  return x ** y;
}

/** The value of `x op y`, and for comparisons whether the pair is kept. */
function scalarOp(op: BinaryOp, x: number, y: number): [number, boolean] {
  switch (op) {
    case '+':
      return [x + y, true];
    case '-':
      return [x - y, true];
    case '*':
      return [x * y, true];
    case '/':
      return [x / y, true];
    case '%':
      return [x % y, true];
    case '^':
      return [pow(x, y), true];
    case 'atan2':
      return [Math.atan2(x, y), true];
    case '==':
      return [x, x === y];
    case '!=':
      return [x, x !== y];
    case '>':
      return [x, x > y];
    case '<':
      return [x, x < y];
    case '>=':
      return [x, x >= y];
    case '<=':
      return [x, x <= y];
    default:
      throw new QueryError('internal', `operator ${op} is not defined on scalars`);
  }
}

/** Applies a binary operator to two evaluated operands (scalars or instant vectors). */
export function binaryOp(op: BinaryOp, lhs: Value, rhs: Value, returnBool: boolean, matching?: VectorMatching): Value {
  if (lhs.type === 'string' || rhs.type === 'string') throw badData('binary expression must contain only scalar and instant vector types');
  if (lhs.type === 'scalar' && rhs.type === 'scalar') {
    const [value, keep] = scalarOp(op, lhs.value, rhs.value);
    return { type: 'scalar', value: isComparison(op) ? (keep ? 1 : 0) : value };
  }
  if (lhs.type === 'vector' && rhs.type === 'vector') {
    return { type: 'vector', samples: vectorVector(op, lhs.samples, rhs.samples, returnBool, matching ?? { on: false, labels: [] }) };
  }
  const swap = lhs.type === 'scalar';
  const vector = (swap ? rhs : lhs) as { samples: InstantSample[] };
  const scalar = (swap ? lhs : rhs) as { value: number };
  const out: InstantSample[] = [];
  for (const s of vector.samples) {
    const [x, y] = swap ? [scalar.value, s.value] : [s.value, scalar.value];
    let [value, keep] = scalarOp(op, x, y);
    // A comparison filter keeps the vector element's value, even when the scalar is on the left.
    if (isComparison(op) && swap) value = y;
    if (returnBool) {
      value = keep ? 1 : 0;
      keep = true;
    }
    if (!keep) continue;
    const dropsName = !isComparison(op) || returnBool;
    out.push({ metric: dropsName ? dropName(s.metric) : s.metric, value });
  }
  assertUniqueLabelSets(out);
  return { type: 'vector', samples: out };
}

function signature(metric: Labels, matching: VectorMatching): string {
  const picked: Labels = {};
  if (matching.on) {
    for (const name of matching.labels) if (metric[name] !== undefined) picked[name] = metric[name];
  } else {
    for (const [name, value] of Object.entries(metric)) {
      if (name !== '__name__' && !matching.labels.includes(name)) picked[name] = value;
    }
  }
  return canonicalLabels(picked);
}

function vectorVector(
  op: BinaryOp,
  lhs: InstantSample[],
  rhs: InstantSample[],
  returnBool: boolean,
  matching: VectorMatching,
): InstantSample[] {
  if (op === 'and' || op === 'unless') {
    const right = new Set(rhs.map((s) => signature(s.metric, matching)));
    return lhs.filter((s) => right.has(signature(s.metric, matching)) === (op === 'and'));
  }
  if (op === 'or') {
    const left = new Set(lhs.map((s) => signature(s.metric, matching)));
    return [...lhs, ...rhs.filter((s) => !left.has(signature(s.metric, matching)))];
  }
  const right = new Map<string, InstantSample>();
  for (const s of rhs) {
    const sig = signature(s.metric, matching);
    if (right.has(sig)) {
      throw new QueryError(
        'execution',
        `found duplicate series for the match group ${sig.replaceAll('\u0000', '=').replaceAll('\u0001', ',')} on the right hand-side of the operation; many-to-many matching not allowed: matching labels must be unique on one side`,
      );
    }
    right.set(sig, s);
  }
  const matched = new Set<string>();
  const out: InstantSample[] = [];
  for (const l of lhs) {
    const sig = signature(l.metric, matching);
    const r = right.get(sig);
    if (!r) continue;
    if (matched.has(sig)) {
      throw new QueryError('execution', 'multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)');
    }
    matched.add(sig);
    let [value, keep] = scalarOp(op, l.value, r.value);
    if (returnBool) {
      value = keep ? 1 : 0;
      keep = true;
    }
    if (!keep) continue;
    let metric = !isComparison(op) || returnBool ? dropName(l.metric) : l.metric;
    if (matching.on) {
      const kept: Labels = {};
      for (const name of matching.labels) if (metric[name] !== undefined) kept[name] = metric[name];
      metric = kept;
    } else if (matching.labels.length > 0) {
      metric = Object.fromEntries(Object.entries(metric).filter(([name]) => !matching.labels.includes(name)));
    }
    out.push({ metric, value });
  }
  assertUniqueLabelSets(out);
  return out;
}

function groupLabels(metric: Labels, grouping: string[], without: boolean): Labels {
  const out: Labels = {};
  if (without) {
    for (const [name, value] of Object.entries(metric)) {
      if (name !== '__name__' && !grouping.includes(name)) out[name] = value;
    }
  } else {
    for (const name of grouping) if (metric[name] !== undefined && metric[name] !== '') out[name] = metric[name];
  }
  return out;
}

/** sum/avg/min/max/count/topk/bottomk over one instant vector with by/without grouping. */
export function aggregate(
  op: AggregateOp,
  samples: InstantSample[],
  grouping: string[],
  without: boolean,
  param?: number,
): InstantSample[] {
  const groups = new Map<string, { metric: Labels; members: InstantSample[] }>();
  for (const s of samples) {
    const metric = groupLabels(s.metric, grouping, without);
    const key = canonicalLabels(metric);
    let group = groups.get(key);
    if (!group) {
      group = { metric, members: [] };
      groups.set(key, group);
    }
    group.members.push(s);
  }
  const out: InstantSample[] = [];
  if (op === 'topk' || op === 'bottomk') {
    if (param === undefined || Number.isNaN(param)) throw new QueryError('execution', `Parameter value is NaN for ${op}`);
    if (Math.abs(param) >= 2 ** 63) throw new QueryError('execution', `Scalar value ${param.toExponential()} overflows int64`);
    const k = Math.trunc(param);
    if (k < 1) return [];
    // NaN ranks below every number for both directions, as in Prometheus.
    const better = (a: number, b: number): number => {
      if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : 1;
      if (Number.isNaN(b)) return -1;
      return op === 'topk' ? b - a : a - b;
    };
    for (const group of groups.values()) {
      const sorted = [...group.members].sort((a, b) => better(a.value, b.value) || 0);
      out.push(...sorted.slice(0, k));
    }
    return out;
  }
  for (const group of groups.values()) {
    const values = group.members.map((s) => s.value);
    let value: number;
    switch (op) {
      case 'sum':
        value = kahanSum(values);
        break;
      case 'avg':
        value = kahanSum(values) / values.length;
        break;
      case 'count':
        value = values.length;
        break;
      case 'min':
      case 'max': {
        value = values[0]!;
        for (const v of values.slice(1)) {
          if (Number.isNaN(value) || (op === 'min' ? v < value : v > value)) value = v;
        }
        break;
      }
    }
    out.push({ metric: group.metric, value });
  }
  return out;
}
