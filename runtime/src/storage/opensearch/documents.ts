/**
 * Documents, ids and index names of the OpenSearch hot tier. The _id derives from content
 * (docs/architecture.md §3: logRecordId for log entries, series fingerprint + timestamp for samples), so a
 * replayed record overwrites itself instead of duplicating.
 */
import { logRecordId, metadataRecordId, sampleRecordId, seriesFingerprint, streamFingerprint } from '../../model/fingerprint.js';
import type { LogEntry, MetricMetadata, Sample, Signal } from '../../model/types.js';
import { specialValueText } from '../../model/stale.js';

export interface IndexedDoc {
  index: string;
  id: string;
  doc: Record<string, unknown>;
}

/**
 * How much time one index covers. Retention deletes whole indices (opensearch/retention.ts),
 * so data stays up to one partition longer than the hot retention: `hourly` suits hot
 * retentions of hours (at the price of 24× the indices), `daily` everything longer.
 */
export type IndexPartition = 'daily' | 'hourly';

/** `<prefix>-<signal>-YYYY.MM.DD` (UTC day of the record's timestamp). */
export function dailyIndex(prefix: string, signal: Signal, timestampMs: number): string {
  const d = new Date(timestampMs);
  const day = `${d.getUTCFullYear()}.${String(d.getUTCMonth() + 1).padStart(2, '0')}.${String(d.getUTCDate()).padStart(2, '0')}`;
  return `${prefix}-${signal}-${day}`;
}

/** dailyIndex, or `<prefix>-<signal>-YYYY.MM.DD.HH` (UTC hour) for hourly partitions. */
export function partitionIndex(prefix: string, signal: Signal, timestampMs: number, partition: IndexPartition): string {
  const daily = dailyIndex(prefix, signal, timestampMs);
  return partition === 'daily' ? daily : `${daily}.${String(new Date(timestampMs).getUTCHours()).padStart(2, '0')}`;
}

/**
 * The indices a reader of `prefix` and `signal` searches. `<prefix>-<signal>-*` alone also
 * matches another Pipeline's indices where its prefix extends this one past a `-` (pipeline
 * `api` would read `api-logs`'s `….api-logs-logs-2026.01.02`). Our period suffix never holds a
 * `-`, so excluding `<prefix>-<signal>-*-*` leaves exactly this prefix's daily and hourly indices.
 */
export function readPatterns(prefix: string, signal: Signal): string[] {
  return [`${prefix}-${signal}-*`, `-${prefix}-${signal}-*-*`];
}

/**
 * Template priority: two templates whose patterns can match one index must differ in priority
 * (OpenSearch refuses the second otherwise), and the more specific, longer prefix must win.
 * `a-logs-*` and `b-logs-*` can both match a name only when one prefix extends the other
 * (`api` and `api-logs`), so the length ranks them; equal lengths never overlap.
 */
export function templatePriority(prefix: string): number {
  return 100 + prefix.length;
}

/** RFC 3339 with all nine fraction digits: what a date_nanos field keeps exactly. */
export function nsToIso(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const fraction = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${new Date(ms).toISOString().slice(0, 19)}.${fraction}Z`;
}

export function logDocument(prefix: string, entry: LogEntry, partition: IndexPartition = 'daily'): IndexedDoc {
  const stream = streamFingerprint(entry.labels);
  return {
    index: partitionIndex(prefix, 'logs', Number(entry.timestampNs / 1_000_000n), partition),
    id: logRecordId(stream, entry),
    doc: {
      '@timestamp': nsToIso(entry.timestampNs),
      ts_ns: entry.timestampNs.toString(),
      stream,
      labels: entry.labels,
      message: entry.message,
      fields: entry.fields,
    },
  };
}

export function sampleDocument(prefix: string, sample: Sample, partition: IndexPartition = 'daily'): IndexedDoc {
  const series = seriesFingerprint(sample.name, sample.labels);
  const finite = Number.isFinite(sample.value);
  return {
    index: partitionIndex(prefix, 'metrics', sample.timestampMs, partition),
    id: sampleRecordId(series, sample),
    doc: {
      '@timestamp': sample.timestampMs,
      name: sample.name,
      series,
      labels: sample.labels,
      // A double field cannot hold NaN/±Inf: those are kept in `special` instead.
      value: finite ? sample.value : null,
      ...(finite
        ? {}
        : {
            special: specialValueText(sample.value),
          }),
    },
  };
}

/**
 * `<prefix>-metadata`: one index, not one per period. It holds one document per family and
 * distinct (type, help, unit), so it grows with the number of metric families, not with time.
 */
export function metadataIndex(prefix: string): string {
  return `${prefix}-metadata`;
}

export function metadataDocument(prefix: string, metadata: MetricMetadata): IndexedDoc {
  return {
    index: metadataIndex(prefix),
    id: metadataRecordId(metadata),
    doc: { metric: metadata.metric, type: metadata.type, help: metadata.help, unit: metadata.unit, last_seen: metadata.timestampMs },
  };
}

/** Composable index templates: one per signal, matching that signal's daily or hourly indices. */
export function indexTemplates(prefix: string): { name: string; body: Record<string, unknown> }[] {
  const labels = { type: 'object', dynamic: true };
  const labelsAsKeywords = [{ labels_as_keywords: { path_match: 'labels.*', mapping: { type: 'keyword', ignore_above: 2048 } } }];
  return [
    {
      name: `${prefix}-logs`,
      body: {
        index_patterns: [`${prefix}-logs-*`],
        priority: templatePriority(prefix),
        template: {
          settings: { 'index.refresh_interval': '1s' },
          mappings: {
            // Which template made an index, where prefixes extend one another (`_mapping` shows it).
            _meta: { 'sextant.dev/index-prefix': prefix },
            dynamic_templates: labelsAsKeywords,
            properties: {
              '@timestamp': { type: 'date_nanos' },
              ts_ns: { type: 'keyword', index: false, doc_values: false },
              stream: { type: 'keyword' },
              labels,
              message: { type: 'text' },
              // flat_object: arbitrary structured fields without a mapping explosion.
              fields: { type: 'flat_object' },
            },
          },
        },
      },
    },
    {
      name: `${prefix}-metrics`,
      body: {
        index_patterns: [`${prefix}-metrics-*`],
        priority: templatePriority(prefix),
        template: {
          settings: { 'index.refresh_interval': '1s' },
          mappings: {
            // Which template made an index, where prefixes extend one another (`_mapping` shows it).
            _meta: { 'sextant.dev/index-prefix': prefix },
            dynamic_templates: labelsAsKeywords,
            properties: {
              '@timestamp': { type: 'date', format: 'epoch_millis||strict_date_optional_time' },
              name: { type: 'keyword' },
              series: { type: 'keyword' },
              labels,
              value: { type: 'double' },
              special: { type: 'keyword' },
            },
          },
        },
      },
    },
    {
      name: `${prefix}-metadata`,
      body: {
        index_patterns: [metadataIndex(prefix)],
        priority: templatePriority(prefix),
        template: {
          settings: { 'index.refresh_interval': '1s' },
          mappings: {
            _meta: { 'sextant.dev/index-prefix': prefix },
            dynamic: 'strict',
            properties: {
              metric: { type: 'keyword' },
              type: { type: 'keyword' },
              // Read from _source, never searched.
              help: { type: 'keyword', index: false, doc_values: false },
              unit: { type: 'keyword', index: false, doc_values: false },
              last_seen: { type: 'date', format: 'epoch_millis' },
            },
          },
        },
      },
    },
  ];
}
