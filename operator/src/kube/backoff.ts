/**
 * Per-key exponential backoff (client-go's ItemExponentialFailureRateLimiter): the n-th
 * consecutive failure of a key waits base·2^(n-1), capped; forget() resets the key after a
 * success so one bad object never slows down the next good reconcile of it.
 */
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
    // 2^n overflows to Infinity long after the cap; min() keeps the result finite.
    return Math.min(this.options.baseMs * 2 ** (n - 1), this.options.maxMs);
  }

  failuresOf(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  forget(key: string): void {
    this.failures.delete(key);
  }
}
