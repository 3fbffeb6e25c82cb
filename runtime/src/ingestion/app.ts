/**
 * The ingestion HTTP API (docs/architecture.md §2): the routes of every receiver in receivers/index.ts,
 * each behind the same request path. A request is all-or-nothing: every record is
 * validated before anything is published, and the 2xx is sent only after the bus reported
 * the batch durable.
 */
import express, { type Request, type Response } from 'express';
import type { Counter } from 'prom-client';
import client from 'prom-client';
import type { Logger } from '../common/log.js';
import { ThrottledLog } from '../common/throttled-log.js';
import type { RuntimeMetrics } from '../common/metrics.js';
import { HttpError, sendError } from '../common/http-error.js';
import { BusUnavailableError, type Bus } from '../bus/bus.js';
import type { Limits } from '../model/limits.js';
import { nowNs } from '../model/timestamp.js';
import type { Signal } from '../model/types.js';
import { type ApiKeys, requireApiKey } from './auth.js';
import { readBody } from './body.js';
import { DEFAULT_LOG_DISCOVERY, LogDiscovery, type LogDiscoveryConfig } from './log-discovery.js';
import { perKeyRateLimit, type Clock, type RateLimitConfig } from './rate-limit.js';
import { RecentMetadata } from './recent-metadata.js';
import { RECEIVERS } from './receivers/index.js';
import type { AnyRoute, ContentType, Decoded, Receiver, RecordOf, Route } from './receivers/receiver.js';

export interface IngestionOptions {
  bus: Bus;
  keys: ApiKeys;
  limits: Limits;
  rateLimit: RateLimitConfig;
  /** Largest accepted body, compressed and decompressed. */
  maxBodyBytes: number;
  metrics: RuntimeMetrics;
  log: Logger;
  /** The rate limiter's clock (tests freeze it); Date.now otherwise. */
  clock?: Clock;
  /** The receivers to serve; all of receivers/index.ts by default. */
  receivers?: readonly Receiver[];
  /** service_name and detected_level discovery for logs; Loki 3's defaults (on) when absent. */
  discovery?: LogDiscoveryConfig;
}

export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;

interface Context extends IngestionOptions {
  logDiscovery: LogDiscovery;
  rejectLog: ThrottledLog;
  dropped: Counter<'receiver' | 'kind'>;
  recentMetadata: RecentMetadata;
}

export function ingestionRouter(config: IngestionOptions): express.Router {
  const options: Context = {
    ...config,
    logDiscovery: new LogDiscovery(config.discovery ?? DEFAULT_LOG_DISCOVERY),
    rejectLog: new ThrottledLog(60_000),
    dropped: droppedCounter(config.metrics),
    recentMetadata: new RecentMetadata(),
  };
  const { metrics } = options;
  const router = express.Router();
  const routes = new Map<string, AnyRoute>();
  const signalOf = (req: Request): Signal => routes.get(req.path)?.signal ?? 'logs';
  const rejected = (req: Request, reason: string) => metrics.requestsRejected.inc({ signal: signalOf(req), reason });
  const guard = [
    requireApiKey(options.keys, rejected),
    perKeyRateLimit(options.rateLimit, (req) => rejected(req, 'rate_limited'), options.clock),
  ];
  for (const receiver of options.receivers ?? RECEIVERS) {
    for (const route of receiver.routes) {
      if (routes.has(route.path)) throw new Error(`ingestion route ${route.path} is declared twice (receiver ${receiver.name})`);
      routes.set(route.path, route);
      router.post(route.path, ...guard, (req, res) => ingest(req, res, options, receiver.name, route as Route<Signal>));
    }
  }
  return router;
}

const PUBLISH: { [S in Signal]: (bus: Bus, records: RecordOf<S>[]) => Promise<{ accepted: number }> } = {
  logs: (bus, records) => bus.publishLogs(records),
  metrics: (bus, records) => bus.publishSamples(records),
};

