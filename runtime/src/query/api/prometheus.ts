/**
 * Prometheus HTTP API (the subset Grafana's built-in Prometheus datasource uses; see
 * GRAFANA-API.md): /query, /query_range, /labels, /label/:name/values, /series, /metadata,
 * /status/buildinfo, /rules, /query_exemplars — GET and form-encoded POST. Mounted by the
 * caller at /api/v1 next to the native routes, so only these paths are registered here.
 */
import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import type { Logger } from '../../common/log.js';
import { VERSION } from '../../common/version.js';
import { canonicalLabels } from '../../model/labels.js';
import type { Labels } from '../../model/types.js';
import type { FamilyMetadataQuery, LabelMatcher, MetadataQuery, StorageReader } from '../../storage/reader.js';
import { asQueryError, inProcessEngine, type QueryEngine } from '../limits/engine.js';
import { QueryError, type QueryErrorType } from '../promql/errors.js';
import { formatResult } from '../promql/format.js';
import { parseFloatStrict, parseSecondsOrDuration } from '../promql/lexical.js';
import { parsePromQL, parseSeriesSelector } from '../promql/parse.js';

export interface PrometheusRouterOptions {
  reader: StorageReader;
  log: Logger;
  /** Reported by /status/buildinfo; defaults to the version in package.json. */
  version?: string;
  /** Clock in milliseconds, for tests. */
  now?: () => number;
  /** Evaluates queries under their limits; default: in process with the default limits. */
  engine?: QueryEngine;
}

/** Parameters of a GET query string and/or a form-encoded POST body, by name. */
export type Params = Map<string, string[]>;

export function requestParams(req: Request): Params {
  const params: Params = new Map();
  const add = (source: unknown): void => {
    if (!source || typeof source !== 'object') return;
    for (const [name, value] of Object.entries(source as Record<string, unknown>)) {
      const values = Array.isArray(value) ? value : [value];
      const strings = values.filter((v): v is string => typeof v === 'string');
      if (strings.length === 0) continue;
      params.set(name, [...(params.get(name) ?? []), ...strings]);
    }
  };
  // Go's Request.FormValue puts form-body values before query-string values.
  add(req.body);
  add(req.query);
  return params;
}

/** The first value of a parameter, as Go's FormValue; undefined when absent or empty. */
export function firstParam(params: Params, name: string): string | undefined {
  const value = params.get(name)?.[0];
  return value === undefined || value === '' ? undefined : value;
}

