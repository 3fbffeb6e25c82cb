/**
 * Retention for the embedded store: entries and samples older than the configured age are
 * deleted by a periodic sweep, in bounded chunks so ingestion is never blocked for long.
 * Every deletion is counted (sextant_retention_deleted_total) and logged.
 */
import type { Logger } from '../../common/log.js';
import type { RuntimeMetrics } from '../../common/metrics.js';
import type { SqliteStore } from './store.js';

export interface RetentionConfig {
  /** Maximum age of log entries in ms; 0 keeps them forever. */
  logsMs: number;
  /** Maximum age of samples in ms; 0 keeps them forever. */
  metricsMs: number;
  /** How often the sweep runs. */
  intervalMs: number;
}

export class RetentionSweeper {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: SqliteStore,
    private readonly config: RetentionConfig,
    private readonly metrics: RuntimeMetrics,
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.config.logsMs <= 0 && this.config.metricsMs <= 0) return;
    this.timer = setInterval(() => this.sweep(), this.config.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** One pass; returns what it deleted. */
  sweep(now = Date.now()): { logs: number; samples: number } {
    try {
      const logs = this.config.logsMs > 0 ? this.store.deleteLogsBefore(BigInt(now - this.config.logsMs) * 1_000_000n) : 0;
      const samples = this.config.metricsMs > 0 ? this.store.deleteSamplesBefore(now - this.config.metricsMs) : 0;
      // The same labels as the distributed tiers' (common/metrics.ts): one panel for both modes.
      if (logs > 0) this.metrics.retentionDeleted.inc({ tier: 'embedded', signal: 'logs', kind: 'records' }, logs);
      if (samples > 0) this.metrics.retentionDeleted.inc({ tier: 'embedded', signal: 'metrics', kind: 'records' }, samples);
      if (logs > 0 || samples > 0) this.log.info({ logs, samples }, 'retention: deleted expired records');
      return { logs, samples };
    } catch (error) {
      this.log.error({ err: error }, 'retention sweep failed; will retry at the next interval');
      return { logs: 0, samples: 0 };
    }
  }
}
