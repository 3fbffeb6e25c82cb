/**
 * The per-object index of the S3 cold tier: a JSON sidecar at `<object key>.index.json`
 * (layout.ts) that lets the query side prune objects by time and labels without reading
 * them. A sidecar rather than S3 user metadata: metadata is capped at 2 KB and needs a HEAD
 * per object, while label sets need more room and one GET of a small JSON is as cheap.
 *
 * Format (version 1; readers must ignore unknown fields):
 *
 * ```json
 * {
 *   "version": 1,
 *   "signal": "logs",                       // or "metrics"
 *   "key": "<object key>",
 *   "topic": "sextant.<ns>.<pipeline>.logs", "partition": 2,
 *   "firstOffset": "100", "lastOffset": "199", // the flush's Kafka offset range (decimal strings)
 *   "records": 87,                           // lines in the object
 *   "bytes": 4711,                           // compressed object size
 *   "minTimeNs": "1764151200000000000",      // smallest and largest record timestamp,
 *   "maxTimeNs": "1764151259000000000",      // nanosecond digits, inclusive
 *   "streamCount": 7,
 *   "streams": [                              // absent when streamCount > the cap (MAX_STREAMS)
 *     { "fingerprint": "<stream or series fp>", "labels": { "service": "api" },
 *       "records": 12, "minTimeNs": "…", "maxTimeNs": "…" }
 *   ],
 *   "labels": { "service": ["api", "web"] }, // distinct values per label name (sorted)
 *   "labelCounts": { "service": 7 },         // streams that have the label (< streamCount: some lack it)
 *   "truncatedLabels": [],                   // names whose value list was cut at MAX_VALUES
 *   "createdAt": "2026-11-27T03:00:00.000Z"
 * }
 * ```
 *
 * For metrics the stream labels include `__name__` (the metric name), so Prometheus
 * matchers apply unchanged; `fingerprint` is the series fingerprint.
 */
import * as t from 'io-ts';
import { decode } from '../../common/decode.js';
import type { Labels, Signal } from '../../model/types.js';
import type { LabelMatcher } from '../reader.js';
import { compileMatchers } from '../matchers.js';
import type { EncodedRecord } from './records.js';

/** Streams listed in full up to this many; beyond it only the label summary remains. */
export const MAX_STREAMS = 2_000;
/** Distinct values kept per label name in the summary. */
export const MAX_VALUES = 1_000;

const Digits = new t.Type<string, string, unknown>(
  'string of decimal digits',
  (u): u is string => typeof u === 'string' && /^\d+$/.test(u),
  (u, c) => (typeof u === 'string' && /^\d+$/.test(u) ? t.success(u) : t.failure(u, c)),
  t.identity,
);

const StreamCodec = t.type({
  fingerprint: t.string,
  labels: t.record(t.string, t.string),
  records: t.number,
  minTimeNs: Digits,
  maxTimeNs: Digits,
});

export const ObjectIndexCodec = t.intersection([
  t.type({
    version: t.literal(1),
    signal: t.keyof({ logs: null, metrics: null }),
    key: t.string,
    topic: t.string,
    partition: t.number,
    firstOffset: Digits,
    lastOffset: Digits,
    records: t.number,
    bytes: t.number,
    minTimeNs: Digits,
    maxTimeNs: Digits,
    streamCount: t.number,
    labels: t.record(t.string, t.array(t.string)),
    labelCounts: t.record(t.string, t.number),
    truncatedLabels: t.array(t.string),
    createdAt: t.string,
  }),
  t.partial({ streams: t.array(StreamCodec) }),
]);
export type ObjectIndex = t.TypeOf<typeof ObjectIndexCodec>;
export type IndexedStream = t.TypeOf<typeof StreamCodec>;

export class ObjectIndexError extends Error {}

/** Parses and validates a sidecar's text; errors name the key and the bad field's path. */
export function parseObjectIndex(text: string, key: string): ObjectIndex {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new ObjectIndexError(`${key}: not JSON: ${(error as Error).message}`);
  }
  const decoded = decode(ObjectIndexCodec, doc);
  if (!decoded.ok) throw new ObjectIndexError(`${key}: ${decoded.errors.join('; ')}`);
  return decoded.value;
}

