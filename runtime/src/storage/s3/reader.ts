/**
 * The StorageReader over the S3 cold tier (layout.ts, records.ts, object-index.ts): list the
 * `dt=/hour=` partitions a time range covers, prune objects by their index sidecar (time
 * range and label sets), read the remaining gzip NDJSON objects and filter in process.
 * Records are deduplicated by their deterministic id: a flush rewritten after a crash may
 * leave two objects with the same records (layout.ts, rangesOverlap).
 *
 * Metadata (label names/values, series) comes from the sidecars alone when they list their
 * streams; only objects without a full stream list are read. Log selections read every
 * matching object in the range, then sort — cold queries are expected to be narrow and rare.
 */
import { sortedLabels } from '../../model/labels.js';
import type { Labels, Signal } from '../../model/types.js';
import { compileLineFilters, compileMatchers } from '../matchers.js';
import type {
  FamilyMetadata,
  FamilyMetadataQuery,
  LabelMatcher,
  LogPage,
  LogSelection,
  LogStats,
  MetadataQuery,
  SampleSelection,
  SeriesSamples,
  StorageReader,
  StoredLogEntry,
} from '../reader.js';
import { nsStatsBounds } from '../opensearch/reader.js';
import { decodeTaggedCursor, encodeTaggedCursor, labelNames, labelValues } from '../reader-common.js';
import { StorageUnavailableError } from '../tiered/unavailable.js';
import {
  dayPrefix,
  hourPrefixesForRange,
  hourStart,
  indexKey,
  INDEX_SUFFIX,
  OBJECT_SUFFIX,
  parseObjectKey,
  pipelinePrefix,
  type PipelineLocation,
} from './layout.js';
import { indexMayMatch, parseObjectIndex, type ObjectIndex } from './object-index.js';
import { decodeObject, type StoredLogRecord, type StoredSampleRecord } from './records.js';
import type { ObjectStore } from './store.js';

export interface S3ReaderOptions {
  store: ObjectStore;
  /** The sink's key prefix and the pipeline identity: where the objects are. */
  prefix: string;
  namespace: string;
  pipeline: string;
  /** Objects read in parallel (default 8). */
  concurrency?: number;
  /** Ranges longer than this many hours list the whole pipeline prefix once instead of per hour. */
  maxHourListings?: number;
}

const NS_PER_MS = 1_000_000n;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Beyond this many days a range lists the pipeline prefix once (metadata without bounds). */
const MAX_DAY_LISTINGS = 400;
/** Sidecars kept in memory (they are small and never change for a key). */
const INDEX_CACHE_SIZE = 20_000;

interface Located {
  key: string;
  /** Undefined when the object has no sidecar (being written, or left by a crashed flush). */
  index?: ObjectIndex;
}

export class S3ColdReader implements StorageReader {
  private readonly store: ObjectStore;
  private readonly location: Omit<PipelineLocation, 'signal'>;
  private readonly concurrency: number;
  private readonly maxHourListings: number;
  private readonly indexCache = new Map<string, ObjectIndex>();

  constructor(options: S3ReaderOptions) {
    this.store = options.store;
    this.location = { prefix: options.prefix, namespace: options.namespace, pipeline: options.pipeline };
    this.concurrency = options.concurrency ?? 8;
    this.maxHourListings = options.maxHourListings ?? 48;
  }

  /** True when the bucket answers (readiness). */
  async ping(): Promise<boolean> {
    try {
      await this.store.check();
      return true;
    } catch {
      return false;
    }
  }

  // ---------------------------------------------------------------- log reads

