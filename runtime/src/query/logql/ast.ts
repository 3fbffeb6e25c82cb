/**
 * Sextant's LogQL syntax tree: the subset the engine implements. Built from the official
 * lezer grammar's tree (@grafana/lezer-logql) by parse.ts, which rejects everything else.
 */
import type { LabelMatcher, LineFilter } from '../../storage/reader.js';
import type { AggregateOp, BinaryOp, VectorMatching } from '../promql/ast.js';

/**
 * A stream selector with its pipeline. `lineFilters` are the plain line filters that the
 * storage readers apply (pushed down); `pipeline` holds every other stage, in query order,
 * evaluated in memory by pipeline.ts.
 */
export interface LogSelector {
  matchers: LabelMatcher[];
  lineFilters: LineFilter[];
  pipeline: Stage[];
}

export type CompareOp = '==' | '!=' | '>' | '>=' | '<' | '<=';

/** One alternative of a line filter's `or` chain. */
export type LineMatch = { kind: 'text'; value: string } | { kind: 'ip'; value: string };

export type LabelFilterExpr =
  | { type: 'and' | 'or'; left: LabelFilterExpr; right: LabelFilterExpr }
  | { type: 'string'; matcher: LabelMatcher }
  | { type: 'number' | 'duration' | 'bytes'; name: string; op: CompareOp; value: number }
  | { type: 'ip'; name: string; negate: boolean; pattern: string };

export interface JsonParam {
  label: string;
  /** The expression as written (`a.b[0]`); pipeline.ts parses it. */
  expr: string;
}

export type Stage =
  | { type: 'lineFilter'; op: '|=' | '!=' | '|~' | '!~' | '|>' | '!>'; values: LineMatch[] }
  | { type: 'json'; params: JsonParam[] }
  | { type: 'logfmt'; strict: boolean; keepEmpty: boolean; params: JsonParam[] }
  | { type: 'regexp'; pattern: string }
  | { type: 'pattern'; pattern: string }
  | { type: 'unpack' }
  | { type: 'labelFilter'; filter: LabelFilterExpr }
  | { type: 'lineFormat'; template: string }
  | { type: 'labelFormat'; ops: { dst: string; src?: string; template?: string }[] }
  | { type: 'drop' | 'keep'; names: string[]; matchers: LabelMatcher[] }
  | { type: 'decolorize' };

/** A log query: answers streams of entries. */
export interface LogQuery {
  type: 'logs';
  selector: LogSelector;
}

/** Range aggregations over log lines (no unwrap). */
export const LOG_RANGE_OPS = ['count_over_time', 'rate', 'bytes_over_time', 'bytes_rate', 'absent_over_time'] as const;
/** Range aggregations over unwrapped values. */
export const UNWRAP_RANGE_OPS = [
  'rate',
  'rate_counter',
  'sum_over_time',
  'avg_over_time',
  'min_over_time',
  'max_over_time',
  'stddev_over_time',
  'stdvar_over_time',
  'quantile_over_time',
  'first_over_time',
  'last_over_time',
  'absent_over_time',
] as const;
export type RangeOp = (typeof LOG_RANGE_OPS)[number] | (typeof UNWRAP_RANGE_OPS)[number];

/** `| unwrap [duration|duration_seconds|bytes](label)` and the label filters after it. */
export interface Unwrap {
  label: string;
  conversion: 'number' | 'duration' | 'bytes';
  postFilters: LabelFilterExpr[];
}

export interface RangeAggregation {
  type: 'rangeAggregation';
  op: RangeOp;
  selector: LogSelector;
  /** Range, nanoseconds. */
  rangeNs: bigint;
  /** `offset`, nanoseconds. */
  offsetNs: bigint;
  unwrap?: Unwrap;
  /** φ of quantile_over_time. */
  param?: number;
  /** `by`/`without` of an unwrapped range aggregation. */
  grouping?: { labels: string[]; without: boolean };
}

/** PromQL's aggregations plus the ones only LogQL's engine has. */
export type LogAggregateOp = AggregateOp | 'stddev' | 'stdvar' | 'sort' | 'sort_desc';

export interface VectorAggregation {
  type: 'vectorAggregation';
  op: LogAggregateOp;
  expr: MetricExpr;
  /** k of topk/bottomk. */
  param?: number;
  grouping: string[];
  without: boolean;
}

export interface LiteralExpr {
  type: 'number';
  value: number;
}

/** `vector(1)`: a one-element vector without labels. */
export interface VectorExpr {
  type: 'vector';
  value: number;
}

export interface BinaryMetricExpr {
  type: 'binary';
  op: BinaryOp;
  lhs: MetricExpr;
  rhs: MetricExpr;
  returnBool: boolean;
  matching?: VectorMatching;
}

/** `label_replace(v, dst, replacement, src, regex)`. */
export interface LabelReplaceExpr {
  type: 'labelReplace';
  expr: MetricExpr;
  dst: string;
  replacement: string;
  src: string;
  regex: string;
}

export type MetricExpr = LiteralExpr | VectorExpr | RangeAggregation | VectorAggregation | BinaryMetricExpr | LabelReplaceExpr;

export type LogQLExpr = LogQuery | MetricExpr;

/** Whether a metric expression evaluates to a scalar (only literals and their arithmetic). */
export function isScalar(expr: MetricExpr): boolean {
  if (expr.type === 'number') return true;
  if (expr.type === 'binary') return isScalar(expr.lhs) && isScalar(expr.rhs);
  return false;
}
