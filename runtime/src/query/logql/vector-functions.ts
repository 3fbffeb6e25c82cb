/**
 * LogQL's vector operations, all of them the PromQL engine's own (../promql): the
 * aggregations (stddev/stdvar included), sort/sort_desc and label_replace. Only the shapes
 * differ: LogQL names sort and sort_desc as aggregations, and label_replace as an expression.
 */
import type { LabelReplaceExpr, LogAggregateOp } from './ast.js';
import { aggregate, type InstantSample } from '../promql/evaluate.js';
import { labelReplace as promLabelReplace, sortByValue } from '../promql/functions.js';
import { assertUniqueLabelSets } from '../promql/values.js';

export function aggregateLog(
  op: LogAggregateOp,
  samples: InstantSample[],
  grouping: string[],
  without: boolean,
  param?: number,
): InstantSample[] {
  if (op === 'sort' || op === 'sort_desc') return sortByValue(samples, op === 'sort_desc');
  return aggregate(op, samples, grouping, without, param);
}

export function labelReplace(expr: LabelReplaceExpr, samples: InstantSample[]): InstantSample[] {
  const out = promLabelReplace(samples, expr.dst, expr.replacement, expr.src, expr.regex);
  assertUniqueLabelSets(out);
  return out;
}
