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
}

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
}

export interface MatrixSelector {
  type: 'matrixSelector';
  selector: VectorSelector;
  rangeMs: number;
}

export const FUNCTIONS = {
  vector: { args: ['scalar'], returns: 'vector' },
  scalar: { args: ['vector'], returns: 'scalar' },
  time: { args: [], returns: 'scalar' },
  rate: { args: ['matrix'], returns: 'vector' },
  irate: { args: ['matrix'], returns: 'vector' },
  increase: { args: ['matrix'], returns: 'vector' },
  delta: { args: ['matrix'], returns: 'vector' },
  sum_over_time: { args: ['matrix'], returns: 'vector' },
  avg_over_time: { args: ['matrix'], returns: 'vector' },
  min_over_time: { args: ['matrix'], returns: 'vector' },
  max_over_time: { args: ['matrix'], returns: 'vector' },
  count_over_time: { args: ['matrix'], returns: 'vector' },
  last_over_time: { args: ['matrix'], returns: 'vector' },
  abs: { args: ['vector'], returns: 'vector' },
  ceil: { args: ['vector'], returns: 'vector' },
  floor: { args: ['vector'], returns: 'vector' },
  round: { args: ['vector', 'scalar'], optional: 1, returns: 'vector' },
  sqrt: { args: ['vector'], returns: 'vector' },
  exp: { args: ['vector'], returns: 'vector' },
  ln: { args: ['vector'], returns: 'vector' },
  log2: { args: ['vector'], returns: 'vector' },
  log10: { args: ['vector'], returns: 'vector' },
  sgn: { args: ['vector'], returns: 'vector' },
} as const satisfies Record<string, { args: readonly ValueType[]; optional?: number; returns: ValueType }>;

export type FunctionName = keyof typeof FUNCTIONS;

export interface Call {
  type: 'call';
  func: FunctionName;
  args: Expr[];
}

export type AggregateOp = 'sum' | 'avg' | 'min' | 'max' | 'count' | 'topk' | 'bottomk';

export interface AggregateExpr {
  type: 'aggregate';
  op: AggregateOp;
  expr: Expr;
  /** The k of topk/bottomk. */
  param?: Expr;
  /** Labels of `by (…)` or `without (…)`; `by ()` when no clause was written. */
  grouping: string[];
  without: boolean;
}

export type Expr = NumberLiteral | StringLiteral | UnaryExpr | BinaryExpr | VectorSelector | MatrixSelector | Call | AggregateExpr;

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
      return 'matrix';
    case 'call':
      return FUNCTIONS[expr.func].returns;
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
