/**
 * The condition language of the `filter` and `drop` stages, kept small and explicit:
 *
 *   {label: level, equals: debug}      {field: status, matches: "^5.."}
 *   {label: ns, in: [a, b]}            {field: trace_id, exists: true}
 *   {message: {contains: "GET /health"}}   {message: {matches: "timeout|refused"}}
 *   {all: [...]}   {any: [...]}   {not: {...}}
 *
 * Regexes are JavaScript syntax and unanchored (add ^ and $ to anchor). Field values are
 * compared as text, so `{field: status, equals: 500}` matches 500 and "500"; objects,
 * arrays and null never equal or match anything. Only top-level fields are addressed.
 */
import { compileRegex } from '../common/regex.js';
import * as t from 'io-ts';
import type { LogEntry } from '../model/types.js';
import { checkedString, closed, delegate, isPlainObject, messageFailure, NonEmptyString } from '../common/codecs.js';
import { LABEL_NAME } from '../model/labels.js';
import { nonEmptyArray, RegexSource } from './codecs.js';

export type Scalar = string | number | boolean;

export type Condition =
  | { label: string; equals: string }
  | { label: string; matches: string }
  | { label: string; in: string[] }
  | { label: string; exists: boolean }
  | { field: string; equals: Scalar }
  | { field: string; matches: string }
  | { field: string; in: Scalar[] }
  | { field: string; exists: boolean }
  | { message: { contains: string } | { matches: string } }
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition };

/**
 * Picks the variant by which of its keys is present: exactly one must be. Dispatching on
 * the key (rather than `t.union`) gives one precise error instead of one per variant.
 */
function oneOfKeys(name: string, what: string, variants: Record<string, t.Mixed>): t.Type<unknown, unknown, unknown> {
  const keys = Object.keys(variants);
  const list = keys.join(', ');
  return new t.Type<unknown, unknown, unknown>(
    name,
    (u): u is unknown => isPlainObject(u) && keys.some((k) => u[k] !== undefined && variants[k]!.is(u)),
    (u, c) => {
      if (!isPlainObject(u)) return t.failure(u, c);
      const present = keys.filter((k) => u[k] !== undefined);
      if (present.length !== 1) {
        const got = present.length === 0 ? '' : `; got ${present.join(', ')}`;
        return t.failures([messageFailure(u, c, `${what} needs exactly one of: ${list}${got}`)]);
      }
      return delegate(variants[present[0]!]!, u, c);
    },
    t.identity,
  );
}

const Scalar = t.union([t.string, t.number, t.boolean], 'string | number | boolean');

/** A label a stream can have: a condition on any other name could never match, so it is a mistake. */
const ConditionLabelName = checkedString('label name', (s) =>
  s === ''
    ? 'must not be empty'
    : LABEL_NAME.test(s)
      ? undefined
      : `invalid label name ${JSON.stringify(s)}: must match ${LABEL_NAME.source}`,
);

function subject<S extends 'label' | 'field'>(
  key: S,
  value: t.Mixed,
  nameCodec: t.Mixed = NonEmptyString,
): t.Type<unknown, unknown, unknown> {
  const name = { [key]: nameCodec } as Record<S, t.Mixed>;
  return oneOfKeys(`${key} condition`, `a ${key} condition`, {
    equals: closed(`${key} condition`, { ...name, equals: value }),
    matches: closed(`${key} condition`, { ...name, matches: RegexSource }),
    in: closed(`${key} condition`, { ...name, in: nonEmptyArray(value) }),
    exists: closed(`${key} condition`, { ...name, exists: t.boolean }),
  });
}

const MessageTest = oneOfKeys('message condition', 'a message condition', {
  contains: closed('message condition', { contains: NonEmptyString }),
  matches: closed('message condition', { matches: RegexSource }),
});

const AnyCondition = oneOfKeys('condition', 'a condition', {
  label: subject('label', t.string, ConditionLabelName),
  field: subject('field', Scalar),
  message: closed('condition', { message: MessageTest }),
  // Lazily referenced: the combinators nest conditions.
  all: closed('condition', { all: nonEmptyArray(t.recursion<Condition, Condition, unknown>('condition', () => ConditionCodec)) }),
  any: closed('condition', { any: nonEmptyArray(t.recursion<Condition, Condition, unknown>('condition', () => ConditionCodec)) }),
  not: closed('condition', { not: t.recursion<Condition, Condition, unknown>('condition', () => ConditionCodec) }),
});

/**
 * Bound on the decoding context (each nesting level adds two or three entries): a config
 * nested thousands of levels deep would otherwise overflow the stack instead of failing
 * with an error, and the operator decodes specs written by anyone with RBAC on Pipelines.
 */
const MAX_CONTEXT_DEPTH = 100;

export const ConditionCodec: t.Type<Condition, Condition, unknown> = new t.Type<Condition, Condition, unknown>(
  'condition',
  (u): u is Condition => AnyCondition.is(u),
  (u, c) =>
    c.length > MAX_CONTEXT_DEPTH
      ? t.failures([messageFailure(u, c, 'conditions are nested too deeply')])
      : (delegate(AnyCondition, u, c) as t.Validation<Condition>),
  t.identity,
);

export type Predicate = (entry: LogEntry) => boolean;

/** Compiles a decoded condition into a closure; regexes are compiled here, once. */
export function compileCondition(condition: Condition): Predicate {
  if ('all' in condition) {
    const parts = condition.all.map(compileCondition);
    return (entry) => parts.every((p) => p(entry));
  }
  if ('any' in condition) {
    const parts = condition.any.map(compileCondition);
    return (entry) => parts.some((p) => p(entry));
  }
  if ('not' in condition) {
    const inner = compileCondition(condition.not);
    return (entry) => !inner(entry);
  }
  if ('message' in condition) {
    const test = condition.message;
    if ('contains' in test) {
      const needle = test.contains;
      return (entry) => entry.message.includes(needle);
    }
    const regex = compileRegex(test.matches, { anchored: false });
    return (entry) => regex.test(entry.message);
  }
  if ('label' in condition) {
    const name = condition.label;
    // Own keys only: a label named `constructor` must not find Object.prototype.constructor.
    return valueTest(condition, (entry) => (Object.hasOwn(entry.labels, name) ? entry.labels[name] : undefined));
  }
  const name = condition.field;
  return valueTest(condition, (entry) => (Object.hasOwn(entry.fields, name) ? entry.fields[name] : undefined));
}

type ValueTest = { equals: Scalar } | { matches: string } | { in: Scalar[] } | { exists: boolean };

function valueTest(test: ValueTest, read: (entry: LogEntry) => unknown): Predicate {
  if ('exists' in test) {
    const want = test.exists;
    return (entry) => (read(entry) !== undefined) === want;
  }
  if ('equals' in test) {
    const expected = String(test.equals);
    return (entry) => asText(read(entry)) === expected;
  }
  if ('matches' in test) {
    const regex = compileRegex(test.matches, { anchored: false });
    return (entry) => {
      const text = asText(read(entry));
      return text !== undefined && regex.test(text);
    };
  }
  const allowed = new Set(test.in.map(String));
  return (entry) => {
    const text = asText(read(entry));
    return text !== undefined && allowed.has(text);
  };
}

function asText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return undefined;
}
