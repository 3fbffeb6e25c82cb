/**
 * Per-record limits enforced at ingestion (docs/architecture.md §3). Defaults follow Loki's and
 * Prometheus' where they have one; every violation is a 400 naming the offending item.
 */
import * as t from 'io-ts';

export interface Limits {
  /** Labels per log entry or sample (the metric name not counted). Loki: 15; we allow more. */
  maxLabels: number;
  maxLabelNameLength: number;
  maxLabelValueLength: number;
  /** Bytes of one log message (UTF-8). Loki's max_line_size. */
  maxLineBytes: number;
  /** Nesting depth of `fields` (an object directly under `fields` is depth 1). */
  maxFieldsDepth: number;
  /** Keys of `fields`, counted over every level. */
  maxFieldsKeys: number;
  /** How far past now a timestamp may be (Loki's creation_grace_period). */
  maxFutureSkewMs: number;
  /** How far before now a timestamp may be; 0 accepts any age (backfills on a laptop). */
  maxPastAgeMs: number;
}

export const defaultLimits: Limits = {
  maxLabels: 30,
  maxLabelNameLength: 1024,
  maxLabelValueLength: 2048,
  maxLineBytes: 256 * 1024,
  maxFieldsDepth: 8,
  maxFieldsKeys: 256,
  maxFutureSkewMs: 10 * 60 * 1000,
  maxPastAgeMs: 0,
};

export const LimitsConfig = t.partial({
  maxLabels: t.number,
  maxLabelNameLength: t.number,
  maxLabelValueLength: t.number,
  maxLineBytes: t.number,
  maxFieldsDepth: t.number,
  maxFieldsKeys: t.number,
  maxFutureSkewMs: t.number,
  maxPastAgeMs: t.number,
});
export type LimitsConfig = t.TypeOf<typeof LimitsConfig>;

export function withDefaults(config: LimitsConfig = {}): Limits {
  return { ...defaultLimits, ...config };
}

/**
 * The most points a range query may return per series (Prometheus' 11,000: a finer step is
 * refused with a 400). One constant for the PromQL and LogQL engines and the native API.
 */
export const MAX_POINTS_PER_SERIES = 11_000;
