/**
 * One definition, two outputs: every node of the Sextant API is built once here and yields
 * both the io-ts codec the operator decodes with and the OpenAPI v3 schema the CRD carries
 * (docs/architecture.md §6: the CRD schema and the codec must not drift). Descriptions, defaults, enums,
 * patterns, bounds and cross-field rules are written once; a cross-field rule is the one
 * place written twice (CEL for the API server, a TypeScript predicate for the codec), and
 * the invalid-spec corpus (test/cluster/fixtures/invalid) proves the two agree.
 */
import * as t from 'io-ts';
import { preview } from '../../../runtime/src/common/index.js';
import { closed, isPlainObject, messageFailure, optional, withDefault, type FieldProblem } from '../../../runtime/src/common/index.js';

/** The subset of OpenAPI v3 (plus Kubernetes extensions) a structural CRD schema uses. */
export interface OpenApiSchema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  properties?: Record<string, OpenApiSchema>;
  required?: string[];
  items?: OpenApiSchema;
  additionalProperties?: OpenApiSchema;
  default?: unknown;
  enum?: readonly unknown[];
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  minItems?: number;
  maxItems?: number;
  maxProperties?: number;
  'x-kubernetes-validations'?: CelRule[];
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
}

export interface CelRule {
  rule: string;
  message: string;
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

/** A node of the API: its codec and its schema, always built together. */
export interface Node<A> {
  readonly codec: t.Type<A, unknown, unknown>;
  readonly schema: OpenApiSchema;
}

/**
 * A cross-field rule: `cel` runs in the API server, `holds` in the codec. Both report
 * `message`, under `field` when given (a direct child of the object the rule sits on).
 */
export interface Rule<A> {
  cel: string;
  message: string;
  field?: string;
  holds: (value: A) => boolean;
}

function withMessage<A>(
  name: string,
  is: (u: unknown) => u is A,
  problem: (u: unknown) => string | undefined,
): t.Type<A, unknown, unknown> {
  return new t.Type<A, unknown, unknown>(
    name,
    (u): u is A => is(u) && problem(u) === undefined,
    (u, c) => {
      if (!is(u)) return t.failure(u, c);
      const p = problem(u);
      return p === undefined ? t.success(u) : t.failures([messageFailure(u, c, p)]);
    },
    t.identity,
  );
}

export interface StringOptions {
  /** Anchored regular expression in the common subset of RE2 (API server) and JavaScript. */
  pattern?: string;
  /** Said after the pattern in the codec's error, e.g. "a DNS-1123 label". */
  patternHint?: string;
  enum?: readonly string[];
  minLength?: number;
  maxLength?: number;
  format?: string;
  /**
   * Checks with a message of their own, in order: `cel` (on `self`, the string) in the API
   * server, `holds` in the codec. Each rule is only checked once the earlier ones hold, so
   * both sides report exactly one message: the first problem, in words that name the fix.
   */
  rules?: StringRule[];
}

export interface StringRule {
  cel: string;
  message: string;
  holds: (value: string) => boolean;
}

/** The CEL of ordered rules: rule i is checked only when rules 0..i-1 hold. */
function chainedCel(rules: StringRule[]): CelRule[] {
  return rules.map((r, i) => {
    const earlier = rules.slice(0, i).map((e) => `(${e.cel})`);
    return { rule: earlier.length === 0 ? r.cel : `!(${earlier.join(' && ')}) || (${r.cel})`, message: r.message };
  });
}

export function string(description: string, options: StringOptions = {}): Node<string> {
  const regex = options.pattern === undefined ? undefined : new RegExp(options.pattern);
  const name = options.enum ? options.enum.map((e) => JSON.stringify(e)).join(' | ') : (options.patternHint ?? 'string');
  const codec = withMessage(
    name,
    (u): u is string => typeof u === 'string',
    (s) => {
      const text = s as string;
      if (options.enum && !options.enum.includes(text)) return `must be one of ${options.enum.join(', ')}, got ${preview(text)}`;
      if (options.minLength !== undefined && text.length < options.minLength) {
        return options.minLength === 1 ? 'must not be empty' : `must be at least ${options.minLength} characters long`;
      }
      if (options.maxLength !== undefined && text.length > options.maxLength) return `must be at most ${options.maxLength} characters long`;
      if (regex && !regex.test(text)) {
        return `must match ${options.pattern}${options.patternHint ? ` (${options.patternHint})` : ''}, got ${preview(text)}`;
      }
      const broken = options.rules?.find((r) => !r.holds(text));
      return broken === undefined ? undefined : `${broken.message}, got ${preview(text)}`;
    },
  );
  return {
    codec,
    schema: {
      type: 'string',
      description,
      ...(options.enum ? { enum: options.enum } : {}),
      ...(options.pattern ? { pattern: options.pattern } : {}),
      ...(options.format ? { format: options.format } : {}),
      ...(options.minLength !== undefined ? { minLength: options.minLength } : {}),
      ...(options.maxLength !== undefined ? { maxLength: options.maxLength } : {}),
      ...(options.rules?.length ? { 'x-kubernetes-validations': chainedCel(options.rules) } : {}),
    },
  };
}

/** A CEL string literal. */
export function celString(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** A rule that a regular expression (in the common subset of RE2 and JavaScript) matches, or does not. */
export function matchRule(pattern: string, message: string, expect = true): StringRule {
  const re = new RegExp(pattern);
  return {
    cel: `${expect ? '' : '!'}self.matches(${celString(pattern)})`,
    message,
    holds: (v) => re.test(v) === expect,
  };
}

export interface NumberOptions {
  minimum?: number;
  maximum?: number;
}

function numeric(kind: 'integer' | 'number', description: string, options: NumberOptions): Node<number> {
  const codec = withMessage(
    kind === 'integer' ? 'integer' : 'number',
    (u): u is number => typeof u === 'number' && Number.isFinite(u) && (kind === 'number' || Number.isInteger(u)),
    (n) => {
      const v = n as number;
      if (options.minimum !== undefined && v < options.minimum) return `must be at least ${options.minimum}, got ${v}`;
      if (options.maximum !== undefined && v > options.maximum) return `must be at most ${options.maximum}, got ${v}`;
      return undefined;
    },
  );
  return {
    codec,
    schema: {
      type: kind,
      description,
      ...(kind === 'integer' ? { format: 'int64' } : {}),
      ...(options.minimum !== undefined ? { minimum: options.minimum } : {}),
      ...(options.maximum !== undefined ? { maximum: options.maximum } : {}),
    },
  };
}

export const integer = (description: string, options: NumberOptions = {}): Node<number> => numeric('integer', description, options);
export const number = (description: string, options: NumberOptions = {}): Node<number> => numeric('number', description, options);

export function boolean(description: string): Node<boolean> {
  return { codec: t.boolean as unknown as t.Type<boolean, unknown, unknown>, schema: { type: 'boolean', description } };
}

export interface ListOptions {
  minItems?: number;
  maxItems?: number;
  /** `set`: scalar items without duplicates (the API server rejects duplicates too). */
  listType?: 'atomic' | 'set';
}

export function list<A>(description: string, item: Node<A>, options: ListOptions = {}): Node<A[]> {
  const inner = t.array(item.codec, `list of ${item.codec.name}`);
  const codec = new t.Type<A[], unknown, unknown>(
    inner.name,
    (u): u is A[] => inner.is(u),
    (u, c) => {
      if (!Array.isArray(u)) return t.failure(u, c);
      const problems: t.ValidationError[] = [];
      if (options.minItems !== undefined && u.length < options.minItems) {
        problems.push(messageFailure(u, c, options.minItems === 1 ? 'must not be empty' : `must have at least ${options.minItems} items`));
      }
      if (options.maxItems !== undefined && u.length > options.maxItems) {
        problems.push(messageFailure(u, c, `must have at most ${options.maxItems} items, got ${u.length}`));
      }
      if (options.listType === 'set') {
        const seen = new Set<string>();
        for (const v of u) {
          const key = JSON.stringify(v);
          if (seen.has(key)) problems.push(messageFailure(u, c, `lists ${preview(v)} twice`));
          seen.add(key);
        }
      }
      // The array context must be the array type itself so paths print as `[i]`.
      const last = c[c.length - 1];
      const result = inner.validate(u, last === undefined ? c : [...c.slice(0, -1), { ...last, type: inner }]);
      if (result._tag === 'Left') return t.failures([...problems, ...result.left]);
      return problems.length > 0 ? t.failures(problems) : t.success(result.right);
    },
    t.identity,
  );
  return {
    codec,
    schema: {
      type: 'array',
      description,
      items: item.schema,
      ...(options.minItems !== undefined ? { minItems: options.minItems } : {}),
      ...(options.maxItems !== undefined ? { maxItems: options.maxItems } : {}),
      ...(options.listType ? { 'x-kubernetes-list-type': options.listType } : {}),
    },
  };
}

export interface MapOptions {
  /** Anchored pattern every key must match (a CEL rule in the CRD). */
  keyPattern?: string;
  keyHint?: string;
  maxProperties?: number;
}

export function map<A>(description: string, value: Node<A>, options: MapOptions = {}): Node<Record<string, A>> {
  const keyRegex = options.keyPattern === undefined ? undefined : new RegExp(options.keyPattern);
  const keyMessage = `keys must match ${options.keyPattern}${options.keyHint ? ` (${options.keyHint})` : ''}`;
  const codec = new t.Type<Record<string, A>, unknown, unknown>(
    `map of ${value.codec.name}`,
    (u): u is Record<string, A> => isPlainObject(u) && Object.values(u).every((v) => value.codec.is(v)),
    (u, c) => {
      if (!isPlainObject(u)) return t.failure(u, c);
      const errors: t.ValidationError[] = [];
      const out: Record<string, A> = {};
      if (options.maxProperties !== undefined && Object.keys(u).length > options.maxProperties) {
        errors.push(messageFailure(u, c, `must have at most ${options.maxProperties} entries`));
      }
      for (const k of Object.keys(u)) {
        const entry = t.appendContext(c, k, value.codec, u[k]);
        if (keyRegex && !keyRegex.test(k)) errors.push(messageFailure(k, entry, `${keyMessage}, got ${preview(k)}`));
        const r = value.codec.validate(u[k], entry);
        if (r._tag === 'Left') errors.push(...r.left);
        else Object.defineProperty(out, k, { value: r.right, enumerable: true, writable: true, configurable: true });
      }
      return errors.length > 0 ? t.failures(errors) : t.success(out);
    },
    t.identity,
  );
  return {
    codec,
    schema: {
      type: 'object',
      description,
      additionalProperties: value.schema,
      ...(options.maxProperties !== undefined ? { maxProperties: options.maxProperties } : {}),
      ...(options.keyPattern
        ? { 'x-kubernetes-validations': [{ rule: `self.all(k, k.matches(${celString(options.keyPattern)}))`, message: keyMessage }] }
        : {}),
    },
  };
}

/** A field of an object: required, optional, or defaulted (the default is applied by both the API server and the codec). */
export interface Prop<A, Required extends boolean> {
  readonly node: Node<A>;
  readonly required: Required;
  readonly codec: t.Mixed;
  readonly schema: OpenApiSchema;
}

export function required<A>(node: Node<A>): Prop<A, true> {
  return { node, required: true, codec: node.codec, schema: node.schema };
}

export function optionalField<A>(node: Node<A>): Prop<A, false> {
  return { node, required: false, codec: optional(node.codec), schema: node.schema };
}

/** A field the decoded value always has: a missing one takes `value`. */
export function defaulted<A>(node: Node<A>, value: A): Prop<A, true> & { readonly hasDefault: true } {
  return {
    node,
    required: true,
    hasDefault: true,
    codec: withDefault(node.codec, value),
    schema: { ...node.schema, description: withDefaultNote(node.schema.description ?? '', value), default: value },
  };
}

/** kubectl explain does not print `default`, so the description says it. */
export function withDefaultNote(description: string, value: unknown): string {
  if (/\bdefault\b/i.test(description)) return description;
  const text = Array.isArray(value) ? value.join(', ') : value === '' ? '"" (empty)' : String(value);
  return `${description} Default: ${text}.`;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyProp = Prop<any, boolean>;
type Props = Record<string, AnyProp>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type RequiredKeys<P extends Props> = { [K in keyof P]: P[K] extends Prop<any, true> ? K : never }[keyof P];
type OptionalKeys<P extends Props> = Exclude<keyof P, RequiredKeys<P>>;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
/** The decoded TypeScript type of an object node. */
export type ObjectOf<P extends Props> = Simplify<
  { [K in RequiredKeys<P>]: P[K] extends Prop<infer A, boolean> ? A : never } & {
    [K in OptionalKeys<P>]?: P[K] extends Prop<infer A, boolean> ? A : never;
  }
>;

export interface ObjectOptions<A> {
  /** Name in codec errors ("is required (<name>)"). */
  name?: string;
  rules?: Rule<A>[];
}

export function object<P extends Props>(description: string, props: P, options: ObjectOptions<ObjectOf<P>> = {}): Node<ObjectOf<P>> {
  const rules = options.rules ?? [];
  const codecs = Object.fromEntries(Object.entries(props).map(([k, p]) => [k, p.codec])) as t.Props;
  const check = (value: unknown): FieldProblem[] =>
    rules
      .filter((r) => !r.holds(value as ObjectOf<P>))
      .map((r) => (r.field === undefined ? { message: r.message } : { key: r.field, message: r.message }));
  const inner = closed(options.name ?? 'object', codecs, check);
  // Optional fields decode to undefined; drop those keys so the value reads like the YAML.
  const codec = new t.Type<ObjectOf<P>, unknown, unknown>(
    inner.name,
    (u): u is ObjectOf<P> => inner.is(u),
    (u, c) => {
      const r = inner.validate(u, c);
      if (r._tag === 'Left') return r;
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(r.right as Record<string, unknown>)) if (v !== undefined) out[k] = v;
      return t.success(out as ObjectOf<P>);
    },
    t.identity,
  );
  const requiredKeys = Object.entries(props)
    .filter(([, p]) => p.required && !('hasDefault' in p))
    .map(([k]) => k);
  return {
    codec,
    schema: {
      type: 'object',
      description,
      properties: Object.fromEntries(Object.entries(props).map(([k, p]) => [k, p.schema])),
      ...(requiredKeys.length > 0 ? { required: requiredKeys } : {}),
      ...(rules.length > 0
        ? {
            'x-kubernetes-validations': rules.map((r) => ({
              rule: r.cel,
              message: r.message,
              ...(r.field !== undefined ? { fieldPath: `.${r.field}` } : {}),
            })),
          }
        : {}),
    },
  };
}

/** Same node, another description (a shared type used in a place that needs its own words). */
export function describe<A>(node: Node<A>, description: string): Node<A> {
  return { codec: node.codec, schema: { ...node.schema, description } };
}

/** A node whose codec and schema are written separately (the processor stages, which the runtime owns). */
export function custom<A>(codec: t.Type<A, unknown, unknown>, schema: OpenApiSchema): Node<A> {
  return { codec, schema };
}

/** Adds CEL-only validations to a node's schema (for rules whose codec side lives in `custom` codecs). */
export function withCel<A>(node: Node<A>, rules: CelRule[]): Node<A> {
  return {
    codec: node.codec,
    schema: { ...node.schema, 'x-kubernetes-validations': [...(node.schema['x-kubernetes-validations'] ?? []), ...rules] },
  };
}
