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
