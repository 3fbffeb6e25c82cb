/**
 * io-ts building blocks shared by the stage config codecs. Stage configs are written by
 * people in YAML, so the codecs reject what io-ts would silently accept (unknown keys,
 * regexes that do not compile, invalid label names) and every failure carries a message
 * that `common/decode.ts` prints after the path of the bad value.
 */
import { regexProblem } from '../common/regex.js';
import * as t from 'io-ts';

/** Short JSON rendering of a bad value for error messages (same style as common/decode.ts). */
export function preview(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Error pinned to `key` below the current path: `<path>.<key>: <message>`. */
export function keyFailure(value: unknown, c: t.Context, key: string, message: string): t.ValidationError {
  return { value, context: t.appendContext(c, key, t.unknown, value), message };
}

export function messageFailure(value: unknown, c: t.Context, message: string): t.ValidationError {
  return { value, context: c, message };
}

/**
 * Validates with `codec` as if it stood in the wrapper's place in the context. The path
 * printer turns array indices into `[i]` only when the parent in the context is the array
 * type itself, so a wrapper (default, optional, non-empty) must not hide it.
 */
export function delegate<A>(codec: t.Decoder<unknown, A>, u: unknown, c: t.Context): t.Validation<A> {
  const last = c[c.length - 1];
  if (last === undefined) return codec.validate(u, c);
  return codec.validate(u, [...c.slice(0, -1), { ...last, type: codec }]);
}

/** A problem found by a cross-field check, reported under `key`, or on the object itself without one. */
export interface FieldProblem {
  key?: string;
  message: string;
}

/**
 * A `t.type` that also rejects unknown keys (a typo such as `detector:` must not be a
 * silent no-op) and runs an optional cross-field `check` — the Loki `validate()` idea —
 * whose problems are reported together with the per-field ones.
 */
export function closed<P extends t.Props>(
  name: string,
  props: P,
  check?: (value: t.TypeOf<t.TypeC<P>>) => FieldProblem[],
): t.Type<t.TypeOf<t.TypeC<P>>, t.OutputOf<t.TypeC<P>>, unknown> {
  const inner = t.type(props);
  const known = Object.keys(props);
  const valid = known.join(', ');
  return new t.Type(
    name,
    (u): u is t.TypeOf<t.TypeC<P>> => inner.is(u),
    (u, c) => {
      if (!isPlainObject(u)) return t.failure(u, c);
      const errors: t.ValidationError[] = [];
      for (const key of Object.keys(u)) {
        if (!Object.prototype.hasOwnProperty.call(props, key)) {
          errors.push(keyFailure(u[key], c, key, `unknown field (valid: ${valid})`));
        }
      }
      const result = inner.validate(u, c);
      if (result._tag === 'Left') return t.failures([...errors, ...result.left]);
      // Cross-field checks need well-typed fields, but not the absence of unknown keys.
      for (const p of check ? check(result.right) : []) {
        errors.push(p.key === undefined ? messageFailure(u, c, p.message) : keyFailure(u[p.key], c, p.key, p.message));
      }
      return errors.length > 0 ? t.failures(errors) : t.success(result.right);
    },
    (a) => inner.encode(a),
  );
}

/**
 * Decodes a missing (`undefined`) value to `fallback`, so the default lives in the codec
 * itself and the decoded type has no optional field left for the factory to resolve.
 */
export function withDefault<C extends t.Mixed>(codec: C, fallback: t.TypeOf<C>): t.Type<t.TypeOf<C>, t.OutputOf<C>, unknown> {
  return new t.Type(
    codec.name,
    (u): u is t.TypeOf<C> => codec.is(u),
    (u, c) => (u === undefined ? t.success(fallback) : delegate(codec, u, c)),
    (a) => codec.encode(a),
  );
}

/**
 * An optional field: a missing value decodes to undefined, anything else must satisfy
 * `codec`. Unlike `t.union([codec, t.undefined])` a bad value gets one error, not two.
 */
export function optional<C extends t.Mixed>(codec: C): t.Type<t.TypeOf<C> | undefined, t.OutputOf<C> | undefined, unknown> {
  return new t.Type(
    codec.name,
    (u): u is t.TypeOf<C> | undefined => u === undefined || codec.is(u),
    (u, c) => (u === undefined ? t.success(undefined) : delegate(codec, u, c)),
    (a) => (a === undefined ? undefined : codec.encode(a)),
  );
}

/** A string validated by `test`, which returns an error message or undefined. */
export function checkedString(name: string, test: (s: string) => string | undefined): t.Type<string, string, unknown> {
  return new t.Type(
    name,
    (u): u is string => typeof u === 'string' && test(u) === undefined,
    (u, c) => {
      if (typeof u !== 'string') return t.failure(u, c);
      const problem = test(u);
      return problem === undefined ? t.success(u) : t.failures([messageFailure(u, c, problem)]);
    },
    t.identity,
  );
}

export const NonEmptyString = checkedString('non-empty string', (s) => (s.length === 0 ? 'must not be empty' : undefined));

/** Why `source` is not a valid RE2 regular expression (common/regex.ts), or undefined. */
export { regexProblem };

/**
 * A regular expression source in RE2 syntax, as Prometheus and Loki use. Kept as the string (compiled by the
 * factory) so a decoded config stays plain data the operator can hash and render.
 */
export const RegexSource = checkedString('regular expression', regexProblem);

export const LABEL_NAME_PATTERN = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Why `name` cannot be a new label name (Prometheus rules), or undefined. */
export function labelNameProblem(name: string): string | undefined {
  if (!LABEL_NAME_PATTERN.test(name)) return `invalid label name ${JSON.stringify(name)}: must match ^[a-zA-Z_][a-zA-Z0-9_]*$`;
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
