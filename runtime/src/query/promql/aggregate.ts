/**
 * Aggregation operators over one instant vector with by/without grouping, as Prometheus 3
 * computes them (Kahan sums, Welford variance, NaN ranked last by topk/bottomk). Shared with
 * the LogQL engine.
 */
import { canonicalLabels } from '../../model/labels.js';
import type { Labels } from '../../model/types.js';
import type { AggregateOp } from './ast.js';
import { QueryError } from './errors.js';
import { formatGoFloat, formatValue } from './format.js';
import { compareLabels, kahanSumInc, quantile, type InstantSample } from './values.js';

function groupLabels(metric: Labels, grouping: readonly string[], without: boolean): Labels {
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

interface Group {
  metric: Labels;
  members: InstantSample[];
}

/** A series' group labels and key, memoised per grouping clause and label set. */
const groupCache = new WeakMap<readonly string[], [WeakMap<Labels, [Labels, string]>, WeakMap<Labels, [Labels, string]>]>();

function groupOf(metric: Labels, grouping: readonly string[], without: boolean): [Labels, string] {
  let caches = groupCache.get(grouping);
  if (!caches) {
    caches = [new WeakMap(), new WeakMap()];
    groupCache.set(grouping, caches);
  }
  const cache = caches[without ? 1 : 0];
  let entry = cache.get(metric);
  if (!entry) {
    const labels = groupLabels(metric, grouping, without);
    entry = [labels, canonicalLabels(labels)];
    cache.set(metric, entry);
  }
  return entry;
}

function groupBy(samples: InstantSample[], grouping: readonly string[], without: boolean): Map<string, Group> {
  const groups = new Map<string, Group>();
  for (const s of samples) {
    const [metric, key] = groupOf(s.metric, grouping, without);
    let group = groups.get(key);
    if (!group) {
      group = { metric, members: [] };
      groups.set(key, group);
    }
    group.members.push(s);
  }
  return groups;
}

/** One group's value, from its members' values in input order. */
const REDUCERS: Partial<Record<AggregateOp, (values: number[], param: number) => number>> = {
  sum: (values) => {
    let sum = 0;
    let c = 0;
    for (const v of values) [sum, c] = kahanSumInc(v, sum, c);
    return sum + c;
  },
  avg: (values) => {
    // Kahan-summed mean, switching to an incremental mean where the sum would overflow.
    let sum = values[0]!;
    let c = 0;
    let mean = values[0]!;
    let incremental = false;
    for (let i = 1; i < values.length; i++) {
      const f = values[i]!;
      const count = i + 1;
      if (!incremental) {
        const [newSum, newC] = kahanSumInc(f, sum, c);
        if (newSum !== Infinity && newSum !== -Infinity) {
          sum = newSum;
          c = newC;
          continue;
        }
        incremental = true;
        mean = sum / (count - 1);
        c /= count - 1;
      }
      const q = (count - 1) / count;
      [mean, c] = kahanSumInc(f / count, q * mean, q * c);
    }
    return incremental ? mean + c : sum / values.length + c / values.length;
  },
  count: (values) => values.length,
  group: () => 1,
  min: (values) => values.reduce((acc, v) => (acc > v || Number.isNaN(acc) ? v : acc)),
  max: (values) => values.reduce((acc, v) => (acc < v || Number.isNaN(acc) ? v : acc)),
  stdvar: (values) => variance(values),
  stddev: (values) => Math.sqrt(variance(values)),
  quantile: (values, q) => quantile(q, values),
};

function variance(values: number[]): number {
  const first = values[0]!;
  let count = 1;
  let mean = first;
  let value = Number.isFinite(first) ? 0 : NaN;
  for (const f of values.slice(1)) {
    count++;
    const delta = f - mean;
    mean += delta / count;
    value += delta * (f - mean);
  }
  return value / count;
}

/** topk/bottomk: k per group; NaN ranks below every number in both directions. */
function selectK(op: 'topk' | 'bottomk', groups: Map<string, Group>, param: number, inputSize: number): InstantSample[] {
  // Prometheus' order: a k below 1 answers nothing before anything is checked.
  if (param < 1) return [];
  if (Number.isNaN(param)) throw new QueryError('execution', 'Parameter value is NaN');
  if (param >= 2 ** 63) throw new QueryError('execution', `Scalar value ${formatGoFloat(param)} overflows int64`);
  const k = Math.min(Math.trunc(param), inputSize);
  if (k < 1) return [];
  const better = (a: number, b: number): number => {
    if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : 1;
    if (Number.isNaN(b)) return -1;
    return op === 'topk' ? b - a : a - b;
  };
  const out: InstantSample[] = [];
  for (const group of groups.values()) {
    // Prometheus keeps the first of equal values in its input order, which is the series'
    // label order: sort by labels first so ties do not depend on the store's order.
    const sorted = [...group.members].sort((a, b) => compareLabels(a.metric, b.metric)).sort((a, b) => better(a.value, b.value));
    out.push(...sorted.slice(0, k).map((s) => ({ metric: s.metric, value: s.value })));
  }
  return out;
}

/** count_values: the number of elements per distinct value, the value in a label. */
function countValues(samples: InstantSample[], label: string, grouping: readonly string[], without: boolean): InstantSample[] {
  if (label === '' || !label.isWellFormed()) throw new QueryError('execution', `invalid label name "${label}"`);
  const withValue = samples.map((s) => ({ metric: { ...s.metric, [label]: formatValue(s.value) }, value: s.value }));
  const groups = groupBy(withValue, without ? grouping : [...grouping, label], without);
  return [...groups.values()].map((g) => ({ metric: g.metric, value: g.members.length }));
}

/** Applies an aggregation to one instant vector with by/without grouping. */
export function aggregate(
  op: AggregateOp,
  samples: InstantSample[],
  grouping: readonly string[],
  without: boolean,
  param?: number | string,
): InstantSample[] {
  if (op === 'count_values') return countValues(samples, String(param), grouping, without);
  const groups = groupBy(samples, grouping, without);
  // k is checked before the input is looked at: Prometheus refuses topk(1e20, x) even where x
  // is empty.
  if (op === 'topk' || op === 'bottomk') {
    return selectK(op, groups, typeof param === 'number' ? param : NaN, samples.length);
  }
  const reduce = REDUCERS[op];
  if (!reduce) throw new QueryError('internal', `unknown aggregation ${op}`);
  const q = typeof param === 'number' ? param : NaN;
  return [...groups.values()].map((g) => ({
    metric: g.metric,
    value: reduce(
      g.members.map((s) => s.value),
      q,
    ),
  }));
}
