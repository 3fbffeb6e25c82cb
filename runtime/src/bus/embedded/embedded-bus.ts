/**
 * The embedded bus of `sextant up`: no broker, it only carries records. Publishes that
 * arrive in the same event-loop turn are handed to `deliver` together (the embedded
 * processor, processor/embedded.ts, stores them in one transaction), and each publish
 * resolves with what `deliver` accepted of it, or rejects with BusUnavailableError (503)
 * when the turn could not be stored.
 */
import type { LogEntry, MetricMetadata, Sample } from '../../model/types.js';
import { BusUnavailableError, type Bus, type PublishResult } from '../bus.js';

/** One publish as delivered: log entries, samples or metric metadata. */
export interface Delivery {
  logs?: LogEntry[];
  samples?: Sample[];
  metadata?: MetricMetadata[];
}

interface Pending extends Delivery {
  resolve: (result: PublishResult) => void;
  reject: (error: Error) => void;
}

export interface EmbeddedBusOptions {
  /** Takes one turn's publishes and returns the records accepted of each; throws when nothing was stored. */
  deliver: (batch: Delivery[]) => number[];
  /** Whether the receiving side can take records (the store is open). */
  ready: () => boolean;
}

export class EmbeddedBus implements Bus {
  private pending: Pending[] = [];
  private scheduled = false;
  private closed = false;

  constructor(private readonly options: EmbeddedBusOptions) {}

  publishLogs(entries: LogEntry[]): Promise<PublishResult> {
    return this.enqueue({ logs: entries });
  }

  publishSamples(samples: Sample[]): Promise<PublishResult> {
    return this.enqueue({ samples });
  }

  publishMetadata(metadata: MetricMetadata[]): Promise<PublishResult> {
    return this.enqueue({ metadata });
  }

  ready(): boolean {
    return !this.closed && this.options.ready();
  }

  async close(): Promise<void> {
    this.flush();
    this.closed = true;
  }

  private enqueue(delivery: Delivery): Promise<PublishResult> {
    if (this.closed) return Promise.reject(new BusUnavailableError('shutting down'));
    return new Promise((resolve, reject) => {
      this.pending.push({ ...delivery, resolve, reject });
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
    let accepted: number[];
    try {
      accepted = this.options.deliver(batch.map(({ logs, samples, metadata }) => ({ logs, samples, metadata })));
    } catch (error) {
      const unavailable = new BusUnavailableError(`storage write failed: ${(error as Error).message}`);
      for (const p of batch) p.reject(unavailable);
      return;
    }
    batch.forEach((p, i) => p.resolve({ accepted: accepted[i] ?? 0 }));
  }
}
