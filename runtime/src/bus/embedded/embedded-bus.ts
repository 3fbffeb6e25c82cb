/**
 * The embedded bus of `sextant up`: no broker, the processor stages and the SQLite store run
 * in-process. Publishes that arrive in the same event-loop turn are group-committed in one
 * transaction, so many small concurrent requests cost one commit (and one fsync).
 */
import type { Logger } from '../../common/log.js';
import type { RuntimeMetrics } from '../../common/metrics.js';
import type { LogEntry, Sample } from '../../model/types.js';
import type { SqliteStore } from '../../storage/sqlite/store.js';
import { ThrottledLog } from '../../common/throttled-log.js';
import { createProcessorMetrics, type ProcessorMetrics } from '../../processor/metrics.js';
import type { Pipeline, PipelineResult } from '../../processor/pipeline.js';
import { BusUnavailableError, type Bus, type PublishResult } from '../bus.js';

interface Pending {
  logs?: LogEntry[];
  samples?: Sample[];
  resolve: (result: PublishResult) => void;
  reject: (error: Error) => void;
}

export interface EmbeddedBusOptions {
  store: SqliteStore;
  processor: Pipeline;
  metrics: RuntimeMetrics;
  log: Logger;
}

export class EmbeddedBus implements Bus {
  private pending: Pending[] = [];
  private scheduled = false;
  private closed = false;
  private readonly dropLog = new ThrottledLog(60_000);
  private readonly processorMetrics: ProcessorMetrics;

  constructor(private readonly options: EmbeddedBusOptions) {
    this.processorMetrics = createProcessorMetrics(options.metrics.registry);
  }

  publishLogs(entries: LogEntry[]): Promise<PublishResult> {
    return this.enqueue({ logs: entries });
  }

  publishSamples(samples: Sample[]): Promise<PublishResult> {
    return this.enqueue({ samples });
  }

  ready(): boolean {
    return !this.closed && this.options.store.db.open;
  }

  async close(): Promise<void> {
    this.flush();
    this.closed = true;
  }

  private enqueue(batch: Omit<Pending, 'resolve' | 'reject'>): Promise<PublishResult> {
    if (this.closed) return Promise.reject(new BusUnavailableError('shutting down'));
    return new Promise((resolve, reject) => {
      this.pending.push({ ...batch, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const { store, processor, metrics, log } = this.options;
    const stopTimer = metrics.storageCommitDuration.startTimer();
    try {
      const results = batch.map(() => 0);
      // The stages run per request so each publisher learns how many of its records were kept.
      const logs: LogEntry[] = [];
      const samples: Sample[] = [];
      batch.forEach((p, i) => {
        if (p.logs) {
          const processed = processor.processLogs(p.logs);
          this.processorMetrics.record(p.logs.length, processed);
          this.logDrops(processed.dropped);
          results[i] = processed.entries.length;
          for (const e of processed.entries) logs.push(e);
        }
        if (p.samples) {
          results[i] = p.samples.length;
          for (const s of p.samples) samples.push(s);
        }
      });
      const written = store.write(logs, samples);
      metrics.storageWritten.inc({ signal: 'logs' }, written.logs.written);
      metrics.storageDuplicates.inc({ signal: 'logs' }, written.logs.duplicates);
      metrics.storageWritten.inc({ signal: 'metrics' }, written.samples.written);
      stopTimer();
      batch.forEach((p, i) => p.resolve({ accepted: results[i]! }));
    } catch (error) {
      metrics.storageErrors.inc();
      log.error({ err: error, requests: batch.length }, 'storage transaction failed; nothing of these requests was stored');
      const unavailable = new BusUnavailableError(`storage write failed: ${(error as Error).message}`);
      for (const p of batch) p.reject(unavailable);
    }
  }

  /** Intentional drops are counted by processorMetrics; here they are explained in the log. */
  private logDrops(dropped: PipelineResult['dropped']): void {
    for (const d of dropped) {
      this.dropLog.record(`${d.stage}/${d.reason}`, d.count, (count) =>
        this.options.log.info(
          { stage: `processors[${d.stage}].${d.type}`, reason: d.reason, count },
          'processor stage dropped log entries as configured (sextant_processor_entries_dropped_total)',
        ),
      );
    }
  }
}
