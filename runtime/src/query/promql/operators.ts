/**
 * Binary operators on evaluated values (scalars and instant vectors), shared with the LogQL
 * engine: arithmetic, comparisons (filtering or `bool`), set operators, and vector matching
 * one-to-one, many-to-one (`group_left`) and one-to-many (`group_right`), as Prometheus'
 * VectorBinop.
 */
import { canonicalLabels } from '../../model/labels.js';
import type { Labels } from '../../model/types.js';
import { isComparison, type BinaryOp, type VectorMatching } from './ast.js';
import { badData, QueryError } from './errors.js';
import { assertUniqueLabelSets, dropName, type InstantSample, type Value } from './values.js';

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
    return { type: 'vector', samples: vectorVector(op, lhs.samples, rhs.samples, returnBool, matching ?? DEFAULT_MATCHING) };
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

const DEFAULT_MATCHING: VectorMatching = { on: false, labels: [] };
const signatures = new WeakMap<VectorMatching, WeakMap<Labels, string>>();

/** The matching key of a series, memoised per matching clause and label set. */
function signature(metric: Labels, matching: VectorMatching): string {
  let cache = signatures.get(matching);
  if (!cache) {
    cache = new WeakMap();
    signatures.set(matching, cache);
  }
  let sig = cache.get(metric);
  if (sig === undefined) {
    sig = computeSignature(metric, matching);
    cache.set(metric, sig);
  }
  return sig;
}

function computeSignature(metric: Labels, matching: VectorMatching): string {
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

/** Prometheus' resultMetric: the "many" side's labels, trimmed for one-to-one, plus group_x labels from the "one" side. */
function resultMetric(many: Labels, one: Labels, op: BinaryOp, matching: VectorMatching, returnBool: boolean): Labels {
  let metric = !isComparison(op) || returnBool ? dropName(many) : many;
  if (!matching.card) {
    if (matching.on) {
      const kept: Labels = {};
      for (const name of matching.labels) if (metric[name] !== undefined) kept[name] = metric[name];
      metric = kept;
    } else if (matching.labels.length > 0) {
      metric = Object.fromEntries(Object.entries(metric).filter(([name]) => !matching.labels.includes(name)));
    }
  }
  if (matching.include && matching.include.length > 0) {
    metric = { ...metric };
    for (const name of matching.include) {
      const value = one[name];
      if (value !== undefined && value !== '') metric[name] = value;
      else delete metric[name];
    }
  }
  return metric;
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
  if (lhs.length === 0 || rhs.length === 0) return [];
  // One-to-many: the right side is the "many" side; swap and account for it in the values.
  const swapped = matching.card === 'one-to-many';
  const [many, one] = swapped ? [rhs, lhs] : [lhs, rhs];
  const oneBySig = new Map<string, InstantSample>();
  for (const s of one) {
    const sig = signature(s.metric, matching);
    if (oneBySig.has(sig)) {
      throw new QueryError(
        'execution',
        `found duplicate series for the match group ${sig.replaceAll('\u0000', '=').replaceAll('\u0001', ',')} on the ${swapped ? 'left' : 'right'} hand-side of the operation; many-to-many matching not allowed: matching labels must be unique on one side`,
      );
    }
    oneBySig.set(sig, s);
  }
  const matched = new Map<string, Set<string>>();
  const out: InstantSample[] = [];
  for (const m of many) {
    const sig = signature(m.metric, matching);
    const o = oneBySig.get(sig);
    if (!o) continue;
    const [x, y] = swapped ? [o.value, m.value] : [m.value, o.value];
    let [value, keep] = scalarOp(op, x, y);
    const metric = resultMetric(m.metric, o.metric, op, matching, returnBool);
    const seen = matched.get(sig);
    if (!matching.card) {
      if (seen)
        throw new QueryError('execution', 'multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)');
      matched.set(sig, new Set());
    } else {
      const key = canonicalLabels(metric);
      if (seen?.has(key)) throw new QueryError('execution', 'multiple matches for labels: grouping labels must ensure unique matches');
      if (seen) seen.add(key);
      else matched.set(sig, new Set([key]));
    }
    if (returnBool) {
      value = keep ? 1 : 0;
      keep = true;
    }
    if (!keep) continue;
    out.push({ metric, value });
  }
  assertUniqueLabelSets(out);
  return out;
}