  async selectLogs(selection: LogSelection): Promise<LogPage> {
    const limit = Math.max(0, selection.limit);
    if (limit === 0 || selection.endNs <= selection.startNs) return { entries: [] };
    const forward = selection.direction === 'forward';
    const after = selection.cursor ? decodeCursor(selection.cursor, selection.direction) : undefined;
    const keep = compileLineFilters(selection.lineFilters ?? []);
    const terms = selection.text ? textTerms(selection.text) : [];
    const fromNs = selection.startNs;
    const toNs = selection.endNs - 1n;
    const sign = forward ? 1 : -1;
    // Hour by hour in the direction of the query: an object holds only records of its hour,
    // so once a page is full no later hour can hold an entry that belongs on it, and hours
    // wholly before the cursor need not be read at all.
    const byHour = new Map<number, Located[]>();
    for (const o of await this.objects('logs', fromNs, toNs)) {
      if (o.index && !indexMayMatch(o.index, selection.matchers, fromNs, toNs)) continue;
      const hour = parseObjectKey(o.key)!.hourStartMs;
      byHour.set(hour, [...(byHour.get(hour) ?? []), o]);
    }
    const hours = [...byHour.keys()].sort((a, b) => (a - b) * sign);
    const page: StoredLogRecord[] = [];
    for (const hour of hours) {
      if (after) {
        const hourStartNs = BigInt(hour) * NS_PER_MS;
        const hourEndNs = BigInt(hour + HOUR_MS) * NS_PER_MS;
        if (forward ? hourEndNs <= after.timestampNs : hourStartNs > after.timestampNs) continue;
      }
      const records = await this.readLogs(byHour.get(hour)!, selection.matchers, fromNs, toNs);
      const selected = records.filter(
        (r) => keep(r.message) && (terms.length === 0 || containsTerms(r.message, terms)) && (!after || compare(r, after) * sign > 0),
      );
      selected.sort((a, b) => compare(a, b) * sign);
      page.push(...selected);
      if (page.length >= limit) break;
    }
    page.splice(limit);
    const entries: StoredLogEntry[] = page.map((r) => ({
      id: r.id,
      timestampNs: r.timestampNs,
      labels: sortedLabels(r.labels),
      message: r.message,
      fields: r.fields,
    }));
    const last = page[page.length - 1];
    return entries.length === limit && last ? { entries, nextCursor: encodeCursor(selection.direction, last) } : { entries };
  }

  async logStreams(query: MetadataQuery): Promise<Labels[]> {
    return [...(await this.streamSets('logs', query)).values()];
  }

  async logLabelNames(query: MetadataQuery): Promise<string[]> {
    return labelNames(await this.logStreams(query));
  }

  async logLabelValues(name: string, query: MetadataQuery): Promise<string[]> {
    return labelValues(name, await this.logStreams(query));
  }

  async logStats(query: MetadataQuery): Promise<LogStats> {
    const { streams, entries, bytes } = await this.logStatsNs(query.matchers ?? [], nsStatsBounds(query));
    return { streams: streams.length, entries, bytes };
  }

  /** Stats of [fromNs, toNs) with the streams' label sets (the tiered reader splits at any ns). */
  async logStatsNs(
    matchers: LabelMatcher[],
    [fromNs, toNs]: [bigint, bigint],
  ): Promise<{ streams: Labels[]; entries: number; bytes: number }> {
    const records = toNs > fromNs ? await this.logRecords(matchers, fromNs, toNs - 1n) : [];
    const streams = new Map<string, Labels>();
    let bytes = 0;
    for (const r of records) {
      if (!streams.has(r.stream)) streams.set(r.stream, sortedLabels(r.labels));
      bytes += Buffer.byteLength(r.message, 'utf8');
    }
    return { streams: [...streams.values()], entries: records.length, bytes };
  }

  // ---------------------------------------------------------------- metric reads

  async selectSamples(selection: SampleSelection): Promise<SeriesSamples[]> {
    if (selection.endMs < selection.startMs) return [];
    const fromNs = BigInt(Math.max(0, Math.ceil(selection.startMs))) * NS_PER_MS;
    const toNs = BigInt(Math.floor(selection.endMs)) * NS_PER_MS;
    const records = await this.sampleRecords(selection.matchers, fromNs, toNs);
    // One point per timestamp (a rewritten flush repeats records); the kept record's value
    // and marker flag go together.
    const bySeries = new Map<string, { labels: Labels; points: Map<number, StoredSampleRecord> }>();
    for (const r of records) {
      let s = bySeries.get(r.series);
      if (!s) bySeries.set(r.series, (s = { labels: sortedLabels({ ...r.labels, __name__: r.name }), points: new Map() }));
      s.points.set(r.timestampMs, r);
    }
    const out: SeriesSamples[] = [];
    for (const s of bySeries.values()) {
      const timestampsMs = [...s.points.keys()].sort((a, b) => a - b);
      const stale = timestampsMs.filter((t) => s.points.get(t)!.stale);
      out.push({
        labels: s.labels,
        timestampsMs,
        values: timestampsMs.map((t) => s.points.get(t)!.value),
        ...(stale.length > 0 ? { staleTimestampsMs: stale } : {}),
      });
    }
    return out;
  }

  async series(query: MetadataQuery): Promise<Labels[]> {
    return [...(await this.streamSets('metrics', query)).values()];
  }

  async metricLabelNames(query: MetadataQuery): Promise<string[]> {
    return labelNames(await this.series(query));
  }

