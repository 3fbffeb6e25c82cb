/**
 * Per-API-key request rate limiting with express-rate-limit: 429 with Retry-After and the
 * standard RateLimit headers (IETF draft 8). `burst` requests are allowed per window of
 * burst/requestsPerSecond seconds, so the long-run rate is requestsPerSecond.
 *
 * The windows are kept by our own small store so that its clock can be injected: a test
 * freezes time instead of racing a wall-clock window on a loaded machine.
 */
import type { Request, Response } from 'express';
import { rateLimit, type ClientRateLimitInfo, type Options, type Store } from 'express-rate-limit';
import * as t from 'io-ts';
import { HttpError, sendError } from '../common/http-error.js';

export const RateLimitConfig = t.type({ requestsPerSecond: t.number, burst: t.number }, 'RateLimitConfig');
export type RateLimitConfig = t.TypeOf<typeof RateLimitConfig>;

export const defaultRateLimit: RateLimitConfig = { requestsPerSecond: 200, burst: 400 };

/** Milliseconds since the epoch; `Date.now` outside tests. */
export type Clock = () => number;

export function perKeyRateLimit(config: RateLimitConfig, onReject?: (req: Request) => void, clock: Clock = Date.now) {
  const windowMs = Math.max(1, Math.round((config.burst / config.requestsPerSecond) * 1000));
  return rateLimit({
    windowMs,
    limit: config.burst,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    identifier: 'ingest',
    store: new FixedWindowStore(clock),
    // Authentication runs first, so every request here has a key id.
    keyGenerator: (_req: Request, res: Response) => String(res.locals.keyId),
    handler: (req: Request, res: Response) => {
      onReject?.(req);
      const retryAfter = Number(res.getHeader('Retry-After') ?? Math.ceil(windowMs / 1000));
      sendError(
        res,
        new HttpError(
          429,
          'rate_limited',
          `rate limit of ${config.requestsPerSecond} requests/s (burst ${config.burst}) exceeded for this API key; retry after ${retryAfter}s`,
          undefined,
          retryAfter,
        ),
      );
    },
  });
}

interface Window {
  hits: number;
  startMs: number;
}

/**
 * One fixed window per key, timed by `clock`. express-rate-limit derives its headers from
 * `resetTime` against the real clock, so the reset is handed over as "now + what is left of
 * the window on our clock".
 */
export class FixedWindowStore implements Store {
  readonly localKeys = true;
  private windowMs = 1000;
  private readonly windows = new Map<string, Window>();

  constructor(private readonly clock: Clock = Date.now) {}

  init(options: Options): void {
    this.windowMs = options.windowMs;
  }

  get(key: string): ClientRateLimitInfo | undefined {
    const now = this.clock();
    const window = this.current(key, now);
    return window && { totalHits: window.hits, resetTime: this.resetTime(window, now) };
  }

  increment(key: string): ClientRateLimitInfo {
    const now = this.clock();
    let window = this.current(key, now);
    if (!window) {
      this.sweep(now);
      window = { hits: 0, startMs: now };
      this.windows.set(key, window);
    }
    window.hits++;
    return { totalHits: window.hits, resetTime: this.resetTime(window, now) };
  }

  decrement(key: string): void {
    const window = this.current(key, this.clock());
    if (window && window.hits > 0) window.hits--;
  }

  resetKey(key: string): void {
    this.windows.delete(key);
  }

  resetAll(): void {
    this.windows.clear();
  }

  private current(key: string, now: number): Window | undefined {
    const window = this.windows.get(key);
    return window && now - window.startMs < this.windowMs ? window : undefined;
  }

  private resetTime(window: Window, now: number): Date {
    return new Date(Date.now() + Math.max(0, window.startMs + this.windowMs - now));
  }

  /** Forgets expired windows when a new one opens, so the map holds only live keys. */
  private sweep(now: number): void {
    for (const [key, window] of this.windows) if (now - window.startMs >= this.windowMs) this.windows.delete(key);
  }
}
