/**
 * The wire format of records on the bus: key = stream/series fingerprint (so a stream stays
 * in one partition, in order), value = JSON of the normalised record with the timestamp as
 * a string of nanosecond digits (a JSON number cannot hold ns exactly), headers for tenant,
 * schema version and ingest time. decode* are strict: a record that does not decode is
 * poison and goes to the DLQ with the reason. A metrics topic also carries metric metadata:
 * `"kind": "metadata"`, keyed by its family so one family's metadata keeps its order.
 */
import type { IHeaders, Message } from 'kafkajs';
import { seriesFingerprint, streamFingerprint } from '../../model/fingerprint.js';
import { METRIC_TYPES, type LogEntry, type MetricMetadata, type MetricType, type Sample } from '../../model/types.js';
import { specialValueOf, specialValueText } from '../../model/stale.js';

export const SCHEMA_VERSION = '1';
export const HEADER_TENANT = 'sextant-tenant';
export const HEADER_SCHEMA = 'sextant-schema-version';
export const HEADER_INGEST_TIME = 'sextant-ingest-time';
export const HEADER_ERROR = 'sextant-error';
export const HEADER_ERROR_STAGE = 'sextant-error-stage';
export const HEADER_ORIGIN = 'sextant-origin';

export function encodeLogEntry(entry: LogEntry, headers: IHeaders): Message {
  const value = JSON.stringify({ ts: entry.timestampNs.toString(), labels: entry.labels, message: entry.message, fields: entry.fields });
  return { key: streamFingerprint(entry.labels), value, headers };
}

export function encodeSample(sample: Sample, headers: IHeaders): Message {
  const value = JSON.stringify({
    ts: (BigInt(sample.timestampMs) * 1_000_000n).toString(),
    name: sample.name,
    labels: sample.labels,
    value: Number.isFinite(sample.value) ? sample.value : specialValueText(sample.value),
  });
  return { key: seriesFingerprint(sample.name, sample.labels), value, headers };
}

export function encodeMetadata(metadata: MetricMetadata, headers: IHeaders): Message {
  const value = JSON.stringify({
    kind: 'metadata',
    ts: (BigInt(metadata.timestampMs) * 1_000_000n).toString(),
    metric: metadata.metric,
    type: metadata.type,
    help: metadata.help,
    unit: metadata.unit,
  });
  return { key: `metadata:${metadata.metric}`, value, headers };
}

export function recordHeaders(tenant: string, ingestTimeMs = Date.now()): IHeaders {
  return { [HEADER_TENANT]: tenant, [HEADER_SCHEMA]: SCHEMA_VERSION, [HEADER_INGEST_TIME]: String(ingestTimeMs) };
}

export class PoisonRecordError extends Error {}

export function decodeLogEntry(value: Buffer | null): LogEntry {
  const doc = parseObject(value);
  const ts = tsOf(doc);
  if (!isStringRecord(doc.labels)) throw new PoisonRecordError('labels: expected an object of strings');
  if (typeof doc.message !== 'string') throw new PoisonRecordError('message: expected a string');
  const fields = doc.fields ?? {};
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) throw new PoisonRecordError('fields: expected an object');
  return { timestampNs: ts, labels: doc.labels, message: doc.message, fields: fields as Record<string, unknown> };
}

export function decodeSample(value: Buffer | null): Sample {
  const doc = parseObject(value);
  const ts = tsOf(doc);
  if (typeof doc.name !== 'string' || doc.name === '') throw new PoisonRecordError('name: expected a non-empty string');
  if (!isStringRecord(doc.labels)) throw new PoisonRecordError('labels: expected an object of strings');
  const v = typeof doc.value === 'number' ? doc.value : specialValueOf(doc.value);
  if (v === undefined) throw new PoisonRecordError('value: expected a number, "NaN", "StaleNaN", "+Inf" or "-Inf"');
  return { name: doc.name, labels: doc.labels, timestampMs: Number(ts / 1_000_000n), value: v };
}

/** What a metrics topic carries. */
export type MetricRecord = { kind: 'sample'; sample: Sample } | { kind: 'metadata'; metadata: MetricMetadata };

export function decodeMetricRecord(value: Buffer | null): MetricRecord {
  if (value === null || !value.includes('"kind":"metadata"')) return { kind: 'sample', sample: decodeSample(value) };
  const doc = parseObject(value);
  if (doc.kind !== 'metadata') return { kind: 'sample', sample: decodeSample(value) };
  const ts = tsOf(doc);
  if (typeof doc.metric !== 'string' || doc.metric === '') throw new PoisonRecordError('metric: expected a non-empty string');
  if (!METRIC_TYPES.includes(doc.type as MetricType)) throw new PoisonRecordError(`type: expected one of ${METRIC_TYPES.join(', ')}`);
  if (typeof doc.help !== 'string') throw new PoisonRecordError('help: expected a string');
  if (typeof doc.unit !== 'string') throw new PoisonRecordError('unit: expected a string');
  return {
    kind: 'metadata',
    metadata: { metric: doc.metric, type: doc.type as MetricType, help: doc.help, unit: doc.unit, timestampMs: Number(ts / 1_000_000n) },
  };
}

function parseObject(value: Buffer | null): Record<string, unknown> {
  if (value === null) throw new PoisonRecordError('empty record value');
  let doc: unknown;
  try {
    doc = JSON.parse(value.toString('utf8'));
  } catch (error) {
    throw new PoisonRecordError(`not JSON: ${(error as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new PoisonRecordError('expected a JSON object');
  return doc as Record<string, unknown>;
}

function tsOf(doc: Record<string, unknown>): bigint {
  if (typeof doc.ts !== 'string' || !/^\d{1,20}$/.test(doc.ts)) throw new PoisonRecordError('ts: expected a string of nanosecond digits');
  return BigInt(doc.ts);
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string');
}
