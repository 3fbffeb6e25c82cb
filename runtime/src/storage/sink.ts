/**
 * What the processor runner needs from a sink (Vector's component spec: a sink acknowledges
 * only after delivery). write() resolves when every record is stored or rejected for good;
 * it throws SinkUnavailableError when the backend cannot take data now (the runner backs off
 * and retries the whole batch without committing — ids are deterministic, so a retry
 * overwrites what already landed).
 */
import type { LogEntry, MetricMetadata, Sample, Signal } from '../model/types.js';

export type SinkRecord =
  { kind: 'log'; entry: LogEntry } | { kind: 'sample'; sample: Sample } | { kind: 'metadata'; metadata: MetricMetadata };

/** A record the backend refused for good (a mapping error): it goes to the DLQ. */
export interface RejectedRecord {
  index: number;
  reason: string;
}

export interface Sink {
  readonly name: string;
  /**
   * How many records one write() should carry: the runner merges the batches of several
   * partitions up to it (OpenSearch: bulk.maxDocs — bigger bulks cost the server less per
   * document). Default 5,000.
   */
  readonly maxRecordsPerWrite?: number;
  /** Prepares the backend (index templates); throws SinkUnavailableError while it is down. */
  start(): Promise<void>;
  write(records: SinkRecord[]): Promise<RejectedRecord[]>;
  close(): Promise<void>;
}

export class SinkUnavailableError extends Error {}

/** Where a batch, or the slice of one, came from. */
export interface SegmentSource {
  topic: string;
  partition: number;
  signal: Signal;
  firstOffset: bigint;
  lastOffset: bigint;
}

/** Offsets a buffering sink made durable: `offset` is the next one to read (what Kafka commits). */
export interface DurableOffset {
  topic: string;
  partition: number;
  offset: string;
  signal: Signal;
  /** Records written by the flush (for sextant_sink_records_written_total). */
  records: number;
}

export interface FlushOutcome {
  durable: DurableOffset[];
  /** Set when a due flush failed: the runner backs off; what is in `durable` still gets committed. */
  error?: Error;
}

/**
 * A sink that buffers across batches and writes when its own policy says so (the S3 cold
 * sink: one object per partition, hour and flush). The runner appends each batch, marks it
 * consumed, asks for due flushes, and commits only what the sink reports durable; after a
 * rebalance it calls reset(), because Kafka then delivers again from the committed offsets.
 */
export interface BufferingSink {
  readonly name: string;
  readonly buffering: true;
  /** How often the runner asks for flushes that became due by age while no batch arrives. */
  readonly tickMs: number;
  start(): Promise<void>;
  /**
   * Called before each batch. The sink may have to end coming flushes at given offsets (a
   * predecessor's uncommitted flushes): it returns them, ascending, and the runner cuts the
   * batch after each. Throws SinkUnavailableError while the backend is down.
   */
  begin(source: Omit<SegmentSource, 'lastOffset'>): Promise<bigint[]>;
  append(source: SegmentSource, records: SinkRecord[]): void;
  /** Writes every due buffer (every non-empty one on shutdown). */
  flush(options: { shutdown: boolean; heartbeat?: () => Promise<void> }): Promise<FlushOutcome>;
  reset(reason: string): void;
  close(): Promise<void>;
}

export type AnySink = Sink | BufferingSink;

export function isBuffering(sink: AnySink): sink is BufferingSink {
  return 'buffering' in sink && sink.buffering === true;
}
