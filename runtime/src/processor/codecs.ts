/**
 * io-ts building blocks of the stage config codecs on top of the shared ones in
 * common/codecs.ts: regexes that must compile, label names, non-empty lists, keyed records.
 */
import { regexProblem } from '../common/regex.js';
import * as t from 'io-ts';
import { checkedString, delegate, isPlainObject, messageFailure } from '../common/codecs.js';
import { LABEL_NAME } from '../model/labels.js';

/** Why `source` is not a valid RE2 regular expression (common/regex.ts), or undefined. */
export { regexProblem };

/**
 * A regular expression source in RE2 syntax, as Prometheus and Loki use. Kept as the string (compiled by the
 * factory) so a decoded config stays plain data the operator can hash and render.
 */
export const RegexSource = checkedString('regular expression', regexProblem);

/** Why `name` cannot be a new label name (Prometheus rules), or undefined. */
export function labelNameProblem(name: string): string | undefined {
  if (!LABEL_NAME.test(name)) return `invalid label name ${JSON.stringify(name)}: must match ${LABEL_NAME.source}`;
  // Prometheus reserves `__`-prefixed names for internal use (`__name__`, `__error__`).
  if (name.startsWith('__')) return `invalid label name ${JSON.stringify(name)}: names starting with "__" are reserved`;
  return undefined;
}

export const LabelName = checkedString('label name', labelNameProblem);

/** An array that must hold at least one item (an empty list is always a config mistake here). */
export function nonEmptyArray<C extends t.Mixed>(item: C): t.Type<Array<t.TypeOf<C>>, Array<t.OutputOf<C>>, unknown> {
  const inner = t.array(item);
  return new t.Type(
    inner.name,
    inner.is,
    (u, c) => {
      if (Array.isArray(u) && u.length === 0) return t.failures([messageFailure(u, c, 'must not be empty')]);
      return delegate(inner, u, c);
    },
    inner.encode,
  );
}

/**
 * A string-keyed record whose keys are validated too (io-ts's `t.record` silently drops
 * keys its domain rejects, which would turn `set: {1bad: x}` into a no-op).
 */
export function recordOf<V extends t.Mixed>(
  name: string,
  key: t.Type<string, string, unknown>,
  value: V,
): t.Type<Record<string, t.TypeOf<V>>, Record<string, t.OutputOf<V>>, unknown> {
  const inner = t.record(t.string, value);
  return new t.Type(
    name,
    (u): u is Record<string, t.TypeOf<V>> => inner.is(u) && Object.keys(u).every((k) => key.is(k)),
    (u, c) => {
      if (!isPlainObject(u)) return t.failure(u, c);
      const errors: t.ValidationError[] = [];
      const out: Record<string, t.TypeOf<V>> = {};
      for (const k of Object.keys(u)) {
        const entryContext = t.appendContext(c, k, value, u[k]);
        const keyResult = key.validate(k, entryContext);
        if (keyResult._tag === 'Left') errors.push(...keyResult.left);
        const valueResult = value.validate(u[k], entryContext);
        if (valueResult._tag === 'Left') errors.push(...valueResult.left);
        else setOwn(out, k, valueResult.right);
      }
      return errors.length > 0 ? t.failures(errors) : t.success(out);
    },
    (a) => inner.encode(a),
  );
}

/**
 * A value written either as a bare string or as an object; the string form is expanded
 * by `expand` (e.g. `promote: [level]` means `promote: [{field: level}]`). Dispatching on
 * the JSON type keeps errors to the one form the user meant, unlike `t.union`.
 */
export function stringOr<A, O>(
  name: string,
  fromString: t.Type<string, string, unknown>,
  object: t.Type<A, O, unknown>,
  expand: (s: string) => A,
): t.Type<A, O, unknown> {
  return new t.Type(
    name,
    object.is,
    (u, c) => {
      if (typeof u === 'string') {
        const s = delegate(fromString, u, c);
        return s._tag === 'Left' ? s : t.success(expand(s.right));
      }
      if (isPlainObject(u)) return delegate(object, u, c);
      return t.failure(u, c);
    },
    object.encode,
  );
}

/** Assigns an own property even for the key `__proto__` (which `obj[k] = v` would not). */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}
