/**
 * io-ts decoding with readable errors: every failure names the path of the bad value
 * (`entries[3].labels.service: expected string, got 42`), the way Loki reports config errors.
 */
import * as t from 'io-ts';
import { isLeft } from 'fp-ts/lib/Either.js';

export type Decoded<A> = { ok: true; value: A } | { ok: false; errors: string[] };

/** Decodes `input`, returning the value or every error with its path (root prefixed). */
export function decode<A, O, I>(codec: t.Type<A, O, I>, input: I, root = ''): Decoded<A> {
  const result = codec.decode(input);
  if (!isLeft(result)) return { ok: true, value: result.right };
  const seen = new Set<string>();
  const errors: string[] = [];
  for (const error of result.left) {
    const text = describe(error, root);
    if (!seen.has(text)) {
      seen.add(text);
      errors.push(text);
    }
  }
  return { ok: false, errors };
}

function describe(error: t.ValidationError, root: string): string {
  // A value that fails every branch of a union (or an intersection that gets no object at
  // all) is reported once, at the combinator, by the combinator's name.
  let depth = error.context.length - 1;
  while (depth > 0 && isBranching(error.context[depth - 1]!.type)) depth--;
  const context = error.context.slice(0, depth + 1);
  const path = pathOf(context, root) || '(root)';
  if (error.message) return `${path}: ${error.message}`;
  const entry = context[context.length - 1];
  const expected = entry ? entry.type.name : 'a valid value';
  const value = entry ? entry.actual : error.value;
  if (value === undefined) return `${path}: is required (${expected})`;
  return `${path}: expected ${expected}, got ${preview(value)}`;
}

/**
 * Builds `a.b[2].c` from an io-ts context. Unions and intersections add entries keyed by
 * branch number, which are not part of the path; exact and refinement types add none.
 */
function pathOf(context: t.Context, root: string): string {
  let path = root;
  for (let i = 1; i < context.length; i++) {
    const parent = context[i - 1]!.type;
    const key = context[i]!.key;
    if (key === '' || isBranching(parent)) continue;
    if (isArrayType(parent)) path += `[${key}]`;
    else path += path ? `.${key}` : key;
  }
  return path;
}

function isBranching(type: t.Decoder<unknown, unknown>): boolean {
  return type instanceof t.UnionType || type instanceof t.IntersectionType;
}

function isArrayType(type: t.Decoder<unknown, unknown>): boolean {
  return type instanceof t.ArrayType || type instanceof t.ReadonlyArrayType;
}

/** Short JSON rendering of a bad value for error messages. */
export function preview(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    // Too deep to print (stack overflow): say what it is instead.
    text = Array.isArray(value) ? '[deeply nested array]' : typeof value === 'object' ? '{deeply nested object}' : typeof value;
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
