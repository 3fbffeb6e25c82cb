/**
 * The vector operations LogQL has and the PromQL engine (../promql/evaluate.ts) does not:
 * stddev/stdvar, sort/sort_desc and label_replace. sum/avg/min/max/count/topk/bottomk and the
 * binary operators are the PromQL engine's own functions, reused as they are.
 */
import { canonicalLabels } from '../../model/labels.js';
import type { Labels } from '../../model/types.js';
import { aggregate, type InstantSample } from '../promql/evaluate.js';
import { QueryError } from '../promql/errors.js';
import type { LabelReplaceExpr, LogAggregateOp } from './ast.js';
import { expand } from '../../common/regex.js';
import { compileRegex } from './regex.js';

function groupLabels(metric: Labels, grouping: string[], without: boolean): Labels {
  const out: Labels = {};
  if (without) {
    for (const [name, value] of Object.entries(metric)) if (!grouping.includes(name)) out[name] = value;
  } else {
    for (const name of grouping) if (metric[name] !== undefined && metric[name] !== '') out[name] = metric[name];
  }
  return out;
}

function populationVariance(values: number[]): number {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length;
}

export function aggregateLog(
  op: LogAggregateOp,
  samples: InstantSample[],
  grouping: string[],
  without: boolean,
  param?: number,
): InstantSample[] {
  switch (op) {
    case 'sort':
      return [...samples].sort((a, b) => a.value - b.value || (Number.isNaN(a.value) ? 1 : Number.isNaN(b.value) ? -1 : 0));
    case 'sort_desc':
      return [...samples].sort((a, b) => b.value - a.value || (Number.isNaN(a.value) ? 1 : Number.isNaN(b.value) ? -1 : 0));
    case 'stddev':
    case 'stdvar': {
      const groups = new Map<string, { metric: Labels; values: number[] }>();
      for (const s of samples) {
        const metric = groupLabels(s.metric, grouping, without);
        const key = canonicalLabels(metric);
        let g = groups.get(key);
        if (!g) {
          g = { metric, values: [] };
          groups.set(key, g);
        }
        g.values.push(s.value);
      }
      return [...groups.values()].map((g) => {
        const v = populationVariance(g.values);
        return { metric: g.metric, value: op === 'stddev' ? Math.sqrt(v) : v };
      });
    }
    default:
      return aggregate(op, samples, grouping, without, param);
  }
}

export function labelReplace(expr: LabelReplaceExpr, samples: InstantSample[]): InstantSample[] {
  const re = compileRegex(expr.regex, { anchored: true, where: 'label_replace()' });
  const out = samples.map((s) => {
    const m = re.matchWhole(s.metric[expr.src] ?? '');
    if (!m) return s;
    const value = expand(expr.replacement, m);
    const metric = { ...s.metric };
    if (value === '') delete metric[expr.dst];
    else metric[expr.dst] = value;
    return { metric, value: s.value };
  });
  const seen = new Set<string>();
  for (const s of out) {
    const key = canonicalLabels(s.metric);
    if (seen.has(key)) throw new QueryError('execution', 'vector cannot contain metrics with the same labelset');
    seen.add(key);
  }
  return out;
}
