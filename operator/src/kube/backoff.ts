/**
 * Per-key exponential backoff (client-go's ItemExponentialFailureRateLimiter): the n-th
 * consecutive failure of a key waits base·2^(n-1), capped; forget() resets the key after a
 * success so one bad object never slows down the next good reconcile of it.
 */
import { backoffDelay } from '../../../runtime/src/common/index.js';

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

export const defaultBackoff: BackoffOptions = { baseMs: 1_000, maxMs: 5 * 60_000 };

export class ItemBackoff {
  private failures = new Map<string, number>();

  constructor(private readonly options: BackoffOptions = defaultBackoff) {}

  /** Records one more failure of key and returns how long to wait before retrying it. */
  next(key: string): number {
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    // No jitter: client-go's item backoff is exact (the queue tests step a fake clock through it).
    return backoffDelay(n - 1, { initial: this.options.baseMs, max: this.options.maxMs, jitter: 0 });
  }

  failuresOf(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  forget(key: string): void {
    this.failures.delete(key);
  }
}
