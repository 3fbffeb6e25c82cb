/**
 * Test helper: an in-memory StorageReader with the contract's semantics (matchers with
 * Prometheus rules, inclusive sample bounds, [start, end) log bounds, direction, limit and
 * cursor paging). Used by the PromQL, LogQL and HTTP API tests; never by production code.
 */
import { canonicalLabels, sortedLabels } from '../../model/labels.js';
import type { Labels, LogEntry, MetricMetadata, MetricType } from '../../model/types.js';
import { compileLineFilters, compileMatchers } from '../../storage/matchers.js';
import { groupFamilyMetadata } from '../../storage/reader-common.js';
import type {
  FamilyMetadata,
  FamilyMetadataQuery,
  LogPage,
  LogSelection,
  MetadataQuery,
  SampleSelection,
  SeriesSamples,
  StorageReader,
  StoredLogEntry,
} from '../../storage/reader.js';

export interface FakeSeries {
  /** Labels including `__name__`. */
  labels: Labels;
  /** [timestampMs, value] pairs, any order. */
  samples: [number, number][];
  /** Times of staleness markers (also present in samples, as NaN). */
  stale?: Set<number>;
}

export class FakeReader implements StorageReader {
  readonly metricSeries: FakeSeries[] = [];
  readonly entries: StoredLogEntry[] = [];
  /** Every selectLogs call, for assertions on paging and bounds. */
  readonly logSelections: LogSelection[] = [];
  readonly sampleSelections: SampleSelection[] = [];
  readonly metadata: MetricMetadata[] = [];

  /** A series; `'stale'` values are Prometheus staleness markers. */
  addSeries(labels: Labels, samples: [number, number | 'stale'][]): this {
    const stale = new Set(samples.filter(([, v]) => v === 'stale').map(([t]) => t));
    this.metricSeries.push({
      labels: sortedLabels(labels),
      samples: samples.map(([t, v]): [number, number] => [t, v === 'stale' ? NaN : v]).sort((a, b) => a[0] - b[0]),
      ...(stale.size > 0 ? { stale } : {}),
    });
    return this;
  }

  addLog(labels: Labels, timestampNs: bigint, message: string): this {
    const entry: LogEntry = { labels: sortedLabels(labels), timestampNs, message, fields: {} };
    this.entries.push({ ...entry, id: `${canonicalLabels(labels)}|${timestampNs}|${message}` });
    return this;
  }

  addMetadata(metric: string, type: MetricType, help: string, unit = '', lastSeenMs = 0): this {
    this.metadata.push({ metric, type, help, unit, timestampMs: lastSeenMs });
    return this;
  }

  metricMetadata(query: FamilyMetadataQuery): FamilyMetadata {
    return groupFamilyMetadata(this.metadata, query);
  }

  selectSamples(selection: SampleSelection): SeriesSamples[] {
    this.sampleSelections.push(selection);
    const matches = compileMatchers(selection.matchers);
    const out: SeriesSamples[] = [];
    for (const s of this.metricSeries) {
      if (!matches(s.labels)) continue;
      const inRange = s.samples.filter(([t]) => t >= selection.startMs && t <= selection.endMs);
      if (inRange.length === 0) continue;
      const series: SeriesSamples = { labels: s.labels, timestampsMs: inRange.map(([t]) => t), values: inRange.map(([, v]) => v) };
      const stale = s.stale ? inRange.map(([t]) => t).filter((t) => s.stale!.has(t)) : [];
      out.push(stale.length > 0 ? { ...series, staleTimestampsMs: stale } : series);
    }
    return out;
  }

  private metricSets(query: MetadataQuery): Labels[] {
    const matches = compileMatchers(query.matchers ?? []);
    return this.metricSeries
      .filter((s) => matches(s.labels))
      .filter((s) =>
        s.samples.some(([t]) => (query.startMs === undefined || t >= query.startMs) && (query.endMs === undefined || t <= query.endMs)),
      )
      .map((s) => s.labels);
  }

  series(query: MetadataQuery): Labels[] {
    return this.metricSets(query);
  }

  metricLabelNames(query: MetadataQuery): string[] {
    return [...new Set(this.metricSets(query).flatMap((l) => Object.keys(l)))].sort();
  }

  metricLabelValues(name: string, query: MetadataQuery): string[] {
    return [...new Set(this.metricSets(query).flatMap((l) => (l[name] === undefined ? [] : [l[name]])))].sort();
  }

  selectLogs(selection: LogSelection): LogPage {
    this.logSelections.push(selection);
    const matches = compileMatchers(selection.matchers);
    const keep = compileLineFilters(selection.lineFilters ?? []);
    const forward = selection.direction === 'forward';
    const all = this.entries
      .filter((e) => matches(e.labels) && e.timestampNs >= selection.startNs && e.timestampNs < selection.endNs && keep(e.message))
      .sort((a, b) => {
        const d = a.timestampNs < b.timestampNs ? -1 : a.timestampNs > b.timestampNs ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
        return forward ? d : -d;
      });
    const offset = selection.cursor === undefined ? 0 : Number(selection.cursor);
    const entries = all.slice(offset, offset + selection.limit);
    const next = offset + entries.length;
    return next < all.length ? { entries, nextCursor: String(next) } : { entries };
  }

  private streamSets(query: MetadataQuery): Labels[] {
    const matches = compileMatchers(query.matchers ?? []);
    const sets = new Map<string, Labels>();
    for (const e of this.entries) {
      const ms = Number(e.timestampNs / 1_000_000n);
      if (query.startMs !== undefined && ms < query.startMs) continue;
      if (query.endMs !== undefined && ms > query.endMs) continue;
      if (matches(e.labels)) sets.set(canonicalLabels(e.labels), e.labels);
    }
    return [...sets.values()];
  }

  logStreams(query: MetadataQuery): Labels[] {
    return this.streamSets(query);
  }

  logLabelNames(query: MetadataQuery): string[] {
    return [...new Set(this.streamSets(query).flatMap((l) => Object.keys(l)))].sort();
  }

  logLabelValues(name: string, query: MetadataQuery): string[] {
    return [...new Set(this.streamSets(query).flatMap((l) => (l[name] === undefined ? [] : [l[name]])))].sort();
  }

  logStats(query: MetadataQuery): { streams: number; entries: number; bytes: number } {
    const streams = this.streamSets(query);
    const keys = new Set(streams.map(canonicalLabels));
    const entries = this.entries.filter((e) => {
      const ms = Number(e.timestampNs / 1_000_000n);
      if (query.startMs !== undefined && ms < query.startMs) return false;
      if (query.endMs !== undefined && ms > query.endMs) return false;
      return keys.has(canonicalLabels(e.labels));
    });
    return { streams: streams.length, entries: entries.length, bytes: entries.reduce((n, e) => n + Buffer.byteLength(e.message), 0) };
  }
}
