/**
 * PromQL evaluation over a MetricReader. Each selector's samples are fetched once for the
 * whole query (every time any step, subquery step or `@` will read); the expression is then
 * evaluated step by step in memory, which keeps the semantics of an instant query and of
 * every step of a range query identical.
 *
 * Semantics follow Prometheus 3: 5-minute lookback and range windows are left-open
 * `(t - d, t]`; staleness markers end a series; subqueries evaluate at absolute multiples of
 * their step; functions and arithmetic drop `__name__`; a step that would hold two series
 * with the same labels fails.
 */
import { MAX_POINTS_PER_SERIES } from '../../model/limits.js';
import type { Labels } from '../../model/types.js';
import type { MetricReader, SeriesSamples } from '../../storage/reader.js';
import { typeOf, type AtModifier, type Expr, type MatrixSelector, type SubqueryExpr, type VectorSelector } from './ast.js';
import { badData, QueryError } from './errors.js';
import { FUNCTIONS, type Argument } from './functions.js';
import { aggregate } from './aggregate.js';
import { binaryOp } from './operators.js';
import {
  assertUniqueLabelSets,
  compareLabels,
  dropName,
  labelsKey,
  upperBound,
  type InstantSample,
  type RangeSeries,
  type RangeValue,
  type Value,
} from './values.js';

export { aggregate } from './aggregate.js';
export { binaryOp } from './operators.js';
export { assertUniqueLabelSets, compareLabels, dropName, upperBound, type InstantSample, type Value } from './values.js';

