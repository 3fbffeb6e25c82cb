/**
 * The bus between ingestion and the processors (docs/architecture.md §1, §4). A publish resolves only
 * when the batch is durable: committed by the embedded store, or acknowledged by Kafka.
 */
import type { LogEntry, MetricMetadata, Sample } from '../model/types.js';

export interface PublishResult {
  /** Records that reached storage (or the bus) as new. */
  accepted: number;
}

export interface Bus {
  publishLogs(entries: LogEntry[]): Promise<PublishResult>;
  publishSamples(samples: Sample[]): Promise<PublishResult>;
  /** Metric families' type, help and unit: carried with the samples, stored apart (docs/architecture.md §3). */
  publishMetadata(metadata: MetricMetadata[]): Promise<PublishResult>;
  /** False while a dependency the bus needs is down (then ingestion answers 503). */
  ready(): boolean;
  close(): Promise<void>;
}

/** Raised when the bus cannot take data right now; clients should retry later (503). */
export class BusUnavailableError extends Error {
  constructor(
    message: string,
    readonly retryAfterSeconds = 1,
  ) {
    super(message);
  }
}