interface StreamAcc {
  labels: Labels;
  records: number;
  min: bigint;
  max: bigint;
}

/** Accumulates the index of one object while its records are added in order. */
export class IndexBuilder {
  private readonly streams = new Map<string, StreamAcc>();
  private records = 0;
  private min: bigint | undefined;
  private max: bigint | undefined;

  add(record: EncodedRecord): void {
    this.records++;
    const ts = record.timestampNs;
    if (this.min === undefined || ts < this.min) this.min = ts;
    if (this.max === undefined || ts > this.max) this.max = ts;
    const s = this.streams.get(record.fingerprint);
    if (s) {
      s.records++;
      if (ts < s.min) s.min = ts;
      if (ts > s.max) s.max = ts;
      return;
    }
    const labels = record.name === undefined ? record.labels : { __name__: record.name, ...record.labels };
    this.streams.set(record.fingerprint, { labels, records: 1, min: ts, max: ts });
  }

  get size(): number {
    return this.records;
  }

  build(meta: {
    signal: Signal;
    key: string;
    topic: string;
    partition: number;
    firstOffset: bigint;
    lastOffset: bigint;
    bytes: number;
  }): ObjectIndex {
    if (this.min === undefined || this.max === undefined) throw new Error('an object index needs at least one record');
    const values = new Map<string, Set<string>>();
    const counts: Record<string, number> = {};
    for (const s of this.streams.values()) {
      for (const [name, value] of Object.entries(s.labels)) {
        let set = values.get(name);
        if (!set) values.set(name, (set = new Set()));
        set.add(value);
        counts[name] = (counts[name] ?? 0) + 1;
      }
    }
    const labels: Record<string, string[]> = {};
    const truncatedLabels: string[] = [];
    for (const name of [...values.keys()].sort()) {
      const sorted = [...values.get(name)!].sort();
      if (sorted.length > MAX_VALUES) truncatedLabels.push(name);
      labels[name] = sorted.slice(0, MAX_VALUES);
    }
    const index: ObjectIndex = {
      version: 1,
      signal: meta.signal,
      key: meta.key,
      topic: meta.topic,
      partition: meta.partition,
      firstOffset: meta.firstOffset.toString(),
      lastOffset: meta.lastOffset.toString(),
      records: this.records,
      bytes: meta.bytes,
      minTimeNs: this.min.toString(),
      maxTimeNs: this.max.toString(),
      streamCount: this.streams.size,
      labels,
      labelCounts: counts,
      truncatedLabels,
      createdAt: new Date().toISOString(),
    };
    if (this.streams.size <= MAX_STREAMS) {
      index.streams = [...this.streams.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([fingerprint, s]) => ({
          fingerprint,
          labels: s.labels,
          records: s.records,
          minTimeNs: s.min.toString(),
          maxTimeNs: s.max.toString(),
        }));
    }
    return index;
  }
}

/**
 * May the object hold records matching every matcher with a timestamp in [fromNs, toNs]
 * (inclusive)? False only when the index proves it cannot; with the full stream list that
 * is exact per stream, with only the label summary it is conservative (positive matchers on
 * untruncated labels).
 */
export function indexMayMatch(index: ObjectIndex, matchers: readonly LabelMatcher[], fromNs: bigint, toNs: bigint): boolean {
  if (BigInt(index.maxTimeNs) < fromNs || BigInt(index.minTimeNs) > toNs) return false;
  if (index.streams) {
    const match = compileMatchers(matchers);
    return index.streams.some((s) => BigInt(s.maxTimeNs) >= fromNs && BigInt(s.minTimeNs) <= toNs && match(s.labels));
  }
  for (const m of matchers) {
    if (m.op !== '=' && m.op !== '=~') continue; // a negative matcher rarely excludes a whole object
    if (index.truncatedLabels.includes(m.name)) continue;
    const candidates = [...(index.labels[m.name] ?? [])];
    // A stream without the label has the value "" for the matcher (Prometheus semantics).
    if ((index.labelCounts[m.name] ?? 0) < index.streamCount) candidates.push('');
    const test = compileMatchers([m]);
    if (!candidates.some((v) => test({ [m.name]: v }))) return false;
  }
  return true;
}
