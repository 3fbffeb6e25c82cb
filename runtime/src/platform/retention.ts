/**
 * The retention loop of the distributed runtime: every `retention.interval` it runs the
 * hot-tier enforcer (OpenSearch indices) and the cold-tier enforcer (S3 lifecycle rule +
 * sweeper) for each signal the policy names. The processor runs it: it already holds the
 * sink clients and credentials. Only the elected replica runs passes (retention-election.ts:
 * the holder of partition 0 of the first topic in its consumer group), so N replicas do not
 * race each other's deletes nor count the same keys N times; the role moves with the
 * partition (see setRunner for the hand-over). Passes never overlap; a pass stops before its
 * next deletion when the role is lost; a failed operation is counted, logged and retried at
 * the next pass.
 *
 * Metrics: one counter for everything deleted, told apart by tier, signal and kind (the same
 * labels as `sextant up`'s, common/metrics.ts), so
 * `sum by (signal) (rate(sextant_retention_deleted_total{kind="bytes"}[1h]))` answers "how
 * much does retention free" across tiers; `sextant_retention_runner` says which replica runs it.
 */
import client from 'prom-client';
import type { Logger } from '../common/log.js';
import type { Signal } from '../model/types.js';
import type { Client } from '@opensearch-project/opensearch';
import type { S3Client } from '@aws-sdk/client-s3';
import { indexAdmin, OpenSearchRetention } from '../storage/opensearch/retention.js';
import { bucketAdmin, S3Retention } from '../storage/s3/retention.js';
import { createRetentionMetrics, type RetentionMetrics } from '../storage/retention-metrics.js';
import type { RetentionSettings, RuntimeConfig } from './runtime-config.js';

const SIGNALS: Signal[] = ['logs', 'metrics'];

export interface RetentionLoopOptions {
  retention: RetentionSettings;
  /** Absent when the pipeline has no OpenSearch sink. */
  hot?: OpenSearchRetention;
  /** Absent when the pipeline has no S3 sink. */
  cold?: S3Retention;
  metrics: RetentionMetrics;
  log: Logger;
  /**
   * Whether this replica starts as the runner (default true: a caller without an election,
   * like the tests, is the only one). The processor starts false and calls setRunner.
   */
  elected?: boolean;
  /** How long a replica that was just elected waits before its first pass; default min(interval, 5 s). */
  handOverMs?: number;
}

export interface PassSummary {
  hot: { indices: number; documents: number; bytes: number; errors: number };
  cold: { objects: number; indexObjects: number; bytes: number; uploads: number; errors: number };
}

