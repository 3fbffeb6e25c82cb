/**
 * The retention loop of the distributed runtime: every `retention.interval` it runs the
 * hot-tier enforcer (OpenSearch indices) and the cold-tier enforcer (S3 lifecycle rule +
 * sweeper) for each signal the policy names. The processor runs it: it already holds the
 * sink clients and credentials, and the enforcers are idempotent, so several replicas are
 * harmless (the first pass waits a random part of the interval to spread them out).
 * Passes never overlap; a failed operation is counted, logged and retried at the next pass.
 *
 * Metrics: one counter for everything deleted, told apart by tier, signal and kind, so
 * `sum by (signal) (rate(sextant_retention_deleted_total{kind="bytes"}[1h]))` answers "how
 * much does retention free" across tiers.
 */
import client from 'prom-client';
import type { Logger } from '../common/log.js';
import type { Signal } from '../model/types.js';
import type { Client } from '@opensearch-project/opensearch';
import type { S3Client } from '@aws-sdk/client-s3';
import { indexAdmin, OpenSearchRetention } from '../storage/opensearch/retention.js';
import { bucketAdmin, S3Retention } from '../storage/s3/retention.js';
import type { RetentionSettings, RuntimeConfig } from './runtime-config.js';

export type RetentionTier = 'hot' | 'cold';
/** indices/documents: hot tier; objects (data), index_objects (sidecars), uploads (aborted multipart): cold tier; bytes: both. */
export type DeletedKind = 'indices' | 'documents' | 'objects' | 'index_objects' | 'uploads' | 'bytes';

export interface RetentionMetrics {
  deleted(tier: RetentionTier, signal: Signal, kind: DeletedKind, n: number): void;
  error(tier: RetentionTier, signal: Signal | 'all', operation: string): void;
  passCompleted(tier: RetentionTier, atMs: number): void;
}

const DELETED = 'sextant_retention_deleted_total';

export function createRetentionMetrics(registry: client.Registry): RetentionMetrics {
  // RuntimeMetrics declares this name with only a `signal` label for the embedded store's
  // record counts. The distributed processor never runs that sweeper, so its registry gets
  // the tier/kind-labelled counter in its place (one name, two label sets, is not allowed).
  if (registry.getSingleMetric(DELETED)) registry.removeSingleMetric(DELETED);
  const deleted = new client.Counter({
    name: DELETED,
    help: 'What retention deleted because it was older than the policy: by tier (hot = OpenSearch, cold = S3), signal and kind (indices, documents, objects, index_objects, uploads, bytes).',
    labelNames: ['tier', 'signal', 'kind'] as const,
    registers: [registry],
  });
  const errors = new client.Counter({
    name: 'sextant_retention_errors_total',
    help: 'Failed retention operations (listing, deleting, lifecycle configuration), by tier, signal and operation; retried at the next pass.',
    labelNames: ['tier', 'signal', 'operation'] as const,
    registers: [registry],
  });
  const lastPass = new client.Gauge({
    name: 'sextant_retention_last_pass_timestamp_seconds',
    help: 'When a retention pass over a tier last completed without errors (alert when it is old).',
    labelNames: ['tier'] as const,
    registers: [registry],
  });
  return {
    deleted: (tier, signal, kind, n) => {
      if (n > 0) deleted.inc({ tier, signal, kind }, n);
    },
    error: (tier, signal, operation) => errors.inc({ tier, signal, operation }),
    passCompleted: (tier, atMs) => lastPass.set({ tier }, atMs / 1000),
  };
}

const SIGNALS: Signal[] = ['logs', 'metrics'];

export interface RetentionLoopOptions {
  retention: RetentionSettings;
  /** Absent when the pipeline has no OpenSearch sink. */
  hot?: OpenSearchRetention;
  /** Absent when the pipeline has no S3 sink. */
  cold?: S3Retention;
  metrics: RetentionMetrics;
  log: Logger;
  /** Delay of the first pass; default a random part of min(interval, 60 s). */
  firstDelayMs?: number;
}

export interface PassSummary {
  hot: { indices: number; documents: number; bytes: number; errors: number };
  cold: { objects: number; indexObjects: number; bytes: number; uploads: number; errors: number };
}

export class RetentionLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<PassSummary> | undefined;
  private stopped = false;

  constructor(private readonly options: RetentionLoopOptions) {}

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
    const first = this.options.firstDelayMs ?? Math.floor(Math.random() * Math.min(retention.interval, 60_000));
    this.schedule(first);
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
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.runOnce().finally(() => this.schedule(this.options.retention.interval));
    }, delayMs);
    this.timer.unref();
  }

  private async pass(now: number): Promise<PassSummary> {
    const { retention, hot, cold, metrics, log } = this.options;
    const summary: PassSummary = {
      hot: { indices: 0, documents: 0, bytes: 0, errors: 0 },
      cold: { objects: 0, indexObjects: 0, bytes: 0, uploads: 0, errors: 0 },
    };
    try {
      if (hot) {
        for (const signal of SIGNALS) {
          const r = await hot.enforce(signal, retention[signal]?.hot ?? 0, now);
          for (const k of ['indices', 'documents', 'bytes', 'errors'] as const) summary.hot[k] += r[k];
        }
        if (summary.hot.errors === 0) metrics.passCompleted('hot', Date.now());
      }
      if (cold) {
        for (const signal of SIGNALS) {
          const coldMs = retention[signal]?.cold ?? 0;
          await cold.reconcileLifecycle(signal, coldMs);
          const r = await cold.sweep(signal, coldMs, now);
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
  });
}
