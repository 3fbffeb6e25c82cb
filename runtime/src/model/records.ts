/**
 * Wire codecs of the native ingestion bodies (DESIGN §2) and their normalisation into
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
  const bounds = timeBounds(limits, now);
  const records: LogEntry[] = [];
  const problems = new ErrorList();
  for (let i = 0; i < items.length && !problems.full; i++) {
    const path = pathOf(i);
    const item = items[i];
    const unknown = unknownKeys(item, LOG_KEYS, path);
    const decoded = decode(RawLogEntry, item as RawLogEntry, path);
    if (!decoded.ok) {
      problems.add([...unknown, ...decoded.errors]);
      continue;
    }
    const errors = unknown;
    const raw = decoded.value;
    if (Object.keys(raw.labels).length === 0) errors.push(`${path}.labels: must have at least one label`);
    checkLabels(raw.labels, limits, `${path}.labels`, errors);
    checkText(raw.labels, `${path}.labels`, errors);
    if (!raw.message.isWellFormed()) errors.push(`${path}.message: contains invalid UTF-16 (a lone surrogate escape)`);
    else if (raw.message.length > limits.maxLineBytes / 3 && Buffer.byteLength(raw.message) > limits.maxLineBytes) {
      errors.push(`${path}.message: ${Buffer.byteLength(raw.message)} bytes, over the limit of ${limits.maxLineBytes}`);
    }
    const fields = raw.fields ?? {};
    if (raw.fields) checkFields(fields, limits, `${path}.fields`, errors);
    let timestampNs = now;
    if (raw.timestamp !== undefined) {
      const ts = parseTimestamp(raw.timestamp);
      if (!ts.ok) errors.push(`${path}.timestamp: ${ts.error}`);
      else {
        const bad = outOfBounds(ts.ns, bounds);
        if (bad) errors.push(`${path}.timestamp: ${bad}`);
        timestampNs = ts.ns;
      }
    }
    if (errors.length > 0) problems.add(errors);
    else records.push({ timestampNs, labels: raw.labels, message: raw.message, fields });
  }
  if (problems.total > 0) return { ok: false, errors: problems.errors, total: problems.total };
  return { ok: true, records };
}

export function normaliseSamples(
  items: readonly unknown[],
  pathOf: (index: number) => string,
  limits: Limits,
  now: bigint = nowNs(),
): Normalised<Sample> {
  const bounds = timeBounds(limits, now);
  const records: Sample[] = [];
  const problems = new ErrorList();
  for (let i = 0; i < items.length && !problems.full; i++) {
    const path = pathOf(i);
    const item = items[i];
    const unknown = unknownKeys(item, SAMPLE_KEYS, path);
    const decoded = decode(RawSample, item as RawSample, path);
    if (!decoded.ok) {
      problems.add([...unknown, ...decoded.errors]);
      continue;
    }
    const errors = unknown;
    const raw = decoded.value;
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
    let timestampMs = Number(now / 1_000_000n);
    if (raw.timestamp !== undefined) {
      const ts = parseTimestamp(raw.timestamp);
      if (!ts.ok) errors.push(`${path}.timestamp: ${ts.error}`);
      else {
        const bad = outOfBounds(ts.ns, bounds);
        if (bad) errors.push(`${path}.timestamp: ${bad}`);
        timestampMs = Number(ts.ns / 1_000_000n);
      }
    }
    if (errors.length > 0) problems.add(errors);
    else records.push({ name: raw.name, labels, timestampMs, value: value! });
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