export function invalidParam(name: string, why: string): QueryError {
  return new QueryError('bad_data', `invalid parameter ${JSON.stringify(name)}: ${why}`);
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** Prometheus' parseTime: float Unix seconds or RFC 3339, as milliseconds. */
export function parsePromTime(text: string, name: string): number {
  const seconds = parseFloatStrict(text);
  if (seconds !== undefined) {
    const whole = Math.trunc(seconds);
    return whole * 1000 + Math.round((seconds - whole) * 1000);
  }
  if (RFC3339.test(text)) {
    const ms = Date.parse(text);
    if (!Number.isNaN(ms)) return ms;
  }
  throw invalidParam(name, `cannot parse ${JSON.stringify(text)} to a valid timestamp`);
}

/** Prometheus' parseDuration: float seconds or a duration like `15s`, as milliseconds. */
export function parsePromDurationParam(text: string, name: string): number {
  const raw = parseSecondsOrDuration(text);
  const ms = raw === undefined ? undefined : Math.trunc(raw);
  if (ms === undefined || !Number.isFinite(ms)) throw invalidParam(name, `cannot parse ${JSON.stringify(text)} to a valid duration`);
  return ms;
}

function sendSuccess(res: Response, data: unknown, warnings?: string[]): void {
  const body: Record<string, unknown> = { status: 'success', data };
  if (warnings && warnings.length > 0) body.warnings = warnings;
  res.json(body);
}

function sendError(res: Response, type: QueryErrorType, status: number, message: string): void {
  res.status(status).json({ status: 'error', errorType: type, error: message });
}

type Handler = (params: Params, req: Request, res: Response) => void | Promise<void>;

/** Maps any error to Prometheus' error reply; storage outages answer 503 `unavailable`. */
function handle(log: Logger, fn: Handler): RequestHandler {
  return async (req, res) => {
    try {
      await fn(requestParams(req), req, res);
    } catch (thrown) {
      const error = asQueryError(thrown);
      if (error instanceof QueryError) {
        if (error.type === 'internal') log.error({ err: error, path: req.path }, 'prometheus API: internal error');
        sendError(res, error.type, error.status, error.message);
        return;
      }
      const status = (error as { status?: unknown }).status;
      if (status === 503) {
        sendError(res, 'unavailable', 503, (error as Error).message);
        return;
      }
      log.error({ err: error, path: req.path }, 'prometheus API: query failed');
      sendError(res, 'internal', 500, `internal error: ${(error as Error).message}`);
    }
  };
}

/** Parses the query parameter; parse errors name the parameter, as Prometheus does. */
function parseQueryParam(params: Params) {
  const query = firstParam(params, 'query');
  if (query === undefined) throw invalidParam('query', '1:1: parse error: no expression found in input');
  try {
    return parsePromQL(query);
  } catch (error) {
    // Syntax errors name the parameter, as Prometheus does; unsupported constructs say so first.
    if (error instanceof QueryError && error.type === 'bad_data' && !error.unsupported) throw invalidParam('query', error.message);
    throw error;
  }
}

/** The request's `timeout` (Prometheus duration or seconds); it can only shorten the configured deadline. */
function timeoutParam(params: Params): number | undefined {
  const text = firstParam(params, 'timeout');
  return text === undefined ? undefined : parsePromDurationParam(text, 'timeout');
}

function matchParams(params: Params): LabelMatcher[][] {
  // A query parser that reads brackets (express' "extended", as the runtimes use) names it `match`.
  const values = matchValues(params);
  return values.map((text) => {
    try {
      return parseSeriesSelector(text);
    } catch (error) {
      if (error instanceof QueryError) throw invalidParam('match[]', error.message);
      throw error;
    }
  });
}

function metadataRange(params: Params): { startMs?: number; endMs?: number } {
  const start = firstParam(params, 'start');
  const end = firstParam(params, 'end');
  const range: { startMs?: number; endMs?: number } = {};
  if (start !== undefined) range.startMs = parsePromTime(start, 'start');
  if (end !== undefined) range.endMs = parsePromTime(end, 'end');
  return range;
}

function matchValues(params: Params): string[] {
  return [...(params.get('match[]') ?? []), ...(params.get('match') ?? [])];
}

/** One metadata query per match[] selector (or one unrestricted query), results merged. */
function metadataQueries(params: Params): MetadataQuery[] {
  const range = metadataRange(params);
  const sets = matchParams(params);
  return sets.length === 0 ? [{ ...range }] : sets.map((matchers) => ({ ...range, matchers }));
}

function parseLimit(params: Params): number | undefined {
  const text = firstParam(params, 'limit');
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw invalidParam('limit', `cannot parse ${JSON.stringify(text)} to a non-negative integer`);
  return n === 0 ? undefined : n;
}

function integerParam(params: Params, name: string): number | undefined {
  const text = firstParam(params, name);
  if (text === undefined || text === '') return undefined;
  const n = Number(text);
  if (!Number.isInteger(n)) throw invalidParam(name, `cannot parse ${JSON.stringify(text)} to an integer`);
  return n;
}

function truncate<T>(items: T[], limit: number | undefined, warnings: string[]): T[] {
  if (limit === undefined || items.length <= limit) return items;
  warnings.push('results truncated due to limit');
  return items.slice(0, limit);
}

export function createPrometheusRouter(options: PrometheusRouterOptions): Router {
  const { reader, log } = options;
  const now = options.now ?? Date.now;
  const engine = options.engine ?? inProcessEngine(reader);
  const router = Router();
  const form = express.urlencoded({ extended: false, limit: '1mb' });

  const route = (p: string, fn: Handler): void => {
    const handler = handle(log, fn);
    router.get(p, handler);
    router.post(p, form, handler);
  };

  route('/query', async (params, _req, res) => {
    parseQueryParam(params); // syntax errors answer here; the engine parses again where it evaluates
    const time = firstParam(params, 'time');
    const timeMs = time === undefined ? now() : parsePromTime(time, 'time');
    const query = firstParam(params, 'query')!;
    sendSuccess(res, formatResult(await engine.run('promqlInstant', { query, timeMs }, timeoutParam(params))));
  });

  route('/query_range', async (params, _req, res) => {
    const start = firstParam(params, 'start');
    const end = firstParam(params, 'end');
    const step = firstParam(params, 'step');
    if (start === undefined) throw invalidParam('start', 'cannot parse "" to a valid timestamp');
    if (end === undefined) throw invalidParam('end', 'cannot parse "" to a valid timestamp');
    const startMs = parsePromTime(start, 'start');
    const endMs = parsePromTime(end, 'end');
    if (endMs < startMs) throw invalidParam('end', 'end timestamp must not be before start time');
    if (step === undefined) throw invalidParam('step', 'cannot parse "" to a valid duration');
    const stepMs = parsePromDurationParam(step, 'step');
    if (stepMs <= 0) {
      throw invalidParam('step', 'zero or negative query resolution step widths are not accepted. Try a positive integer');
    }
    parseQueryParam(params);
    const query = firstParam(params, 'query')!;
    sendSuccess(res, formatResult(await engine.run('promqlRange', { query, startMs, endMs, stepMs }, timeoutParam(params))));
  });

  route('/labels', async (params, _req, res) => {
    const names = new Set<string>();
    for (const q of metadataQueries(params)) for (const n of await reader.metricLabelNames(q)) names.add(n);
    const warnings: string[] = [];
    sendSuccess(res, truncate([...names].sort(), parseLimit(params), warnings), warnings);
  });

  route('/label/:name/values', async (params, req, res) => {
    const name = String(req.params.name ?? '');
    if (name === '') throw new QueryError('bad_data', 'invalid label name: ""');
    const values = new Set<string>();
    for (const q of metadataQueries(params)) for (const v of await reader.metricLabelValues(name, q)) values.add(v);
    const warnings: string[] = [];
    sendSuccess(res, truncate([...values].sort(), parseLimit(params), warnings), warnings);
  });

  route('/series', async (params, _req, res) => {
    if (matchValues(params).length === 0) throw new QueryError('bad_data', 'no match[] parameter provided');
    const seen = new Map<string, Labels>();
    for (const q of metadataQueries(params)) {
      for (const labels of await reader.series(q)) seen.set(canonicalLabels(labels), labels);
    }
    const warnings: string[] = [];
    sendSuccess(res, truncate([...seen.values()], parseLimit(params), warnings), warnings);
  });

  route('/metadata', async (params, _req, res) => {
    // As Prometheus reads them: limit=0 answers no family; a negative limit, or a
    // limit_per_metric of 0 or less, means no limit.
    const metric = firstParam(params, 'metric') || undefined;
    const limit = integerParam(params, 'limit');
    const perMetric = integerParam(params, 'limit_per_metric');
    const query: FamilyMetadataQuery = {};
    if (metric !== undefined) query.metric = metric;
    if (limit !== undefined && limit >= 0) query.limit = limit;
    if (perMetric !== undefined && perMetric > 0) query.limitPerMetric = perMetric;
    sendSuccess(res, await reader.metricMetadata(query));
  });

  route('/query_exemplars', (_params, _req, res) => sendSuccess(res, []));

  route('/rules', (_params, _req, res) => sendSuccess(res, { groups: [] }));

  route('/status/buildinfo', (_params, _req, res) =>
    sendSuccess(res, {
      version: options.version ?? VERSION,
      revision: '',
      branch: '',
      buildUser: '',
      buildDate: '',
      goVersion: '',
      features: {},
    }),
  );

  return router;
}
