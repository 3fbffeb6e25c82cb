/**
 * Backoff and retry, written once for every retry loop in Sextant (sink writes, DLQ sends,
 * flushes, Kafka at start, the agent's shipping and watches, the operator's work queue):
 * exponential from `initial`, capped at `max`, with a random part so that many replicas
 * failing together do not retry in lockstep (docs/architecture.md §4).
 */

export interface BackoffPolicy {
  /** The first delay, in milliseconds. */
  initial: number;
  /** The cap: no delay is longer, in milliseconds. */
  max: number;
  /**
   * The random share of each delay: 0 none (client-go's item backoff), 1 "full jitter"
   * (uniform in [0, delay), the agent's shipper). Default DEFAULT_JITTER.
   */
  jitter?: number;
}

/** Delays vary in [80 %, 100 %] of the exponential value by default. */
export const DEFAULT_JITTER = 0.2;

/** The delay before retry number `attempt` (0-based): min(max, initial·2^attempt), less up to `jitter` of it at random. */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  // 2^attempt overflows to Infinity long after the cap; the exponent bound keeps it finite.
  const cap = Math.min(policy.max, policy.initial * 2 ** Math.min(attempt, 30));
  const jitter = policy.jitter ?? DEFAULT_JITTER;
  return Math.floor(cap * (1 - jitter + jitter * random()));
}

/** The state of one retry loop: next() gives the coming delay and counts the failure, reset() starts over. */
export class Backoff {
  private attempt = 0;

  constructor(
    readonly policy: BackoffPolicy,
    private readonly random: () => number = Math.random,
  ) {}

  next(): number {
    return backoffDelay(this.attempt++, this.policy, this.random);
  }

  reset(): void {
    this.attempt = 0;
  }

  /** Failures since the last reset. */
  get failures(): number {
    return this.attempt;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface RetryOptions {
  policy: BackoffPolicy;
  /** Called after each failure, before the wait. */
  onError?: (error: unknown, delayMs: number) => void;
  /** An error for which this returns false is rethrown at once. Default: every error is retried. */
  retryable?: (error: unknown) => boolean;
  /** The wait between attempts (default sleep()): e.g. one that heartbeats or ends early on stop. */
  wait?: (ms: number) => Promise<void>;
}

/** Runs fn until it succeeds (or throws what is not retryable), backing off between attempts. */
export async function retry<T>(fn: () => Promise<T>, options: RetryOptions): Promise<T> {
  const result = await retryWhile(() => true, fn, options);
  return (result as { value: T }).value;
}

/**
 * Like retry(), while running() holds: checked before each attempt, so a stopping component
 * leaves the loop. Resolves `{value}` on success, undefined when it stopped first.
 */
export async function retryWhile<T>(
  running: () => boolean,
  fn: () => Promise<T>,
  options: RetryOptions,
): Promise<{ value: T } | undefined> {
  const backoff = new Backoff(options.policy);
  const wait = options.wait ?? sleep;
  for (;;) {
    if (!running()) return undefined;
    try {
      return { value: await fn() };
    } catch (error) {
      if (options.retryable && !options.retryable(error)) throw error;
      const delay = backoff.next();
      options.onError?.(error, delay);
      await wait(delay);
    }
  }
}
