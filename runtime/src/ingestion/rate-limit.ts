/**
 * Per-API-key request rate limiting with express-rate-limit: 429 with Retry-After and the
 * standard RateLimit headers (IETF draft 8). `burst` requests are allowed per window of
 * burst/requestsPerSecond seconds, so the long-run rate is requestsPerSecond.
 */
import type { Request, Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import * as t from 'io-ts';
import { HttpError, sendError } from '../common/http-error.js';

export const RateLimitConfig = t.type({ requestsPerSecond: t.number, burst: t.number }, 'RateLimitConfig');
export type RateLimitConfig = t.TypeOf<typeof RateLimitConfig>;

export const defaultRateLimit: RateLimitConfig = { requestsPerSecond: 200, burst: 400 };

export function perKeyRateLimit(config: RateLimitConfig, onReject?: (req: Request) => void) {
  const windowMs = Math.max(1, Math.round((config.burst / config.requestsPerSecond) * 1000));
  return rateLimit({
    windowMs,
    limit: config.burst,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    identifier: 'ingest',
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
