/**
 * The records inside a cold-tier object: gzip-compressed NDJSON, one record per line, in
 * Kafka offset order. Each line carries its deterministic id (docs/architecture.md §3) and its stream or
 * series fingerprint, so a reader can dedupe and group without recomputing hashes.
 *
 * ```
 * logs:    {"id":"<stream>-<ts>-<hash>","ts":"<ns digits>","stream":"<fp>","labels":{..},"message":"..","fields":{..}}
 * metrics: {"id":"<series>-<ms>","ts":"<ns digits>","series":"<fp>","name":"..","labels":{..},"value":1.5}
 * ```
 *
 * `ts` is a string of nanosecond digits for both signals (a JSON number cannot hold ns
 * exactly; samples have millisecond precision, so theirs ends in six zeros). A sample value
 * that JSON cannot hold is the string "NaN", "+Inf" or "-Inf".
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { logRecordId, sampleRecordId, seriesFingerprint, streamFingerprint } from '../../model/fingerprint.js';
import type { Labels, LogEntry, Sample, Signal } from '../../model/types.js';
import { specialValueOf, specialValueText } from '../../model/stale.js';

const gzip = promisify(zlib.gzip);
const gunzip = promisify(zlib.gunzip);

/** A record ready for an object: its line and what the object index needs to know about it. */
export interface EncodedRecord {
  line: string;
  id: string;
  timestampNs: bigint;
  /** Stream (logs) or series (metrics) fingerprint. */
  fingerprint: string;
  labels: Labels;
  /** Metric name; undefined for log entries. */
  name?: string;
}

export function encodeLogRecord(entry: LogEntry): EncodedRecord {
  const stream = streamFingerprint(entry.labels);
  const id = logRecordId(stream, entry);
  const line = JSON.stringify({
    id,
    ts: entry.timestampNs.toString(),
    stream,
    labels: entry.labels,
    message: entry.message,
    fields: entry.fields,
  });
  return { line, id, timestampNs: entry.timestampNs, fingerprint: stream, labels: entry.labels };
}

export function encodeSampleRecord(sample: Sample): EncodedRecord {
  const series = seriesFingerprint(sample.name, sample.labels);
  const id = sampleRecordId(series, sample);
  const timestampNs = BigInt(sample.timestampMs) * 1_000_000n;
  const line = JSON.stringify({
    id,
    ts: timestampNs.toString(),
    series,
    name: sample.name,
    labels: sample.labels,
    value: Number.isFinite(sample.value) ? sample.value : specialValueText(sample.value),
  });
  return { line, id, timestampNs, fingerprint: series, labels: sample.labels, name: sample.name };
}

/** The body of an object: lines joined with "\n" (and a final one), gzip-compressed. */
export async function encodeObjectBody(lines: readonly string[]): Promise<Buffer> {
  return gzip(Buffer.from(lines.length === 0 ? '' : `${lines.join('\n')}\n`, 'utf8'));
}

export interface StoredLogRecord extends LogEntry {
  id: string;
  stream: string;
}

export interface StoredSampleRecord extends Sample {
  id: string;
  series: string;
  /** A staleness marker: said apart, since `value` (a NaN) may not keep the marker's bits through later copies. */
  stale?: true;
}

export class ObjectFormatError extends Error {}

/** Splits an object body into its lines (gunzip + NDJSON). */
export async function decodeObjectLines(body: Uint8Array): Promise<string[]> {
  let text: string;
  try {
    text = (await gunzip(body)).toString('utf8');
  } catch (error) {
    throw new ObjectFormatError(`not a gzip body: ${(error as Error).message}`);
  }
  return text.split('\n').filter((l) => l !== '');
}

/** Decodes every record of an object of `signal`; a bad line throws with its line number. */
export async function decodeObject(signal: 'logs', body: Uint8Array): Promise<StoredLogRecord[]>;
export async function decodeObject(signal: 'metrics', body: Uint8Array): Promise<StoredSampleRecord[]>;
export async function decodeObject(signal: Signal, body: Uint8Array): Promise<(StoredLogRecord | StoredSampleRecord)[]> {
  const lines = await decodeObjectLines(body);
  return lines.map((line, i) => (signal === 'logs' ? decodeLogLine(line, i + 1) : decodeSampleLine(line, i + 1)));
}

export function decodeLogLine(line: string, lineNumber = 1): StoredLogRecord {
  const doc = parseLine(line, lineNumber);
  const fail = (what: string) => new ObjectFormatError(`line ${lineNumber}: ${what}`);
  if (typeof doc.id !== 'string' || typeof doc.stream !== 'string') throw fail('id and stream must be strings');
  if (typeof doc.message !== 'string') throw fail('message must be a string');
  const fields = doc.fields;
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) throw fail('fields must be an object');
  return {
    id: doc.id,
    stream: doc.stream,
    timestampNs: tsOf(doc, fail),
    labels: labelsOf(doc, fail),
    message: doc.message,
    fields: fields as Record<string, unknown>,
  };
}

export function decodeSampleLine(line: string, lineNumber = 1): StoredSampleRecord {
  const doc = parseLine(line, lineNumber);
  const fail = (what: string) => new ObjectFormatError(`line ${lineNumber}: ${what}`);
  if (typeof doc.id !== 'string' || typeof doc.series !== 'string' || typeof doc.name !== 'string') {
    throw fail('id, series and name must be strings');
  }
  const value = typeof doc.value === 'number' ? doc.value : specialValueOf(doc.value);
  if (value === undefined) throw fail('value must be a number, "NaN", "StaleNaN", "+Inf" or "-Inf"');
  return {
    id: doc.id,
    series: doc.series,
    name: doc.name,
    labels: labelsOf(doc, fail),
    timestampMs: Number(tsOf(doc, fail) / 1_000_000n),
    value,
    ...(doc.value === 'StaleNaN' ? { stale: true as const } : {}),
  };
}

function parseLine(line: string, lineNumber: number): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse(line);
  } catch (error) {
    throw new ObjectFormatError(`line ${lineNumber}: not JSON: ${(error as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new ObjectFormatError(`line ${lineNumber}: expected an object`);
  return doc as Record<string, unknown>;
}

function tsOf(doc: Record<string, unknown>, fail: (what: string) => Error): bigint {
  if (typeof doc.ts !== 'string' || !/^\d{1,20}$/.test(doc.ts)) throw fail('ts must be a string of nanosecond digits');
  return BigInt(doc.ts);
}

function labelsOf(doc: Record<string, unknown>, fail: (what: string) => Error): Labels {
  const labels = doc.labels;
  if (
    typeof labels !== 'object' ||
    labels === null ||
    Array.isArray(labels) ||
    !Object.values(labels).every((v) => typeof v === 'string')
  ) {
    throw fail('labels must be an object of strings');
  }
  return labels as Labels;
}
