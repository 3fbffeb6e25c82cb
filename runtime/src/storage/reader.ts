/**
 * The primitives every storage backend (SQLite, OpenSearch, S3) offers to the
 * query engines (docs/architecture.md §5). PromQL, LogQL and the native API sit on top of these only.
 */
import type { Labels, LogEntry, MetricType } from '../model/types.js';

/**
 * A value or a promise of it: the embedded store answers synchronously, OpenSearch and S3
 * asynchronously; the query engines await either.
 */
export type Awaitable<T> = T | Promise<T>;

export type MatchOp = '=' | '!=' | '=~' | '!~';

/** A Prometheus/Loki label matcher. Regex matchers are fully anchored, as in Prometheus. */
export interface LabelMatcher {
  name: string;
  op: MatchOp;
  value: string;
}

export type LineFilterOp = '|=' | '!=' | '|~' | '!~';

/** A LogQL line filter: substring (case-sensitive) or regular-expression test on the message. */
export interface LineFilter {
  op: LineFilterOp;
  value: string;
}

export type Direction = 'forward' | 'backward';

export interface LogSelection {
  matchers: LabelMatcher[];
  /** Inclusive start, nanoseconds. */
  startNs: bigint;
  /** Exclusive end, nanoseconds (Loki semantics). */
  endNs: bigint;
  lineFilters?: LineFilter[];
  /** Full-text terms (native search `q`), all of which must occur in the message. */
  text?: string;
  direction: Direction;
  limit: number;
  /** Opaque position returned as `nextCursor` by a previous page. */
  cursor?: string;
}

export interface StoredLogEntry extends LogEntry {
  /** Deterministic record id (docs/architecture.md §3). */
  id: string;
}

export interface LogPage {
  entries: StoredLogEntry[];
  /** Present when more entries may follow in the same direction. */
  nextCursor?: string;
}

export interface SampleSelection {
  /** Matchers over the series labels; the metric name is the `__name__` label. */
  matchers: LabelMatcher[];
  /** Inclusive bounds, milliseconds. */
  startMs: number;
  endMs: number;
  /**
   * The most samples the caller will take (what is left of a query's maxSamples): a reader
   * throws SampleLimitError as soon as it has loaded more, instead of loading everything
   * first. A reader may ignore it; the caller counts what it gets anyway.
   */
  maxSamples?: number;
}

/** A read stopped at SampleSelection.maxSamples. Matched by name: it crosses thread boundaries. */
export class SampleLimitError extends Error {
  constructor(readonly maxSamples: number) {
    super(`more than ${maxSamples} samples selected`);
    this.name = 'SampleLimitError';
  }
}

export interface SeriesSamples {
  /** Series labels including `__name__`. */
  labels: Labels;
  /** Ascending by timestamp. */
  timestampsMs: number[];
  values: number[];
  /**
   * Times (among timestampsMs) of Prometheus staleness markers, for a store that keeps them:
   * a JavaScript number cannot carry the marker's NaN bits (0x7ff0000000000002) reliably.
   */
  staleTimestampsMs?: number[];
}

export interface MetadataQuery {
  /** Restrict to streams/series that match every matcher (empty: all). */
  matchers?: LabelMatcher[];
  /** Optional time bounds; a store may answer with a superset (as Prometheus does). */
  startMs?: number;
  endMs?: number;
}

export interface LogStats {
  streams: number;
  entries: number;
  bytes: number;
}

export interface LogReader {
  selectLogs(selection: LogSelection): Awaitable<LogPage>;
  /** Label sets of the streams that match, e.g. for /loki/api/v1/series. */
  logStreams(query: MetadataQuery): Awaitable<Labels[]>;
  logLabelNames(query: MetadataQuery): Awaitable<string[]>;
  logLabelValues(name: string, query: MetadataQuery): Awaitable<string[]>;
  /** Counts for /loki/api/v1/index/stats. */
  logStats(query: MetadataQuery): Awaitable<LogStats>;
}

export interface MetricReader {
  selectSamples(selection: SampleSelection): Awaitable<SeriesSamples[]>;
  /** Label sets (with `__name__`) of the series that match. */
  series(query: MetadataQuery): Awaitable<Labels[]>;
  metricLabelNames(query: MetadataQuery): Awaitable<string[]>;
  metricLabelValues(name: string, query: MetadataQuery): Awaitable<string[]>;
  /** Metric families' type, help and unit, for /api/v1/metadata. */
  metricMetadata(query: FamilyMetadataQuery): Awaitable<FamilyMetadata>;
}

/** Prometheus' /api/v1/metadata parameters: `metric`, `limit` (families), `limit_per_metric` (absent: no limit). */
export interface FamilyMetadataQuery {
  metric?: string;
  limit?: number;
  limitPerMetric?: number;
}

/** Per metric family, its distinct metadata, the most recently received first. */
export type FamilyMetadata = Record<string, Array<{ type: MetricType; help: string; unit: string }>>;

export type StorageReader = LogReader & MetricReader;
