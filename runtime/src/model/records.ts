/**
 * Wire codecs of the native ingestion bodies (docs/architecture.md §2) and their normalisation into
 * LogEntry / Sample. io-ts is the specification of the shape; limits, naming rules and
 * timestamps are checked after it, and every problem is reported with its path.
 */
import * as t from 'io-ts';
import { decode } from '../common/decode.js';
import { checkLabels, METRIC_NAME } from './labels.js';
import type { Limits } from './limits.js';
import { nowNs, parseTimestamp } from './timestamp.js';
import type { Fields, LogEntry, Sample } from './types.js';

const Timestamp = t.union([t.string, t.number], 'RFC 3339 string or epoch number');

export const RawLogEntry = t.intersection(
  [t.type({ labels: t.record(t.string, t.string), message: t.string }), t.partial({ timestamp: Timestamp, fields: t.UnknownRecord })],
  'LogEntry',
);
export type RawLogEntry = t.TypeOf<typeof RawLogEntry>;

export const RawSample = t.intersection(
  [
    t.type({ name: t.string, value: t.union([t.number, t.string], 'number or "NaN"/"+Inf"/"-Inf"') }),
    t.partial({ labels: t.record(t.string, t.string), timestamp: Timestamp }),
  ],
  'Sample',
);
export type RawSample = t.TypeOf<typeof RawSample>;

const LOG_KEYS = new Set(['timestamp', 'labels', 'message', 'fields']);
const SAMPLE_KEYS = new Set(['name', 'labels', 'timestamp', 'value']);

/** Stops collecting after this many problems; the reply says how many more there were. */
export const MAX_REPORTED_ERRORS = 10;

export type Normalised<A> = { ok: true; records: A[] } | { ok: false; errors: string[]; total: number };

class ErrorList {
  readonly errors: string[] = [];
  total = 0;
  add(list: string[]): void {
    for (const e of list) {
      this.total++;
      if (this.errors.length < MAX_REPORTED_ERRORS) this.errors.push(e);
    }
  }
  get full(): boolean {
    // Keep scanning a little past the cap so the total is meaningful, but bound the work.
    return this.total >= MAX_REPORTED_ERRORS * 100;
  }
}

export function normaliseLogEntries(
  items: readonly unknown[],
  pathOf: (index: number) => string,
  limits: Limits,
  now: bigint = nowNs(),
): Normalised<LogEntry> {
  return normaliseAll(items, pathOf, RawLogEntry, LOG_KEYS, limits, now, (raw, path, errors, timestampOf) => {
    if (Object.keys(raw.labels).length === 0) errors.push(`${path}.labels: must have at least one label`);
    checkLabels(raw.labels, limits, `${path}.labels`, errors);
    checkText(raw.labels, `${path}.labels`, errors);
    if (!raw.message.isWellFormed()) errors.push(`${path}.message: contains invalid UTF-16 (a lone surrogate escape)`);
    else if (raw.message.length > limits.maxLineBytes / 3 && Buffer.byteLength(raw.message) > limits.maxLineBytes) {
      errors.push(`${path}.message: ${Buffer.byteLength(raw.message)} bytes, over the limit of ${limits.maxLineBytes}`);
    }
    const fields = raw.fields ?? {};
    if (raw.fields) checkFields(fields, limits, `${path}.fields`, errors);
    return { timestampNs: timestampOf(raw.timestamp), labels: raw.labels, message: raw.message, fields };
  });
}

export function normaliseSamples(
  items: readonly unknown[],
  pathOf: (index: number) => string,
  limits: Limits,
  now: bigint = nowNs(),
): Normalised<Sample> {
  return normaliseAll(items, pathOf, RawSample, SAMPLE_KEYS, limits, now, (raw, path, errors, timestampOf) => {
    if (!METRIC_NAME.test(raw.name)) {
      errors.push(`${path}.name: invalid metric name "${raw.name.slice(0, 80)}": must match ${METRIC_NAME.source}`);
    } else if (raw.name.length > limits.maxLabelValueLength) {
      errors.push(`${path}.name: ${raw.name.length} characters, over the limit of ${limits.maxLabelValueLength}`);
    }
    const labels = raw.labels ?? {};
    checkLabels(labels, limits, `${path}.labels`, errors);
    checkText(labels, `${path}.labels`, errors);
    const value = parseValue(raw.value);
    if (value === undefined) {
      errors.push(
        `${path}.value: invalid sample value ${JSON.stringify(raw.value).slice(0, 40)}: expected a number or "NaN", "+Inf", "-Inf"`,
      );
    }
    return { name: raw.name, labels, timestampMs: Number(timestampOf(raw.timestamp) / 1_000_000n), value: value ?? NaN };
  });
}

