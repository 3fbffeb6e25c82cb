/**
 * The ingestion HTTP API: POST /api/v1/logs and /api/v1/metrics (docs/architecture.md §2). A request is
 * all-or-nothing: every record is validated before anything is published, and the 2xx is
 * sent only after the bus reported the batch durable.
 */
import express, { type Request, type Response } from 'express';
import type { Logger } from '../common/log.js';
import { ThrottledLog } from '../common/throttled-log.js';
import type { RuntimeMetrics } from '../common/metrics.js';
import { HttpError, sendError } from '../common/http-error.js';
import { BusUnavailableError, type Bus } from '../bus/bus.js';
import type { Limits } from '../model/limits.js';
import { normaliseLogEntries, normaliseSamples, type Normalised } from '../model/records.js';
import type { Signal } from '../model/types.js';
import { type ApiKeys, requireApiKey } from './auth.js';
import { readIngestBody } from './body.js';
import { perKeyRateLimit, type RateLimitConfig } from './rate-limit.js';

export interface IngestionOptions {
  bus: Bus;
  keys: ApiKeys;
  limits: Limits;
  rateLimit: RateLimitConfig;
  /** Largest accepted body, compressed and decompressed. */
  maxBodyBytes: number;
  metrics: RuntimeMetrics;
  log: Logger;
}

export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;

interface Context extends IngestionOptions {
  rejectLog: ThrottledLog;
}

export function ingestionRouter(config: IngestionOptions): express.Router {
  const options: Context = { ...config, rejectLog: new ThrottledLog(60_000) };
  const { metrics } = options;
  const router = express.Router();
  const signalOf = (req: Request): Signal => (req.path.endsWith('/metrics') ? 'metrics' : 'logs');
  const rejected = (req: Request, reason: string) => metrics.requestsRejected.inc({ signal: signalOf(req), reason });
  const guard = [requireApiKey(options.keys, rejected), perKeyRateLimit(options.rateLimit, (req) => rejected(req, 'rate_limited'))];
  router.post('/api/v1/logs', ...guard, (req, res) =>
    ingest(
      req,
      res,
      options,
      'logs',
      'entries',
      (items, pathOf) => normaliseLogEntries(items, pathOf, options.limits),
      (records) => options.bus.publishLogs(records),
    ),
  );
  router.post('/api/v1/metrics', ...guard, (req, res) =>
    ingest(
      req,
      res,
      options,
      'metrics',
      'samples',
      (items, pathOf) => normaliseSamples(items, pathOf, options.limits),
      (records) => options.bus.publishSamples(records),
    ),
  );
  return router;
}

async function ingest<A>(
  req: Request,
  res: Response,
  options: Context,
  signal: Signal,
  key: string,
  normalise: (items: unknown[], pathOf: (i: number) => string) => Normalised<A>,
  publish: (records: A[]) => Promise<{ accepted: number }>,
): Promise<void> {
  const { metrics, log } = options;
  let received = 0;
  try {
    const body = await readIngestBody(req, key, options.maxBodyBytes);
    metrics.ingestBytes.inc({ signal }, body.bytes);
    received = body.items.length;
    const result = normalise(body.items, body.pathOf);
    if (!result.ok) {
      const more = result.total - result.errors.length;
      const summary = result.errors.slice(0, 3).join('; ') + (result.total > 3 ? ` (and ${result.total - 3} more problems)` : '');
      throw new HttpError(400, 'invalid', summary, more > 0 ? [...result.errors, `... and ${more} more`] : result.errors);
    }
    const published = await publish(result.records);
    metrics.eventsAccepted.inc({ signal }, result.records.length);
    res.status(200).json({ accepted: result.records.length, stored: published.accepted });
  } catch (error) {
    const failure = toHttpError(error);
    metrics.requestsRejected.inc({ signal, reason: failure.reason });
    if (received > 0) metrics.eventsRejected.inc({ signal, reason: failure.reason }, received);
    if (failure.status >= 500) log.warn({ err: error, signal, keyId: res.locals.keyId }, 'ingestion request failed');
    else {
      // Explained in the log, at most once a minute per reason and key, with the count since.
      options.rejectLog.record(`${signal}/${failure.reason}/${res.locals.keyId}`, 1, (count) =>
        log.info(
          { signal, keyId: res.locals.keyId, status: failure.status, reason: failure.reason, error: failure.message, count },
          'ingestion request rejected; nothing of it was stored',
        ),
      );
    }
    if (failure.status === 413) res.setHeader('Connection', 'close');
    sendError(res, failure);
  }
}

function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof BusUnavailableError) {
    return new HttpError(503, 'unavailable', `${error.message}; retry later`, undefined, error.retryAfterSeconds);
  }
  return new HttpError(500, 'internal', `internal error: ${(error as Error).message}`);
}
