/**
 * Object layout of the S3 cold tier — the contract between the S3 sink (writes), the query
 * runtime (reads, prunes) and retention (deletes by path). Change it only together with them.
 *
 * ```
 * <prefix>/<signal>/<namespace>/<pipeline>/dt=YYYY-MM-DD/hour=HH/p<partition>-<first>-<last>.ndjson.gz
 * <prefix>/<signal>/<namespace>/<pipeline>/dt=YYYY-MM-DD/hour=HH/p<partition>-<first>-<last>.ndjson.gz.index.json
 * <prefix>/<signal>/<namespace>/<pipeline>/_journal/p<partition>.json
 * ```
 *
 * - `<prefix>` is the configured prefix without leading/trailing slashes; empty means the
 *   keys start at `<signal>/`.
 * - `dt`/`hour` are the UTC day and hour of the *records'* own timestamps (not arrival): an
 *   object holds only records of that hour, so a time range maps to hour prefixes
 *   (hourPrefixesForRange) and retention can delete whole `dt=` days once they are older
 *   than the cold retention.
 * - `<partition>` is the Kafka partition of the signal's topic
 *   (`sextant.<namespace>.<pipeline>.<signal>`); `<first>`/`<last>` are the inclusive Kafka
 *   offset range of the *flush* that wrote the object, zero-padded to 20 digits so that
 *   keys sort by offset. One flush of a partition writes one object per hour its records
 *   fall in; all of them carry the same range. The name is deterministic: the same records
 *   flushed again give the same key (see sink.ts for why the boundaries repeat after a crash).
 * - The `.index.json` sidecar (object-index.ts) describes the object for pruning; it is
 *   written after the object, so an object without its sidecar is either being written or
 *   left by a crashed flush that the next owner of the partition rewrites with the same key.
 * - `_journal/p<partition>.json` (one small object per partition, overwritten) records the
 *   range of the last flush *before* its objects are written; it is not data, and retention
 *   must leave it alone (it never grows).
 */
import type { Signal } from '../../model/types.js';

const OFFSET_DIGITS = 20;
const HOUR_MS = 3_600_000;

/** Where a pipeline's objects for one signal live. */
export interface PipelineLocation {
  /** Configured key prefix; slashes at either end are ignored. */
  prefix: string;
  signal: Signal;
  namespace: string;
  pipeline: string;
}

export interface ObjectLocation extends PipelineLocation {
  /** Start of the UTC hour of the object's records, epoch milliseconds. */
  hourStartMs: number;
  partition: number;
  firstOffset: bigint;
  lastOffset: bigint;
}

export const OBJECT_SUFFIX = '.ndjson.gz';
export const INDEX_SUFFIX = '.index.json';

/** The prefix without slashes at either end. */
export function normalizePrefix(prefix: string): string {
  return prefix.replace(/^\/+|\/+$/g, '');
}

/** `<prefix>/<signal>/<namespace>/<pipeline>/` — every object of the pipeline and signal is below it. */
export function pipelinePrefix(loc: PipelineLocation): string {
  const prefix = normalizePrefix(loc.prefix);
  return `${prefix === '' ? '' : `${prefix}/`}${loc.signal}/${loc.namespace}/${loc.pipeline}/`;
}

/** `<pipelinePrefix>dt=YYYY-MM-DD/` for the UTC day containing `ms`. */
export function dayPrefix(loc: PipelineLocation, ms: number): string {
  return `${pipelinePrefix(loc)}dt=${new Date(ms).toISOString().slice(0, 10)}/`;
}

/** `<pipelinePrefix>dt=YYYY-MM-DD/hour=HH/` for the UTC hour containing `ms`. */
export function hourPrefix(loc: PipelineLocation, ms: number): string {
  return `${dayPrefix(loc, ms)}hour=${new Date(ms).toISOString().slice(11, 13)}/`;
}

/** Start of the UTC hour containing `ms`. */
export function hourStart(ms: number): number {
  return Math.floor(ms / HOUR_MS) * HOUR_MS;
}

/** Start of the UTC hour of a nanosecond timestamp. */
export function hourStartOfNs(ns: bigint): number {
  return hourStart(Number(ns / 1_000_000n));
}

/** Every hour prefix that can hold records with timestamps in [fromMs, toMs] (both inclusive). */
export function hourPrefixesForRange(loc: PipelineLocation, fromMs: number, toMs: number): string[] {
  const out: string[] = [];
  for (let h = hourStart(fromMs); h <= toMs; h += HOUR_MS) out.push(hourPrefix(loc, h));
  return out;
}

export function objectKey(loc: ObjectLocation): string {
  return `${hourPrefix(loc, loc.hourStartMs)}p${loc.partition}-${pad(loc.firstOffset)}-${pad(loc.lastOffset)}${OBJECT_SUFFIX}`;
}

export function indexKey(objectKeyValue: string): string {
  return `${objectKeyValue}${INDEX_SUFFIX}`;
}

/** The flush journal of one partition (see the module comment). */
export function journalKey(loc: PipelineLocation, partition: number): string {
  return `${pipelinePrefix(loc)}_journal/p${partition}.json`;
}

const KEY = /^(?:(.*)\/)?(logs|metrics)\/([^/]+)\/([^/]+)\/dt=(\d{4}-\d{2}-\d{2})\/hour=(\d{2})\/p(\d+)-(\d+)-(\d+)\.ndjson\.gz$/;

/** Parses an object key (not a sidecar); undefined for any other key. */
export function parseObjectKey(key: string): ObjectLocation | undefined {
  const m = KEY.exec(key);
  if (!m) return undefined;
  const hourStartMs = Date.parse(`${m[5]}T${m[6]}:00:00Z`);
  if (Number.isNaN(hourStartMs)) return undefined;
  return {
    prefix: m[1] ?? '',
    signal: m[2] as Signal,
    namespace: m[3]!,
    pipeline: m[4]!,
    hourStartMs,
    partition: Number(m[7]),
    firstOffset: BigInt(m[8]!),
    lastOffset: BigInt(m[9]!),
  };
}

/**
 * True when two objects of the same pipeline, signal and partition come from different
 * flushes whose offset ranges overlap — they may hold the same records. The sink never
 * writes such pairs (sink.ts); a reader that finds one should dedupe by record id. Objects
 * of one flush (same range, different hours) are not duplicates.
 */
export function rangesOverlap(a: ObjectLocation, b: ObjectLocation): boolean {
  const sameRange = a.firstOffset === b.firstOffset && a.lastOffset === b.lastOffset;
  return (
    pipelinePrefix(a) === pipelinePrefix(b) &&
    a.partition === b.partition &&
    !sameRange &&
    a.firstOffset <= b.lastOffset &&
    b.firstOffset <= a.lastOffset
  );
}

function pad(offset: bigint): string {
  return offset.toString().padStart(OFFSET_DIGITS, '0');
}