/** Prometheus' default lookback delta. */
export const LOOKBACK_MS = 5 * 60 * 1000;
/** A subquery without a step (`[5m:]`) uses Prometheus' default evaluation interval. */
export const DEFAULT_SUBQUERY_STEP_MS = 60 * 1000;
/** Refuse to hold more raw samples than this in memory for one query (Prometheus: 50M). */
export const MAX_SAMPLES = 50_000_000;

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
  if (expr.type === 'matrixSelector' || expr.type === 'subquery') {
    const range = ev.evalRange(expr, timeMs);
    const series = range.series
      .filter((w) => w.hi > w.lo)
      .map((w) => {
        const points: Point[] = [];
        for (let i = w.lo; i < w.hi; i++) points.push({ t: w.times[i]!, v: w.values[i]! });
        return { metric: w.metric, points };
      });
    return { resultType: 'matrix', series };
  }
  const value = ev.eval(expr, timeMs);
  switch (value.type) {
    case 'scalar':
      return { resultType: 'scalar', t: timeMs, value: value.value };
    case 'string':
      return { resultType: 'string', t: timeMs, value: value.value };
    case 'vector':
      return { resultType: 'vector', t: timeMs, samples: value.samples.map((s) => ({ metric: s.metric, value: s.value })) };
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
    throw badData(
      `exceeded maximum resolution of ${MAX_POINTS_PER_SERIES.toLocaleString('en-US')} points per timeseries. Try decreasing the query resolution (?step=XX)`,
    );
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
    const key = labelsKey(metric);
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

/** A loaded series: real samples only, its staleness markers' times apart. */
interface LoadedSeries {
  labels: Labels;
  times: number[];
  values: number[];
  /** Times of staleness markers, ascending (absent: none). */
  stale?: number[];
}

/** Splits a store's series into samples and staleness markers. */
function loaded(s: SeriesSamples): LoadedSeries {
  if (!s.staleTimestampsMs || s.staleTimestampsMs.length === 0) return { labels: s.labels, times: s.timestampsMs, values: s.values };
  const stale = new Set(s.staleTimestampsMs);
  const times: number[] = [];
  const values: number[] = [];
  s.timestampsMs.forEach((t, i) => {
    if (stale.has(t)) return;
    times.push(t);
    values.push(s.values[i]!);
  });
  return { labels: s.labels, times, values, stale: [...s.staleTimestampsMs].sort((a, b) => a - b) };
}

class Evaluator {
  private readonly data = new Map<VectorSelector, LoadedSeries[]>();
  private readonly wanted = new Map<VectorSelector, { from: number; to: number }>();
  /** Inner values of subqueries by evaluation time: overlapping windows reuse them. */
  private readonly subqueryMemo = new Map<SubqueryExpr, Map<number, InstantSample[]>>();
  private loadedSamples = 0;

  private constructor(
    private readonly reader: MetricReader,
    private readonly startMs: number,
    private readonly endMs: number,
  ) {}

  /** An evaluator with every selector of `expr` loaded (storage reads are async). */
  static async create(reader: MetricReader, expr: Expr, startMs: number, endMs: number): Promise<Evaluator> {
    const ev = new Evaluator(reader, startMs, endMs);
    ev.plan(expr, startMs, endMs);
    for (const [selector, { from, to }] of ev.wanted) await ev.load(selector, from, to);
    return ev;
  }

  private atTime(at: AtModifier | undefined): number | undefined {
    if (at === undefined) return undefined;
    if (at === 'start') return this.startMs;
    if (at === 'end') return this.endMs;
    return at;
  }

  private want(selector: VectorSelector, from: number, to: number): void {
    const prev = this.wanted.get(selector);
    this.wanted.set(selector, prev ? { from: Math.min(prev.from, from), to: Math.max(prev.to, to) } : { from, to });
  }

  /**
   * Records, for each selector, the sample times any evaluation between `from` and `to` may
   * read: [first - window - offset, last - offset], through subqueries and `@`.
   */
  private plan(expr: Expr, from: number, to: number): void {
    switch (expr.type) {
      case 'vectorSelector': {
        const at = this.atTime(expr.at);
        const [a, b] = at === undefined ? [from, to] : [at, at];
        this.want(expr, a - LOOKBACK_MS - expr.offsetMs, b - expr.offsetMs);
        return;
      }
      case 'matrixSelector': {
        const at = this.atTime(expr.selector.at);
        const [a, b] = at === undefined ? [from, to] : [at, at];
        this.want(expr.selector, a - expr.rangeMs - expr.selector.offsetMs, b - expr.selector.offsetMs);
        return;
      }
      case 'subquery': {
        const at = this.atTime(expr.at);
        const [a, b] = at === undefined ? [from, to] : [at, at];
        this.plan(expr.expr, a - expr.offsetMs - expr.rangeMs, b - expr.offsetMs);
        return;
      }
      case 'unary':
        this.plan(expr.expr, from, to);
        return;
      case 'binary':
        this.plan(expr.lhs, from, to);
        this.plan(expr.rhs, from, to);
        return;
      case 'call':
        for (const arg of expr.args) this.plan(arg, from, to);
        return;
      case 'aggregate':
        if (expr.param) this.plan(expr.param, from, to);
        this.plan(expr.expr, from, to);
        return;
      case 'number':
      case 'string':
        return;
    }
  }

  private async load(selector: VectorSelector, from: number, to: number): Promise<void> {
    const series = await this.reader.selectSamples({ matchers: selector.matchers, startMs: from, endMs: to });
    for (const s of series) this.loadedSamples += s.timestampsMs.length;
    if (this.loadedSamples > MAX_SAMPLES) {
      throw new QueryError('execution', 'query processing would load too many samples into memory in query execution');
    }
    this.data.set(selector, series.map(loaded));
  }

  private seriesOf(selector: VectorSelector): LoadedSeries[] {
    const data = this.data.get(selector);
    if (!data) throw new QueryError('internal', 'selector was not prefetched');
    return data;
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
      case 'subquery':
        throw badData('range vector is not allowed here');
      case 'call':
        return this.call(expr, t);
      case 'aggregate': {
        const input = this.eval(expr.expr, t);
        if (input.type !== 'vector') throw new QueryError('internal', 'aggregation over a non-vector');
        let param: number | string | undefined;
        if (expr.param) {
          const p = this.eval(expr.param, t);
          if (p.type !== 'scalar' && p.type !== 'string') throw new QueryError('internal', 'aggregation parameter is not a scalar');
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

  /**
   * The latest sample of each series in the lookback window (t' - 5m, t'] with t' = (@ or t)
   * minus the offset, unless a staleness marker came after it.
   */
  private instantSelect(selector: VectorSelector, t: number): InstantSample[] {
    const ts = (this.atTime(selector.at) ?? t) - selector.offsetMs;
    const out: InstantSample[] = [];
    for (const s of this.seriesOf(selector)) {
      const i = upperBound(s.times, ts) - 1;
      if (i < 0) continue;
      const sampleT = s.times[i]!;
      if (sampleT <= ts - LOOKBACK_MS) continue;
      if (s.stale) {
        const j = upperBound(s.stale, ts) - 1;
        if (j >= 0 && s.stale[j]! > sampleT) continue;
      }
      out.push({ metric: s.labels, value: s.values[i]!, ts: sampleT });
    }
    return out;
  }

  /** A range selector or subquery at t: each series' window (end - range, end]. */
  evalRange(expr: MatrixSelector | SubqueryExpr, t: number): RangeValue {
    if (expr.type === 'matrixSelector') {
      const end = (this.atTime(expr.selector.at) ?? t) - expr.selector.offsetMs;
      const start = end - expr.rangeMs;
      const series: RangeSeries[] = [];
      for (const s of this.seriesOf(expr.selector)) {
        const lo = upperBound(s.times, start);
        const hi = upperBound(s.times, end, lo);
        if (hi > lo) series.push({ metric: s.labels, times: s.times, values: s.values, lo, hi });
      }
      return { type: 'matrix', series, rangeStart: start, rangeEnd: end, rangeMs: expr.rangeMs };
    }
    return this.subquery(expr, t);
  }

  /** The inner expression at every multiple of the step in (end - range, end]. */
  private subquery(expr: SubqueryExpr, t: number): RangeValue {
    const end = (this.atTime(expr.at) ?? t) - expr.offsetMs;
    const start = end - expr.rangeMs;
    const step = expr.stepMs > 0 ? expr.stepMs : DEFAULT_SUBQUERY_STEP_MS;
    let first = Math.floor(start / step) * step;
    if (first <= start) first += step;
    let memo = this.subqueryMemo.get(expr);
    if (!memo) {
      memo = new Map();
      this.subqueryMemo.set(expr, memo);
    }
    const bySeries = new Map<string, { metric: Labels; times: number[]; values: number[] }>();
    for (let inner = first; inner <= end; inner += step) {
      let samples = memo.get(inner);
      if (!samples) {
        const value = this.eval(expr.expr, inner);
        if (value.type !== 'vector') throw new QueryError('internal', 'subquery of a non-vector');
        samples = value.samples;
        memo.set(inner, samples);
      }
      for (const s of samples) {
        const key = labelsKey(s.metric);
        let series = bySeries.get(key);
        if (!series) {
          series = { metric: s.metric, times: [], values: [] };
          bySeries.set(key, series);
        }
        series.times.push(inner);
        series.values.push(s.value);
      }
    }
    const series = [...bySeries.values()].map((s) => ({ ...s, lo: 0, hi: s.times.length }));
    return { type: 'matrix', series, rangeStart: start, rangeEnd: end, rangeMs: expr.rangeMs };
  }

  private call(expr: Expr & { type: 'call' }, t: number): Value {
    const def = FUNCTIONS[expr.func];
    if (!def) throw new QueryError('internal', `unknown function ${expr.func}`);
    const args: Argument[] = expr.args.map((arg) =>
      arg.type === 'matrixSelector' || arg.type === 'subquery' ? this.evalRange(arg, t) : this.eval(arg, t),
    );
    const value = def.call(args, { t, exprs: expr.args });
    if (value.type === 'vector') assertUniqueLabelSets(value.samples);
    return value;
  }
}