  async metricLabelValues(name: string, query: MetadataQuery): Promise<string[]> {
    return labelValues(name, await this.series(query));
  }

  /** The cold tier keeps no metric metadata (the hot tier serves it: storage/tiered/reader.ts). */
  metricMetadata(_query: FamilyMetadataQuery): FamilyMetadata {
    return {};
  }

  // ---------------------------------------------------------------- objects

  /** Log records in [fromNs, toNs] (inclusive) matching every matcher, deduplicated by id. */
  private async logRecords(matchers: readonly LabelMatcher[], fromNs: bigint, toNs: bigint): Promise<StoredLogRecord[]> {
    const objects = (await this.objects('logs', fromNs, toNs)).filter((o) => !o.index || indexMayMatch(o.index, matchers, fromNs, toNs));
    return this.readLogs(objects, matchers, fromNs, toNs);
  }

  private async readLogs(objects: Located[], matchers: readonly LabelMatcher[], fromNs: bigint, toNs: bigint): Promise<StoredLogRecord[]> {
    const match = compileMatchers(matchers);
    const seen = new Set<string>();
    const out: StoredLogRecord[] = [];
    await this.forEachBody(objects, async (body) => {
      for (const r of await decodeObject('logs', body)) {
        if (r.timestampNs < fromNs || r.timestampNs > toNs || seen.has(r.id) || !match(r.labels)) continue;
        seen.add(r.id);
        out.push(r);
      }
    });
    return out;
  }

  private async sampleRecords(matchers: readonly LabelMatcher[], fromNs: bigint, toNs: bigint): Promise<StoredSampleRecord[]> {
    const match = compileMatchers(matchers);
    const objects = (await this.objects('metrics', fromNs, toNs)).filter((o) => !o.index || indexMayMatch(o.index, matchers, fromNs, toNs));
    const out: StoredSampleRecord[] = [];
    await this.forEachBody(objects, async (body) => {
      for (const r of await decodeObject('metrics', body)) {
        const ns = BigInt(r.timestampMs) * NS_PER_MS;
        if (ns < fromNs || ns > toNs || !match({ ...r.labels, __name__: r.name })) continue;
        out.push(r);
      }
    });
    return out;
  }

  /**
   * Label sets of the streams/series with records in the query's range (whole ms,
   * inclusive) that match: from the sidecars' stream lists, reading only objects without one.
   */
  private async streamSets(signal: Signal, query: MetadataQuery): Promise<Map<string, Labels>> {
    const matchers = query.matchers ?? [];
    const match = compileMatchers(matchers);
    const [fromNs, toNs] = nsBounds(query);
    const sets = new Map<string, Labels>();
    const unindexed: Located[] = [];
    for (const o of await this.objects(signal, fromNs, toNs)) {
      if (o.index && !indexMayMatch(o.index, matchers, fromNs, toNs)) continue;
      if (!o.index?.streams) {
        unindexed.push(o);
        continue;
      }
      for (const s of o.index.streams) {
        if (BigInt(s.maxTimeNs) < fromNs || BigInt(s.minTimeNs) > toNs || sets.has(s.fingerprint) || !match(s.labels)) continue;
        sets.set(s.fingerprint, sortedLabels(s.labels));
      }
    }
    await this.forEachBody(unindexed, async (body) => {
      if (signal === 'logs') {
        for (const r of await decodeObject('logs', body)) {
          if (r.timestampNs < fromNs || r.timestampNs > toNs || sets.has(r.stream) || !match(r.labels)) continue;
          sets.set(r.stream, sortedLabels(r.labels));
        }
      } else {
        for (const r of await decodeObject('metrics', body)) {
          const ns = BigInt(r.timestampMs) * NS_PER_MS;
          const labels = { ...r.labels, __name__: r.name };
          if (ns < fromNs || ns > toNs || sets.has(r.series) || !match(labels)) continue;
          sets.set(r.series, sortedLabels(labels));
        }
      }
    });
    return sets;
  }