async function ingest<S extends Signal>(req: Request, res: Response, options: Context, receiver: string, route: Route<S>): Promise<void> {
  const { metrics, log } = options;
  const signal = route.signal;
  let received = 0;
  try {
    const contentType = parseContentType(req.headers['content-type']);
    const format = route.formats.find((f) => f.matches(contentType));
    if (!format) {
      throw new HttpError(
        415,
        'unsupported_media_type',
        `unsupported Content-Type "${contentType.type || '(none)'}": send ${route.formatHint ?? route.formats.map((f) => f.name).join(' or ')}`,
      );
    }
    const body = await readBody(
      req,
      options.maxBodyBytes,
      format.encodings ?? route.encodings,
      format.defaultEncoding ?? route.defaultEncoding,
    );
    metrics.ingestBytes.inc({ signal }, body.length);
    const decoded: Decoded<S> = format.decode(body, { limits: options.limits, nowNs: nowNs(), discovery: options.logDiscovery });
    received = decoded.received;
    const { result } = decoded;
    if (!result.ok) {
      const more = result.total - result.errors.length;
      const summary = result.errors.slice(0, 3).join('; ') + (result.total > 3 ? ` (and ${result.total - 3} more problems)` : '');
      throw new HttpError(400, 'invalid', summary, more > 0 ? [...result.errors, `... and ${more} more`] : result.errors);
    }
    const nowMs = Date.now();
    const metadata = options.recentMetadata.due(decoded.metadata ?? [], nowMs);
    const [published] = await Promise.all([
      PUBLISH[signal](options.bus, result.records),
      metadata.length > 0 ? options.bus.publishMetadata(metadata) : undefined,
    ]);
    options.recentMetadata.remember(metadata, nowMs);
    metrics.eventsAccepted.inc({ signal }, result.records.length);
    countDrops(options, receiver, decoded);
    route.accepted(res, { decoded, records: result.records.length, stored: published.accepted });
  } catch (error) {
    const failure = toHttpError(error);
    metrics.requestsRejected.inc({ signal, reason: failure.reason });
    if (received > 0) metrics.eventsRejected.inc({ signal, reason: failure.reason }, received);
    if (failure.status >= 500) log.warn({ err: error, signal, receiver, keyId: res.locals.keyId }, 'ingestion request failed');
    else {
      // Explained in the log, at most once a minute per reason and key, with the count since.
      options.rejectLog.record(`${receiver}/${signal}/${failure.reason}/${res.locals.keyId}`, 1, (count) =>
        log.info(
          { signal, receiver, keyId: res.locals.keyId, status: failure.status, reason: failure.reason, error: failure.message, count },
          'ingestion request rejected; nothing of it was stored',
        ),
      );
    }
    if (failure.status === 413) res.setHeader('Connection', 'close');
    route.failed?.(res, failure);
    (route.sendError ?? sendError)(res, failure);
  }
}

/** Counts what an accepted request carried that is not stored, and logs it (throttled). */
function countDrops<S extends Signal>(options: Context, receiver: string, decoded: Decoded<S>): void {
  for (const [kind, count] of Object.entries(decoded.dropped ?? {})) {
    if (!count) continue;
    options.dropped.inc({ receiver, kind }, count);
    options.rejectLog.record(`${receiver}/dropped/${kind}`, count, (total) =>
      options.log.info({ receiver, kind, count: total }, 'ingestion dropped parts that Sextant does not store'),
    );
  }
}

const DROPPED = 'sextant_ingest_dropped_total';

/** Get-or-create, so several routers on one registry (tests) share the counter. */
function droppedCounter(metrics: RuntimeMetrics): Counter<'receiver' | 'kind'> {
  const existing = metrics.registry.getSingleMetric(DROPPED);
  if (existing) return existing as Counter<'receiver' | 'kind'>;
  return new client.Counter({
    name: DROPPED,
    help: 'Parts of accepted ingestion requests that Sextant does not store, by receiver and kind (the reason: exemplars, histograms = native histograms, metadata, delta_temporality, unspecified_temporality, exponential_histograms, invalid_points, target_info).',
    labelNames: ['receiver', 'kind'] as const,
    registers: [metrics.registry],
  });
}

export function parseContentType(header: string | undefined): ContentType {
  const [type, ...rest] = (header ?? '').split(';');
  const params: Record<string, string> = {};
  for (const part of rest) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    params[part.slice(0, eq).trim().toLowerCase()] = part
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1');
  }
  return { type: type!.trim().toLowerCase(), params };
}

function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof BusUnavailableError) {
    return new HttpError(503, 'unavailable', `${error.message}; retry later`, undefined, error.retryAfterSeconds);
  }
  return new HttpError(500, 'internal', `internal error: ${(error as Error).message}`);
}
