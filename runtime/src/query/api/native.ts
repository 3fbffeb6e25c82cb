/**
 * The native query API: GET /api/v1/logs/search (entries with ids, fields and a cursor)
 * and GET /api/v1/metrics/query (per-step aggregation of selected series).
 */
import express, { type Request, type Response } from 'express';
import { HttpError, sendError } from '../../common/http-error.js';
import type { Logger } from '../../common/log.js';
import type { RuntimeMetrics } from '../../common/metrics.js';
import { MAX_POINTS_PER_SERIES } from '../../model/limits.js';
import { formatNs, nowNs } from '../../model/timestamp.js';
import type { Labels } from '../../model/types.js';
import type { Direction, LabelMatcher, LineFilter, StorageReader } from '../../storage/reader.js';
import { CursorError } from '../../storage/sqlite/cursor.js';
import { aggregateSeries, AGGREGATIONS, type Aggregation } from './native-aggregate.js';
import { badParam, durationParam, intParam, param, timeParam } from './params.js';

/** A parsed log query: a stream selector plus line filters. */
export interface LogQuerySelector {
  matchers: LabelMatcher[];
  lineFilters: LineFilter[];
}

export interface NativeOptions {
  reader: StorageReader;
  metrics: RuntimeMetrics;
  /** Parses `{a="b"} |= "x"`; throws an Error whose message names the problem. */
  parseLogQuery: (text: string) => LogQuerySelector;
  /** Parses a metric selector `name{a="b"}` into matchers (the name as __name__). */
  parseMetricSelector: (text: string) => LabelMatcher[];
  log?: Logger;
}

const HOUR_NS = 3_600_000_000_000n;
export const MAX_SEARCH_LIMIT = 5000;

export function nativeRouter(options: NativeOptions): express.Router {
  const router = express.Router();
  router.get('/logs/search', (req, res) => handle(res, () => searchLogs(req, res, options), options.log));
  router.get('/metrics/query', (req, res) => handle(res, () => queryMetrics(req, res, options), options.log));
  return router;
}

/**
 * Bad input answers 400; anything else is a server fault: 503 + Retry-After when storage
 * says it is unavailable (status 503 on the error), else 500 — never an unhandled rejection.
 */
async function handle(res: Response, run: () => Promise<void>, log: Logger | undefined): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (error instanceof HttpError) sendError(res, error);
    else if (error instanceof CursorError) sendError(res, badParam('cursor', error.message));
    else if ((error as { status?: unknown }).status === 503) {
      sendError(res, new HttpError(503, 'storage_unavailable', (error as Error).message, undefined, 5));
    } else {
      log?.error({ err: error, path: res.req.path }, 'native API: query failed');
      sendError(res, new HttpError(500, 'internal', `internal error: ${(error as Error).message}`));
    }
  }
}

async function searchLogs(req: Request, res: Response, options: NativeOptions): Promise<void> {
  const stop = options.metrics.queryDuration.startTimer({ api: 'native_logs' });
  const text = param(req, 'query');
  if (!text) throw badParam('query', 'is required: a stream selector such as {service="api"}, optionally with line filters');
  const selector = parse(() => options.parseLogQuery(text), 'query');
  const end = timeParam(req, 'end', nowNs());
  const start = timeParam(req, 'start', end - HOUR_NS);
  if (start > end) throw badParam('start', 'must not be after "end"');
  const direction = param(req, 'direction') ?? 'backward';
  if (direction !== 'forward' && direction !== 'backward') throw badParam('direction', `expected forward or backward, got "${direction}"`);
  const limit = intParam(req, 'limit', 100, 1, MAX_SEARCH_LIMIT);
  const q = param(req, 'q');
  const cursor = param(req, 'cursor');
  const page = await options.reader.selectLogs({
    matchers: selector.matchers,
    lineFilters: selector.lineFilters,
    startNs: start,
    endNs: end,
    direction: direction as Direction,
    limit,
    ...(q ? { text: q } : {}),
    ...(cursor ? { cursor } : {}),
  });
  stop();
  res.json({
    entries: page.entries.map((e) => ({
      id: e.id,
      timestamp: formatNs(e.timestampNs),
      labels: e.labels,
      message: e.message,
      fields: e.fields,
    })),
    ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
  });
}

async function queryMetrics(req: Request, res: Response, options: NativeOptions): Promise<void> {
  const stop = options.metrics.queryDuration.startTimer({ api: 'native_metrics' });
  const text = param(req, 'query');
  if (!text) throw badParam('query', 'is required: a metric selector such as http_requests_total{service="api"}');
  const matchers = parse(() => options.parseMetricSelector(text), 'query');
  const endMs = Number(timeParam(req, 'end', nowNs()) / 1_000_000n);
  const startMs = Number(timeParam(req, 'start', BigInt(endMs - 3_600_000) * 1_000_000n) / 1_000_000n);
  if (startMs > endMs) throw badParam('start', 'must not be after "end"');
  const stepMs = durationParam(req, 'step', Math.max(1000, Math.ceil((endMs - startMs) / 250 / 1000) * 1000));
  if ((endMs - startMs) / stepMs > MAX_POINTS_PER_SERIES) {
    throw badParam('step', `too many points per series (more than ${MAX_POINTS_PER_SERIES}); use a larger step or a shorter range`);
  }
  const aggregation = (param(req, 'aggregation') ?? 'avg') as Aggregation;
  if (!AGGREGATIONS.includes(aggregation))
    throw badParam('aggregation', `expected one of ${AGGREGATIONS.join(', ')}, got "${aggregation}"`);
  const byText = param(req, 'by');
  const by = byText
    ? byText
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : undefined;
  // Each step t covers (t - step, t], so the first bucket needs samples from start - step.
  const selected = await options.reader.selectSamples({ matchers, startMs: startMs - stepMs + 1, endMs });
  const series = aggregateSeries(selected, { startMs, endMs, stepMs, aggregation, ...(by ? { by } : {}) });
  stop();
  res.json({
    series: series.map((s: { labels: Labels; points: Array<[number, number]> }) => ({
      labels: s.labels,
      points: s.points.map(([t, v]) => [t, Number.isFinite(v) ? v : String(v)]),
    })),
  });
}

function parse<T>(run: () => T, name: string): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof HttpError) throw error;
    throw badParam(name, (error as Error).message);
  }
}
