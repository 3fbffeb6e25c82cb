/**
 * What the retention enforcers of every tier report: one counter for everything deleted, told
 * apart by tier, signal and kind (the same labels as `sextant up`'s, common/metrics.ts).
 */
import client from 'prom-client';
import { retentionDeletedCounter } from '../common/metrics.js';
import type { Signal } from '../model/types.js';

export type RetentionTier = 'hot' | 'cold';
/** indices/records (documents): hot tier; objects (data), index_objects (sidecars), uploads (aborted multipart): cold tier; bytes: both. */
export type DeletedKind = 'indices' | 'records' | 'objects' | 'index_objects' | 'uploads' | 'bytes';

export interface RetentionMetrics {
  deleted(tier: RetentionTier, signal: Signal, kind: DeletedKind, n: number): void;
  error(tier: RetentionTier, signal: Signal | 'all', operation: string): void;
  passCompleted(tier: RetentionTier, atMs: number): void;
  /** Whether this replica is the elected retention runner. */
  runner(elected: boolean): void;
}

export function createRetentionMetrics(registry: client.Registry): RetentionMetrics {
  // The counter RuntimeMetrics registered (or a new one in a bare registry): same labels.
  const deleted = retentionDeletedCounter(registry);
  const errors = new client.Counter({
    name: 'sextant_retention_errors_total',
    help: 'Failed retention operations (listing, deleting, lifecycle configuration), by tier, signal and operation; retried at the next pass.',
    labelNames: ['tier', 'signal', 'operation'] as const,
    registers: [registry],
  });
  const lastPass = new client.Gauge({
    name: 'sextant_retention_last_pass_timestamp_seconds',
    help: 'When a retention pass over a tier last completed without errors; only the runner sets it, so alert when the max over the replicas is old.',
    labelNames: ['tier'] as const,
    registers: [registry],
  });
  const runner = new client.Gauge({
    name: 'sextant_retention_runner',
    help: '1 while this processor replica is the elected retention runner (it holds partition 0 of the first topic in its consumer group), else 0; exactly one replica of a pipeline should say 1.',
    registers: [registry],
  });
  runner.set(0);
  return {
    deleted: (tier, signal, kind, n) => {
      if (n > 0) deleted.inc({ tier, signal, kind }, n);
    },
    error: (tier, signal, operation) => errors.inc({ tier, signal, operation }),
    passCompleted: (tier, atMs) => lastPass.set({ tier }, atMs / 1000),
    runner: (elected) => runner.set(elected ? 1 : 0),
  };
}
