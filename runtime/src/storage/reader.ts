/**
 * The primitives every storage backend (SQLite now; OpenSearch and S3 later) offers to the
 * query engines (DESIGN §5). PromQL, LogQL and the native API sit on top of these only.
 */
import type { Labels, LogEntry } from '../model/types.js';

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
  /** Deterministic record id (DESIGN §3). */
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
}

export interface SeriesSamples {
  /** Series labels including `__name__`. */
  labels: Labels;
  /** Ascending by timestamp. */
  timestampsMs: number[];
  values: number[];
}

export interface MetadataQuery {
  /** Restrict to streams/series that match every matcher (empty: all). */
  matchers?: LabelMatcher[];
  /** Optional time bounds; a store may answer with a superset (as Prometheus does). */
  startMs?: number;
  endMs?: number;
}

export interface LogReader {
  selectLogs(selection: LogSelection): LogPage;
  /** Label sets of the streams that match, e.g. for /loki/api/v1/series. */
  logStreams(query: MetadataQuery): Labels[];
  logLabelNames(query: MetadataQuery): string[];
  logLabelValues(name: string, query: MetadataQuery): string[];
  /** Counts for /loki/api/v1/index/stats. */
  logStats(query: MetadataQuery): { streams: number; entries: number; bytes: number };
}

export interface MetricReader {
  selectSamples(selection: SampleSelection): SeriesSamples[];
  /** Label sets (with `__name__`) of the series that match. */
  series(query: MetadataQuery): Labels[];
  metricLabelNames(query: MetadataQuery): string[];
  metricLabelValues(name: string, query: MetadataQuery): string[];
}

export type StorageReader = LogReader & MetricReader;
