/**
 * Sextant's own PromQL syntax tree: the subset the evaluator implements. The parser builds it
 * from the official lezer grammar's tree and rejects everything else, so the evaluator never
 * meets a construct it does not know.
 */
import type { LabelMatcher } from '../../storage/reader.js';

export type ValueType = 'scalar' | 'vector' | 'matrix' | 'string';

export type ArithmeticOp = '+' | '-' | '*' | '/' | '%' | '^' | 'atan2';
export type ComparisonOp = '==' | '!=' | '>' | '<' | '>=' | '<=';
export type SetOp = 'and' | 'or' | 'unless';
export type BinaryOp = ArithmeticOp | ComparisonOp | SetOp;

export const COMPARISON_OPS: readonly BinaryOp[] = ['==', '!=', '>', '<', '>=', '<='];
export const SET_OPS: readonly BinaryOp[] = ['and', 'or', 'unless'];

export function isComparison(op: BinaryOp): op is ComparisonOp {
  return COMPARISON_OPS.includes(op);
}

export function isSetOp(op: BinaryOp): op is SetOp {
  return SET_OPS.includes(op);
}

/** `on(labels)` (on = true) or `ignoring(labels)`; the default is `ignoring()`. */
export interface VectorMatching {
  on: boolean;
  labels: string[];
  /** many-to-one (`group_left`) or one-to-many (`group_right`); one-to-one when absent. */
  card?: 'many-to-one' | 'one-to-many';
  /** The extra labels of group_left(…)/group_right(…), copied from the "one" side. */
  include?: string[];
}

/** The time of an `@` modifier: milliseconds, or the query's start()/end(). */
export type AtModifier = number | 'start' | 'end';

export interface NumberLiteral {
  type: 'number';
  value: number;
}

export interface StringLiteral {
  type: 'string';
  value: string;
}

export interface UnaryExpr {
  type: 'unary';
  op: '-' | '+';
  expr: Expr;
}

export interface BinaryExpr {
  type: 'binary';
  op: BinaryOp;
  lhs: Expr;
  rhs: Expr;
  /** `bool` modifier of a comparison. */
  returnBool: boolean;
  /** Present when on(...)/ignoring(...) was written. */
  matching?: VectorMatching;
}

export interface VectorSelector {
  type: 'vectorSelector';
  /** All matchers, the metric name as `__name__="…"` first when it was written as a name. */
  matchers: LabelMatcher[];
  /** `offset`, milliseconds (may be negative). */
  offsetMs: number;
  at?: AtModifier;
}

export interface MatrixSelector {
  type: 'matrixSelector';
  selector: VectorSelector;
  rangeMs: number;
}

/** `expr[range:step]`, evaluated at every multiple of the step inside the range. */
export interface SubqueryExpr {
  type: 'subquery';
  expr: Expr;
  rangeMs: number;
  /** 0 when written `[5m:]`: the engine's default evaluation interval. */
  stepMs: number;
  offsetMs: number;
  at?: AtModifier;
}

/** A function's name (a key of the function table in functions.ts). */
export type FunctionName = string;

export interface Call {
  type: 'call';
  func: FunctionName;
  args: Expr[];
  /** The static result type, from the function table. */
  returns: ValueType;
}

export type AggregateOp =
  'sum' | 'avg' | 'min' | 'max' | 'count' | 'group' | 'stddev' | 'stdvar' | 'topk' | 'bottomk' | 'quantile' | 'count_values';

/** The aggregations with a parameter, and its type. */
export const AGGREGATE_PARAMS: Partial<Record<AggregateOp, ValueType>> = {
  topk: 'scalar',
  bottomk: 'scalar',
  quantile: 'scalar',
  count_values: 'string',
};

export interface AggregateExpr {
  type: 'aggregate';
  op: AggregateOp;
  expr: Expr;
  /** The k of topk/bottomk, the φ of quantile, the label of count_values. */
  param?: Expr;
  /** Labels of `by (…)` or `without (…)`; `by ()` when no clause was written. */
  grouping: string[];
  without: boolean;
}

export type Expr =
  NumberLiteral | StringLiteral | UnaryExpr | BinaryExpr | VectorSelector | MatrixSelector | SubqueryExpr | Call | AggregateExpr;

/** The static type of an expression (the parser has already checked its operands). */
export function typeOf(expr: Expr): ValueType {
  switch (expr.type) {
    case 'number':
      return 'scalar';
    case 'string':
      return 'string';
    case 'unary':
      return typeOf(expr.expr);
    case 'binary':
      return typeOf(expr.lhs) === 'scalar' && typeOf(expr.rhs) === 'scalar' ? 'scalar' : 'vector';
    case 'vectorSelector':
      return 'vector';
    case 'matrixSelector':
    case 'subquery':
      return 'matrix';
    case 'call':
      return expr.returns;
    case 'aggregate':
      return 'vector';
  }
}

/** Prometheus' names for value types in error messages. */
export function describeType(type: ValueType): string {
  switch (type) {
    case 'scalar':
      return 'scalar';
    case 'string':
      return 'string';
    case 'vector':
      return 'instant vector';
    case 'matrix':
      return 'range vector';
  }
}
