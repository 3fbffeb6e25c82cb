/**
 * Runs one controller: N workers take keys from its queue and call reconcile (docs/architecture.md §6).
 * A reconcile that throws, or returns `retry`, is requeued with the key's exponential
 * backoff; a success forgets the backoff and may schedule a requeue. A failing key never
 * blocks the others: each worker takes the next key.
 */
import type { Logger } from '../../../runtime/src/common/index.js';
import type { OperatorMetrics } from '../metrics.js';
import { describeApiError } from './client.js';
import type { WorkQueue } from './queue.js';

export interface ReconcileResult {
  /** Reconcile again after this delay even without an event (e.g. to poll rollout progress). */
  requeueAfterMs?: number;
  /** The object is degraded for a reason that may heal by itself (Kafka down): retry with backoff. */
  retry?: { reason: string; message: string };
}

export type Reconciler = (key: string) => Promise<ReconcileResult | void>;

/** An error with a reason for the errors metric (e.g. ApiError, Conflict). */
export class ReconcileError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export class Controller {
  private loops: Promise<void>[] = [];

  constructor(
    readonly kind: string,
    readonly queue: WorkQueue,
    private readonly reconcile: Reconciler,
    private readonly metrics: OperatorMetrics,
    private readonly log: Logger,
  ) {
    metrics.trackQueue(kind, queue);
  }

  start(workers: number): void {
    for (let i = 0; i < workers; i++) this.loops.push(this.work());
  }

  /** Stops taking keys and waits for the reconciles in flight. */
  async stop(): Promise<void> {
    this.queue.shutDown();
    await this.queue.drain();
    await Promise.all(this.loops);
    this.loops = [];
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      const stop = this.metrics.reconcileDuration.startTimer({ kind: this.kind });
      try {
        const result = (await this.reconcile(key)) ?? {};
        if (result.retry) {
          const delay = this.queue.addRateLimited(key);
          this.metrics.reconciles.inc({ kind: this.kind, result: 'error' });
          this.metrics.reconcileErrors.inc({ kind: this.kind, reason: result.retry.reason });
          this.log.info({ key, reason: result.retry.reason, retryInMs: delay }, `${this.kind} ${key}: ${result.retry.message}; retrying`);
        } else {
          this.queue.forget(key);
          this.metrics.reconciles.inc({ kind: this.kind, result: 'success' });
          if (result.requeueAfterMs !== undefined) this.queue.addAfter(key, result.requeueAfterMs);
        }
      } catch (error) {
        const reason = error instanceof ReconcileError ? error.reason : 'ApiError';
        const delay = this.queue.addRateLimited(key);
        this.metrics.reconciles.inc({ kind: this.kind, result: 'error' });
        this.metrics.reconcileErrors.inc({ kind: this.kind, reason });
        this.log.warn({ key, reason, error: describeApiError(error), retryInMs: delay }, `reconcile of ${this.kind} ${key} failed`);
      } finally {
        stop();
        this.queue.done(key);
      }
    }
  }
}
