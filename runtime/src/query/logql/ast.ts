/**
 * Sextant's LogQL syntax tree: the subset the engine implements. Built from the official
 * lezer grammar's tree (@grafana/lezer-logql) by parse.ts, which rejects everything else.
 */
import type { LabelMatcher, LineFilter } from '../../storage/reader.js';
import type { AggregateOp, BinaryOp, VectorMatching } from '../promql/ast.js';

/** A stream selector with its line filters: `{app="api"} |= "error" != "debug"`. */
export interface LogSelector {
  matchers: LabelMatcher[];
  lineFilters: LineFilter[];
}

/** A log query: answers streams of entries. */
export interface LogQuery {
  type: 'logs';
  selector: LogSelector;
}

export type RangeOp = 'count_over_time' | 'rate' | 'bytes_over_time' | 'bytes_rate';

export interface RangeAggregation {
  type: 'rangeAggregation';
  op: RangeOp;
  selector: LogSelector;
  /** Range, nanoseconds. */
  rangeNs: bigint;
  /** `offset`, nanoseconds. */
  offsetNs: bigint;
}

export interface VectorAggregation {
  type: 'vectorAggregation';
  op: AggregateOp;
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

export type MetricExpr = LiteralExpr | VectorExpr | RangeAggregation | VectorAggregation | BinaryMetricExpr;

export type LogQLExpr = LogQuery | MetricExpr;

/** Whether a metric expression evaluates to a scalar (only literals and their arithmetic). */
export function isScalar(expr: MetricExpr): boolean {
  if (expr.type === 'number') return true;
  if (expr.type === 'binary') return isScalar(expr.lhs) && isScalar(expr.rhs);
  return false;
}
