/**
 * The processor of `sextant up`: what the embedded bus delivers in one event-loop turn goes
 * through the same stages as in the distributed mode (process.ts) and into the embedded
 * store in one transaction, so many small concurrent requests cost one commit (one fsync).
 * Each publisher learns how many of its records were kept; a failed write stores nothing of
 * the turn and throws, and the bus answers every publisher 503.
 */
import type { Logger } from '../common/log.js';
import type { RuntimeMetrics } from '../common/metrics.js';
import type { Delivery } from '../bus/embedded/embedded-bus.js';
import type { LogEntry, MetricMetadata, Sample } from '../model/types.js';
import type { Stages } from './process.js';

/** A store that writes a whole turn atomically (SQLite: storage/sqlite/sink.ts). */
export interface TransactionalSink {
  write(logs: LogEntry[], samples: Sample[], metadata: MetricMetadata[]): void;
}

export interface EmbeddedProcessorOptions {
  stages: Stages;
  sink: TransactionalSink;
  metrics: RuntimeMetrics;
  log: Logger;
}

export class EmbeddedProcessor {
  constructor(private readonly options: EmbeddedProcessorOptions) {}

  /** Processes and stores one turn of publishes; returns the records accepted per publish. */
  deliver(batch: Delivery[]): number[] {
    const { stages, sink, metrics, log } = this.options;
    const stopTimer = metrics.storageCommitDuration.startTimer();
    try {
      const accepted = batch.map(() => 0);
      // The stages run per publish so each publisher learns how many of its records were kept.
      const logs: LogEntry[] = [];
      const samples: Sample[] = [];
      const metadata: MetricMetadata[] = [];
      batch.forEach((p, i) => {
        if (p.logs) {
          const processed = stages.processLogs(p.logs);
          stages.count(p.logs.length, processed);
          accepted[i] = processed.entries.length;
          for (const e of processed.entries) logs.push(e);
        }
        if (p.samples) {
          accepted[i] = p.samples.length;
          for (const s of p.samples) samples.push(s);
        }
        if (p.metadata) {
          accepted[i] = p.metadata.length;
          for (const m of p.metadata) metadata.push(m);
        }
      });
      sink.write(logs, samples, metadata);
      stopTimer();
      return accepted;
    } catch (error) {
      metrics.storageErrors.inc();
      log.error({ err: error, requests: batch.length }, 'storage transaction failed; nothing of these requests was stored');
      throw error;
    }
  }
}