/**
 * The shared loop: unknown keys, the io-ts shape, then the signal's own checks (`check`
 * pushes problems into `errors`; a record with problems is not kept). `timestampOf`
 * parses an optional timestamp against the limits, defaulting to now.
 */
function normaliseAll<Raw, A>(
  items: readonly unknown[],
  pathOf: (index: number) => string,
  codec: t.Type<Raw, unknown, unknown>,
  allowed: Set<string>,
  limits: Limits,
  now: bigint,
  check: (raw: Raw, path: string, errors: string[], timestampOf: (value: string | number | undefined) => bigint) => A,
): Normalised<A> {
  const bounds = timeBounds(limits, now);
  const records: A[] = [];
  const problems = new ErrorList();
  for (let i = 0; i < items.length && !problems.full; i++) {
    const path = pathOf(i);
    const item = items[i];
    const errors = unknownKeys(item, allowed, path);
    const decoded = decode(codec, item, path);
    if (!decoded.ok) {
      problems.add([...errors, ...decoded.errors]);
      continue;
    }
    const timestampOf = (value: string | number | undefined): bigint => {
      if (value === undefined) return now;
      const ts = parseTimestamp(value);
      if (!ts.ok) {
        errors.push(`${path}.timestamp: ${ts.error}`);
        return now;
      }
      const bad = outOfBounds(ts.ns, bounds);
      if (bad) errors.push(`${path}.timestamp: ${bad}`);
      return ts.ns;
    };
    const record = check(decoded.value, path, errors, timestampOf);
    if (errors.length > 0) problems.add(errors);
    else records.push(record);
  }
  if (problems.total > 0) return { ok: false, errors: problems.errors, total: problems.total };
  return { ok: true, records };
}

function parseValue(value: number | string): number | undefined {
  if (typeof value === 'number') return value;
  switch (value) {
    case 'NaN':
      return NaN;
    case '+Inf':
    case 'Inf':
      return Infinity;
    case '-Inf':
      return -Infinity;
  }
  const n = value.trim() === '' ? NaN : Number(value);
  return Number.isNaN(n) ? undefined : n;
}

function unknownKeys(item: unknown, allowed: Set<string>, path: string): string[] {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return [];
  const errors: string[] = [];
  for (const key of Object.keys(item)) {
    if (!allowed.has(key)) errors.push(`${path}.${key}: unknown field (expected ${[...allowed].join(', ')})`);
  }
  return errors;
}

function checkText(labels: Record<string, string>, path: string, errors: string[]): void {
  for (const name in labels) {
    if (!labels[name]!.isWellFormed()) errors.push(`${path}.${name}: contains invalid UTF-16 (a lone surrogate escape)`);
  }
}

function checkFields(fields: Fields, limits: Limits, path: string, errors: string[]): void {
  let keys = 0;
  let deepest = '';
  const walk = (value: unknown, depth: number, at: string): void => {
    if (typeof value !== 'object' || value === null) {
      if (typeof value === 'string' && !value.isWellFormed()) errors.push(`${at}: contains invalid UTF-16`);
      return;
    }
    if (depth > limits.maxFieldsDepth) {
      if (!deepest) deepest = at;
      return;
    }
    if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, depth + 1, `${at}[${i}]`));
      return;
    }
    for (const key of Object.keys(value)) {
      keys++;
      walk((value as Record<string, unknown>)[key], depth + 1, `${at}.${key}`);
    }
  };
  walk(fields, 0, path);
  if (deepest) errors.push(`${deepest}: nested deeper than the limit of ${limits.maxFieldsDepth} levels`);
  if (keys > limits.maxFieldsKeys) errors.push(`${path}: ${keys} keys, over the limit of ${limits.maxFieldsKeys}`);
}

interface TimeBounds {
  latest: bigint;
  earliest: bigint;
}

function timeBounds(limits: Limits, now: bigint): TimeBounds {
  return {
    latest: now + BigInt(limits.maxFutureSkewMs) * 1_000_000n,
    earliest: limits.maxPastAgeMs > 0 ? now - BigInt(limits.maxPastAgeMs) * 1_000_000n : 0n,
  };
}

function outOfBounds(ns: bigint, bounds: TimeBounds): string | undefined {
  if (ns > bounds.latest) return `too far in the future (more than the allowed skew past now)`;
  if (ns < bounds.earliest) return `older than the maximum accepted age`;
  return undefined;
}
