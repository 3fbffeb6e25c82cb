/**
 * io-ts building blocks of every config codec in Sextant (runtime config sections, stage
 * configs, the agent's config, the operator's CRD schema nodes). Configs are written by
 * people in YAML, so the codecs reject what io-ts would silently accept (unknown keys,
 * values out of range) and every failure carries a message that `decode.ts` prints after
 * the path of the bad value (docs/architecture.md §7).
 */
import * as t from 'io-ts';
import { parseDuration } from './duration.js';

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

/**
 * An object section that may be left out: a missing one decodes as `{}` would, so each
 * default is written once, on its field (not again as the section's fallback).
 */
export function section<C extends t.Mixed>(codec: C): t.Type<t.TypeOf<C>, t.OutputOf<C>, unknown> {
  return new t.Type(
    codec.name,
    (u): u is t.TypeOf<C> => codec.is(u),
    (u, c) => delegate(codec, u === undefined ? {} : u, c),
    (a) => codec.encode(a),
  );
}

/** A whole number greater than zero. */
export const PositiveInt = integerIn('positive integer', 1, Number.MAX_SAFE_INTEGER);

/** A TCP port, 0 (any free port) to 65535. */
export const Port = integerIn('port 0-65535', 0, 65_535);

/** A whole number from `min` to `max`, named `name` in errors. */
export function integerIn(name: string, min: number, max: number): t.Type<number, number, unknown> {
  const ok = (u: unknown): u is number => typeof u === 'number' && Number.isInteger(u) && u >= min && u <= max;
  return new t.Type<number, number, unknown>(name, ok, (u, c) => (ok(u) ? t.success(u) : t.failure(u, c)), t.identity);
}

/**
 * A duration string in the one grammar (Prometheus': "30s", "5m", "1h30m", "7d", "0";
 * duration.ts), decoded to milliseconds. `examples` completes the error message
 * ("expected e.g. 30s or 5m").
 */
export function durationMs(name: string, examples: string): t.Type<number, string, unknown> {
  return new t.Type<number, string, unknown>(
    name,
    (u): u is number => typeof u === 'number' && u >= 0,
    (u, c) => {
      if (typeof u !== 'string') return t.failure(u, c);
      const ms = parseDuration(u);
      return ms === undefined
        ? t.failures([{ value: u, context: c, message: `invalid duration ${JSON.stringify(u)}: expected e.g. ${examples}` }])
        : t.success(ms);
    },
    (ms) => `${ms}ms`,
  );
}