export class RetentionLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<PassSummary> | undefined;
  private started = false;
  private stopped = false;
  private elected: boolean;
  /** When this replica last started a pass (0: never). */
  private lastPassAt = 0;
  /** When setRunner last elected this replica (0: never, or elected from the start). */
  private electedAt = 0;
  private readonly handOverMs: number;

  constructor(private readonly options: RetentionLoopOptions) {
    this.elected = options.elected ?? true;
    this.handOverMs = options.handOverMs ?? Math.min(options.retention.interval, 5_000);
    options.metrics.runner(this.elected);
  }

  /** Whether this replica runs the passes. */
  get runner(): boolean {
    return this.elected;
  }

  /** True when the policy asks a configured tier to delete anything (or to remove a lifecycle rule). */
  get active(): boolean {
    const { retention, hot, cold } = this.options;
    return SIGNALS.some((s) => (hot !== undefined && (retention[s]?.hot ?? 0) > 0) || cold !== undefined);
  }

  start(): void {
    const { retention, hot, cold, log } = this.options;
    for (const signal of SIGNALS) {
      const policy = retention[signal];
      if ((policy?.hot ?? 0) > 0 && hot === undefined)
        log.warn({ signal }, 'retention: hot retention is set but there is no OpenSearch sink');
      if ((policy?.cold ?? 0) > 0 && cold === undefined) log.warn({ signal }, 'retention: cold retention is set but there is no S3 sink');
    }
    if (!this.active) return;
    log.info(
      {
        intervalMs: retention.interval,
        logs: retention.logs,
        metrics: retention.metrics,
        tiers: [...(hot ? ['hot'] : []), ...(cold ? ['cold'] : [])],
      },
      'retention: enforcing',
    );
    this.started = true;
    this.scheduleNext();
  }

  /**
   * The election's verdict (retention-election.ts); a change is logged and exported. The old
   * runner runs no further pass, and one in flight stops before its next deletion (it learns
   * of the rebalance before the new runner is assigned). The new runner waits `handOverMs`,
   * so a deletion the old one had already sent has landed before it lists, then keeps the
   * cadence of its own last pass.
   */
  setRunner(elected: boolean, reason: string): void {
    if (elected === this.elected) return;
    this.elected = elected;
    this.options.metrics.runner(elected);
    const line = elected
      ? 'retention: this replica is now the retention runner'
      : 'retention: this replica is no longer the retention runner';
    // Without a policy the role changes nothing: not worth an info line per rebalance.
    if (this.active) this.options.log.info({ runner: elected, reason }, line);
    else this.options.log.debug({ runner: elected, reason }, line);
    if (elected) this.electedAt = Date.now();
    if (!elected) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
    } else if (this.started && this.running === undefined) {
      this.scheduleNext();
    }
  }

  private scheduleNext(): void {
    const now = Date.now();
    const cadence = this.lastPassAt === 0 ? 0 : this.lastPassAt + this.options.retention.interval - now;
    const handOver = this.electedAt === 0 ? 0 : this.electedAt + this.handOverMs - now;
    this.schedule(Math.max(0, cadence, handOver));
  }

  /** Stops the timer and waits for a pass in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One pass over both tiers (also what the timer runs). */
  runOnce(now = Date.now()): Promise<PassSummary> {
    this.running ??= this.pass(now).finally(() => (this.running = undefined));
    return this.running;
  }

  private schedule(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.stopped || !this.elected) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.runOnce().finally(() => this.scheduleNext());
    }, delayMs);
    this.timer.unref();
  }

  private async pass(now: number): Promise<PassSummary> {
    const { retention, hot, cold, metrics, log } = this.options;
    const summary: PassSummary = {
      hot: { indices: 0, documents: 0, bytes: 0, errors: 0 },
      cold: { objects: 0, indexObjects: 0, bytes: 0, uploads: 0, errors: 0 },
    };
    this.lastPassAt = Date.now();
    // Another replica may hold the role now: stop before touching the next signal (the
    // enforcers also ask before each deletion).
    const lost = (): boolean => {
      if (this.elected) return false;
      log.info('retention: pass stopped early, this replica is no longer the runner');
      return true;
    };
    try {
      if (hot) {
        for (const signal of SIGNALS) {
          if (lost()) return summary;
          const r = await hot.enforce(signal, retention[signal]?.hot ?? 0, now, () => this.elected);
          for (const k of ['indices', 'documents', 'bytes', 'errors'] as const) summary.hot[k] += r[k];
        }
        if (summary.hot.errors === 0) metrics.passCompleted('hot', Date.now());
      }
      if (cold) {
        for (const signal of SIGNALS) {
          if (lost()) return summary;
          const coldMs = retention[signal]?.cold ?? 0;
          await cold.reconcileLifecycle(signal, coldMs);
          const r = await cold.sweep(signal, coldMs, now, () => this.elected);
          for (const k of ['objects', 'indexObjects', 'bytes', 'uploads', 'errors'] as const) summary.cold[k] += r[k];
        }
        if (summary.cold.errors === 0) metrics.passCompleted('cold', Date.now());
      }
    } catch (error) {
      // The enforcers catch their own failures; this is a bug guard so the loop keeps running.
      metrics.error(hot ? 'hot' : 'cold', 'all', 'pass');
      log.error({ err: error }, 'retention: pass failed; retrying at the next interval');
    }
    log.debug({ summary }, 'retention: pass done');
    return summary;
  }
}

/** The processor's retention loop over the sinks it has clients for. */
export function createRetentionLoop(
  config: Pick<RuntimeConfig, 'retention' | 'pipeline' | 'sinks'>,
  clients: { opensearch?: Client; s3?: S3Client },
  registry: client.Registry,
  log: Logger,
  elected = true,
): RetentionLoop {
  const metrics = createRetentionMetrics(registry);
  const retentionLog = log.child({ component: 'retention' });
  const { opensearch, s3 } = config.sinks;
  return new RetentionLoop({
    retention: config.retention,
    hot:
      opensearch && clients.opensearch
        ? new OpenSearchRetention(indexAdmin(clients.opensearch), opensearch.indexPrefix, metrics, retentionLog)
        : undefined,
    cold:
      s3 && clients.s3
        ? new S3Retention(
            bucketAdmin(clients.s3, s3.bucket),
            { prefix: s3.prefix, namespace: config.pipeline.namespace, pipeline: config.pipeline.name },
            metrics,
            retentionLog,
          )
        : undefined,
    metrics,
    log: retentionLog,
    elected,
  });
}
