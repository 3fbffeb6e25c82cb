/**
 * Hot/cold routing for the query runtime: a time range is split at `now - hotWindow` —
 * the hot reader (OpenSearch) answers for [boundary, end], the cold reader (S3) for
 * [start, boundary) — and the parts are merged.
 *
 * The split is disjoint, so no record comes from both tiers: S3 holds a copy of everything
 * (written alongside, docs/architecture.md §2a), and OpenSearch holds at least the hot window as long as
 * the hot retention is not shorter than it. The window must also be longer than the S3
 * sink's flush age, or the newest cold data would not be in S3 yet when it leaves the window.
 * Series and streams found in both parts are merged by label set.
 *
 * Log pages follow one another across the boundary: the cursor remembers the boundary it was
 * made with (so a page does not shift as the clock moves), the tier it stopped in, and
 * that tier's own cursor.
 */
import { canonicalLabels } from '../../model/labels.js';
import type { Labels } from '../../model/types.js';
import type {
  Awaitable,
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
import { decodeTaggedCursor, encodeTaggedCursor } from '../reader-common.js';

/** Stats of [fromNs, toNs) with the label sets of the streams counted (OpenSearch and S3 readers). */
export interface NsStatsReader {
  logStatsNs(matchers: LabelMatcher[], range: [bigint, bigint]): Promise<{ streams: Labels[]; entries: number; bytes: number }>;
}

export interface TieredReaderOptions {
  hot: StorageReader;
  /** Absent: everything is read from the hot tier. */
  cold?: StorageReader;
  /** Age of the oldest data read from the hot tier, per signal, in ms. */
  hotWindowMs: { logs: number; metrics: number };
  /** Clock in ms, for tests. */
  now?: () => number;
}

const NS_PER_MS = 1_000_000n;

type Tier = 'hot' | 'cold';

interface Part {
  tier: Tier;
  reader: StorageReader;
  startNs: bigint;
  endNs: bigint;
}

export class TieredReader implements StorageReader {
  private readonly hot: StorageReader;
  private readonly cold: StorageReader | undefined;
  private readonly windows: { logs: number; metrics: number };
  private readonly now: () => number;

  constructor(options: TieredReaderOptions) {
    this.hot = options.hot;
    this.cold = options.cold;
    this.windows = options.hotWindowMs;
    this.now = options.now ?? Date.now;
  }

  /** Start of the hot window for logs, ns. */
  private logBoundaryNs(): bigint {
    return BigInt(Math.floor(this.now() - this.windows.logs)) * NS_PER_MS;
  }

  private metricBoundaryMs(): number {
    return Math.floor(this.now() - this.windows.metrics);
  }

  // ---------------------------------------------------------------- log reads

  async selectLogs(selection: LogSelection): Promise<LogPage> {
    if (selection.limit <= 0) return { entries: [] };
    const position = selection.cursor ? decodeCursor(selection.cursor, selection.direction) : undefined;
    const boundary = position?.boundaryNs ?? this.logBoundaryNs();
    const parts = this.logParts(selection.startNs, selection.endNs, boundary, selection.direction);
    let index = position ? parts.findIndex((p) => p.tier === position.tier) : 0;
    if (index < 0) return { entries: [] };
    let inner = position?.inner;
    const entries: StoredLogEntry[] = [];
    const { cursor: _unused, ...rest } = selection;
    while (index < parts.length) {
      const part = parts[index]!;
      const page = await part.reader.selectLogs({
        ...rest,
        startNs: part.startNs,
        endNs: part.endNs,
        limit: selection.limit - entries.length,
        ...(inner ? { cursor: inner } : {}),
      });
      entries.push(...page.entries);
      if (entries.length >= selection.limit) {
        // Full: continue in this tier if it has more, else at the start of the next one.
        if (page.nextCursor) return { entries, nextCursor: encodeCursor(selection.direction, boundary, part.tier, page.nextCursor) };
        const next = parts[index + 1];
        return next ? { entries, nextCursor: encodeCursor(selection.direction, boundary, next.tier, undefined) } : { entries };
      }
      index++;
      inner = undefined;
    }
    return { entries };
  }

  /** The tiers covering [startNs, endNs) in the order the direction reads them. */
  private logParts(startNs: bigint, endNs: bigint, boundaryNs: bigint, direction: LogSelection['direction']): Part[] {
    const parts: Part[] = [];
    if (!this.cold) {
      parts.push({ tier: 'hot', reader: this.hot, startNs, endNs });
    } else {
      if (startNs < boundaryNs) parts.push({ tier: 'cold', reader: this.cold, startNs, endNs: min(endNs, boundaryNs) });
      if (endNs > boundaryNs) parts.push({ tier: 'hot', reader: this.hot, startNs: max(startNs, boundaryNs), endNs });
    }
    return direction === 'forward' ? parts : parts.reverse();
  }

  async logStreams(query: MetadataQuery): Promise<Labels[]> {
    return unionSets(await Promise.all(this.metadataParts(query, 'logs').map(({ reader, q }) => reader.logStreams(q))));
  }

  async logLabelNames(query: MetadataQuery): Promise<string[]> {
    return unionSorted(await Promise.all(this.metadataParts(query, 'logs').map(({ reader, q }) => reader.logLabelNames(q))));
  }

  async logLabelValues(name: string, query: MetadataQuery): Promise<string[]> {
    return unionSorted(await Promise.all(this.metadataParts(query, 'logs').map(({ reader, q }) => reader.logLabelValues(name, q))));
  }

  async logStats(query: MetadataQuery): Promise<LogStats> {
    const hot = this.hot as Partial<NsStatsReader>;
    const cold = this.cold as Partial<NsStatsReader> | undefined;
    if (!cold || !cold.logStatsNs || !hot.logStatsNs) {
      // Readers without ns-precise stats: halves in whole milliseconds (an entry in the
      // millisecond just before the boundary may be missed), streams counted once.
      const parts = this.metadataParts(query, 'logs');
      const stats = await Promise.all(parts.map(({ reader, q }) => reader.logStats(q)));
      const active = await Promise.all(parts.map(async ({ reader, q }, i) => (stats[i]!.entries > 0 ? await reader.logStreams(q) : [])));
      return {
        streams: parts.length > 1 ? unionSets(active).length : (stats[0]?.streams ?? 0),
        entries: stats.reduce((n, s) => n + s.entries, 0),
        bytes: stats.reduce((n, s) => n + s.bytes, 0),
      };
    }
    // Split at the boundary's nanosecond, so no entry falls between the halves, and count a
    // stream with entries on both sides once.
    const [from, to] = nsStatsBounds(query);
    const boundary = this.logBoundaryNs();
    const matchers = query.matchers ?? [];
    const halves = await Promise.all([
      from < boundary ? cold.logStatsNs(matchers, [from, min(to, boundary)]) : undefined,
      to > boundary ? hot.logStatsNs(matchers, [max(from, boundary), to]) : undefined,
    ]);
    const present = halves.filter((h) => h !== undefined);
    return {
      streams: unionSets(present.map((h) => h.streams)).length,
      entries: present.reduce((n, h) => n + h.entries, 0),
      bytes: present.reduce((n, h) => n + h.bytes, 0),
    };
  }

  // ---------------------------------------------------------------- metric reads

  async selectSamples(selection: SampleSelection): Promise<SeriesSamples[]> {
    if (!this.cold) return this.hot.selectSamples(selection);
    const boundary = this.metricBoundaryMs();
    const reads: Array<Promise<SeriesSamples[]>> = [];
    if (selection.startMs < boundary)
      reads.push(Promise.resolve(this.cold.selectSamples({ ...selection, endMs: Math.min(selection.endMs, boundary - 1) })));
    if (selection.endMs >= boundary)
      reads.push(Promise.resolve(this.hot.selectSamples({ ...selection, startMs: Math.max(selection.startMs, boundary) })));
    const parts = await Promise.all(reads);
    if (parts.length === 1) return parts[0]!;
    // Cold is older than hot: per series, cold points then hot points stay ascending. The
    // ranges are disjoint, so no timestamp, marker or not, comes from both.
    const merged = new Map<string, SeriesSamples>();
    for (const part of parts) {
      for (const s of part) {
        const key = canonicalLabels(s.labels);
        const into = merged.get(key);
        if (!into) {
          merged.set(key, {
            labels: s.labels,
            timestampsMs: [...s.timestampsMs],
            values: [...s.values],
            ...(s.staleTimestampsMs?.length ? { staleTimestampsMs: [...s.staleTimestampsMs] } : {}),
          });
        } else {
          into.timestampsMs.push(...s.timestampsMs);
          into.values.push(...s.values);
          if (s.staleTimestampsMs?.length) (into.staleTimestampsMs ??= []).push(...s.staleTimestampsMs);
        }
      }
    }
    return [...merged.values()];
  }

  async series(query: MetadataQuery): Promise<Labels[]> {
    return unionSets(await Promise.all(this.metadataParts(query, 'metrics').map(({ reader, q }) => reader.series(q))));
  }

  async metricLabelNames(query: MetadataQuery): Promise<string[]> {
    return unionSorted(await Promise.all(this.metadataParts(query, 'metrics').map(({ reader, q }) => reader.metricLabelNames(q))));
  }

  async metricLabelValues(name: string, query: MetadataQuery): Promise<string[]> {
    return unionSorted(await Promise.all(this.metadataParts(query, 'metrics').map(({ reader, q }) => reader.metricLabelValues(name, q))));
  }

  /** Metric metadata is kept in the hot tier only (the S3 sink does not write it). */
  metricMetadata(query: FamilyMetadataQuery): Awaitable<FamilyMetadata> {
    return this.hot.metricMetadata(query);
  }

  /** Metadata bounds are whole, inclusive milliseconds: cold gets [start, b - 1], hot [b, end]. */
  private metadataParts(query: MetadataQuery, signal: 'logs' | 'metrics'): Array<{ reader: StorageReader; q: MetadataQuery }> {
    if (!this.cold) return [{ reader: this.hot, q: query }];
    const boundary = signal === 'logs' ? Number(this.logBoundaryNs() / NS_PER_MS) : this.metricBoundaryMs();
    const parts: Array<{ reader: StorageReader; q: MetadataQuery }> = [];
    if (query.startMs === undefined || query.startMs < boundary) {
      parts.push({ reader: this.cold, q: { ...query, endMs: Math.min(query.endMs ?? Infinity, boundary - 1) } });
    }
    if (query.endMs === undefined || query.endMs >= boundary) {
      parts.push({ reader: this.hot, q: { ...query, startMs: Math.max(query.startMs ?? -Infinity, boundary) } });
    }
    return parts;
  }
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

function max(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

function unionSets(lists: Labels[][]): Labels[] {
  const seen = new Map<string, Labels>();
  for (const list of lists) for (const labels of list) if (!seen.has(canonicalLabels(labels))) seen.set(canonicalLabels(labels), labels);
  return [...seen.values()];
}

function unionSorted(lists: string[][]): string[] {
  return [...new Set(lists.flat())].sort();
}

interface Position {
  boundaryNs: bigint;
  tier: Tier;
  inner?: string;
}

/** `t:<f|b>:<boundary ns>:<hot|cold>:<tier cursor>` (empty: from the start of that tier). */
function encodeCursor(direction: LogSelection['direction'], boundaryNs: bigint, tier: Tier, inner: string | undefined): string {
  return encodeTaggedCursor('t', direction, `${boundaryNs}:${tier}:${inner ?? ''}`);
}

function decodeCursor(cursor: string, direction: LogSelection['direction']): Position {
  const [boundaryNs, tier, inner] = decodeTaggedCursor(cursor, 't', direction, /(-?\d+):(hot|cold):([A-Za-z0-9_-]*)/);
  return { boundaryNs: BigInt(boundaryNs!), tier: tier as Tier, ...(inner ? { inner } : {}) };
}
