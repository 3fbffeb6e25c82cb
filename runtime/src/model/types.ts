/**
 * The normalised records that flow from ingestion through the bus and the processor
 * stages into storage (docs/architecture.md §3). Everything downstream of ingestion sees only these.
 */

/** Low-cardinality stream or series labels. Names follow Prometheus rules. */
export type Labels = Record<string, string>;

/** Structured, high-cardinality data attached to a log entry (trace ids, users, …). */
export type Fields = Record<string, unknown>;

export interface LogEntry {
  /** Nanoseconds since the Unix epoch; bigint because a float64 cannot hold ns exactly. */
  timestampNs: bigint;
  labels: Labels;
  message: string;
  fields: Fields;
}

export interface Sample {
  /** Metric name (Prometheus rules: [a-zA-Z_:][a-zA-Z0-9_:]*). */
  name: string;
  /** Labels other than the name. `__name__` is never stored here. */
  labels: Labels;
  /** Milliseconds since the Unix epoch. */
  timestampMs: number;
  value: number;
}

export type Signal = 'logs' | 'metrics';

/** A metric family's type as Prometheus' /api/v1/metadata names it. */
export const METRIC_TYPES = ['unknown', 'counter', 'gauge', 'histogram', 'gaugehistogram', 'summary', 'info', 'stateset'] as const;
export type MetricType = (typeof METRIC_TYPES)[number];

/**
 * What a sender says about a metric family (Prometheus' `# TYPE`, `# HELP`, `# UNIT`; OTLP's
 * description and unit), served by /api/v1/metadata. One family may carry several (targets
 * that disagree); each distinct one is kept, stamped with when it was last received.
 */
export interface MetricMetadata {
  /** The family name: `http_requests_total`, or `rpc_duration_seconds` for its `_bucket`/`_sum`/`_count` series. */
  metric: string;
  type: MetricType;
  help: string;
  unit: string;
  /** When it was received (ms since the epoch). */
  timestampMs: number;
}
