/**
 * What the processor runner needs from a sink (Vector's component spec: a sink acknowledges
 * only after delivery). write() resolves when every record is stored or rejected for good;
 * it throws SinkUnavailableError when the backend cannot take data now (the runner backs off
 * and retries the whole batch without committing — ids are deterministic, so a retry
 * overwrites what already landed).
 */
import type { LogEntry, Sample } from '../../model/types.js';

export type SinkRecord = { kind: 'log'; entry: LogEntry } | { kind: 'sample'; sample: Sample };

/** A record the backend refused for good (a mapping error): it goes to the DLQ. */
export interface RejectedRecord {
  index: number;
  reason: string;
}

export interface Sink {
  readonly name: string;
  /** Prepares the backend (index templates); throws SinkUnavailableError while it is down. */
  start(): Promise<void>;
  write(records: SinkRecord[]): Promise<RejectedRecord[]>;
  close(): Promise<void>;
}

export class SinkUnavailableError extends Error {}