  /** The objects (with their sidecars) of the hour partitions that [fromNs, toNs] touches. */
  private async objects(signal: Signal, fromNs: bigint, toNs: bigint): Promise<Located[]> {
    const loc: PipelineLocation = { ...this.location, signal };
    const fromMs = Number(fromNs / NS_PER_MS);
    const toMs = Number(toNs / NS_PER_MS);
    const hours = (hourStart(toMs) - hourStart(fromMs)) / HOUR_MS + 1;
    const days = Math.floor(toMs / DAY_MS) - Math.floor(fromMs / DAY_MS) + 1;
    // Few hours: one listing per hour; a longer range: per day; unbounded: the whole prefix.
    const listings =
      hours <= this.maxHourListings
        ? hourPrefixesForRange(loc, fromMs, toMs)
        : days <= MAX_DAY_LISTINGS
          ? Array.from({ length: days }, (_, i) => dayPrefix(loc, (Math.floor(fromMs / DAY_MS) + i) * DAY_MS))
          : [pipelinePrefix(loc)];
    const keys = (await Promise.all(listings.map((p) => this.wrap(() => this.store.list(p))))).flat();
    const sidecars = new Set(keys.filter((k) => k.endsWith(INDEX_SUFFIX)));
    const located: Located[] = [];
    for (const key of keys) {
      if (!key.endsWith(OBJECT_SUFFIX)) continue;
      const parsed = parseObjectKey(key);
      if (!parsed || parsed.hourStartMs + HOUR_MS <= fromMs || parsed.hourStartMs > toMs) continue;
      located.push({ key, ...(sidecars.has(indexKey(key)) ? { index: await this.index(indexKey(key)) } : {}) });
    }
    return located;
  }

  private async index(key: string): Promise<ObjectIndex | undefined> {
    const cached = this.indexCache.get(key);
    if (cached) return cached;
    const body = await this.wrap(() => this.store.get(key));
    if (!body) return undefined; // deleted by retention between the listing and now
    const index = parseObjectIndex(body.toString('utf8'), key);
    if (this.indexCache.size >= INDEX_CACHE_SIZE) this.indexCache.clear();
    this.indexCache.set(key, index);
    return index;
  }

  /** Reads the objects `concurrency` at a time; an object deleted meanwhile is skipped. */
  private async forEachBody(objects: Located[], fn: (body: Buffer) => Promise<void>): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < objects.length) {
        const o = objects[next++]!;
        const body = await this.wrap(() => this.store.get(o.key));
        if (body) await fn(body);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, objects.length) }, worker));
  }

  private async wrap<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      const status = (error as { cause?: { $metadata?: { httpStatusCode?: number } } }).cause?.$metadata?.httpStatusCode;
      if (status !== undefined && status >= 400 && status < 500 && status !== 429) throw error;
      throw new StorageUnavailableError(`S3 is unavailable: ${(error as Error).message}`);
    }
  }
}

/** Inclusive ns bounds of a metadata query: whole milliseconds, as the other stores use. */
function nsBounds(query: MetadataQuery): [bigint, bigint] {
  const from = query.startMs === undefined ? 0n : BigInt(Math.max(0, Math.floor(query.startMs))) * NS_PER_MS;
  const to = query.endMs === undefined ? 2n ** 63n - 1n : (BigInt(Math.floor(query.endMs)) + 1n) * NS_PER_MS - 1n;
  return [from, to];
}

function compare(a: { timestampNs: bigint; id: string }, b: { timestampNs: bigint; id: string }): number {
  if (a.timestampNs !== b.timestampNs) return a.timestampNs < b.timestampNs ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Native full-text terms with the embedded store's FTS5 (unicode61) reading: case-folded
 * runs of letters and digits; every term's tokens must occur consecutively in the message.
 */
function textTerms(text: string): string[][] {
  return text
    .split(/\s+/)
    .filter(Boolean)
    .map(tokens)
    .filter((t) => t.length > 0);
}

function tokens(text: string): string[] {
  return (
    text
      .toLowerCase()
      .normalize('NFD')
      .replace(/\p{M}/gu, '')
      .match(/[\p{L}\p{N}]+/gu) ?? []
  );
}

function containsTerms(message: string, terms: string[][]): boolean {
  const words = tokens(message);
  return terms.every((phrase) => words.some((_, i) => phrase.every((p, k) => words[i + k] === p)));
}

/** `s:<f|b>:<ts ns>:<id>` — the position of the last entry returned. */
function encodeCursor(direction: LogSelection['direction'], last: { timestampNs: bigint; id: string }): string {
  return encodeTaggedCursor('s', direction, `${last.timestampNs}:${last.id}`);
}

function decodeCursor(cursor: string, direction: LogSelection['direction']): { timestampNs: bigint; id: string } {
  const [ns, id] = decodeTaggedCursor(cursor, 's', direction, /(\d+):([0-9a-f-]+)/);
  return { timestampNs: BigInt(ns!), id: id! };
}
