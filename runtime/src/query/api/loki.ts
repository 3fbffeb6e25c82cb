/**
 * Loki HTTP API (the subset Grafana's built-in Loki datasource uses; see GRAFANA-API.md):
 * /query, /query_range, /labels, /label/:name/values, /series, /index/stats, and what Logs
 * Drilldown adds: detected_fields, detected_field/:name/values, detected_labels,
 * index/volume(_range), patterns, drilldown-limits, format_query, status/buildinfo. Mounted by the
 * caller at /loki/api/v1; GET and form-encoded POST. Errors answer plain text with status 400
 * (or 5xx), as Loki does.
 */
import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import type { Logger } from '../../common/log.js';
import { canonicalLabels } from '../../model/labels.js';
import { nsToMs, parseTimestamp } from '../../model/timestamp.js';
import type { Labels } from '../../model/types.js';
import type { Direction, LabelMatcher, MetadataQuery, StorageReader } from '../../storage/reader.js';
import { VERSION } from '../../common/version.js';
import { DEFAULT_LOG_DISCOVERY, type LogDiscoveryConfig } from '../../ingestion/log-discovery.js';
import type { FieldSampleOptions } from '../logql/detected.js';
import { formatLogQL } from '../logql/format.js';
import type { MetricQueryLimits, StreamResult } from '../logql/evaluate.js';
import type { VolumeQuery } from '../logql/volume.js';
import { asQueryError, inProcessEngine, type QueryEngine } from '../limits/engine.js';
import { parseLogQL, parseStreamSelector } from '../logql/parse.js';
import type { LogQLExpr } from '../logql/ast.js';
import { QueryError } from '../promql/errors.js';
import { formatResult } from '../promql/format.js';
import { parseGoDuration } from '../promql/lexical.js';
import { firstParam, invalidParam, requestParams, type Params } from './prometheus.js';

export interface LokiRouterOptions {
  reader: StorageReader;
  log: Logger;
  /** Largest `limit` a log query may ask for (Loki's max_entries_limit_per_query, default 5000). */
  maxEntriesLimit?: number;
  /** Bounds on the log entries a metric query may read. */
  metricLimits?: MetricQueryLimits;
  /** Evaluates queries under their limits; default: in process with the default limits. */
  engine?: QueryEngine;
  /** Clock in nanoseconds, for tests. */
  now?: () => bigint;
  /** What ingestion discovers (service_name, detected_level), reported by drilldown-limits; Loki's defaults when absent. */
  logDiscovery?: LogDiscoveryConfig;
}

const NS_PER_MS = 1_000_000n;
const NS_PER_S = 1_000_000_000n;
const HOUR_NS = 3600n * NS_PER_S;
const DEFAULT_LIMIT = 100;
const DEFAULT_DETECT_LINES = 1000;
const DEFAULT_DETECT_FIELDS = 1000;
const DEFAULT_VOLUME_LIMIT = 100;
const DEFAULT_MAX_ENTRIES_LIMIT = 5000;
const DEFAULT_PATTERN_LINES = 10_000;
const DEFAULT_PATTERNS = 500;

/** Loki's default step: (end - start) / 250, at least one second. */
function defaultStepNs(startNs: bigint, endNs: bigint): bigint {
  const seconds = (endNs - startNs) / 250n / NS_PER_S;
  return (seconds > 1n ? seconds : 1n) * NS_PER_S;
}

/**
 * Loki's parseTimestamp: a value with "." is float seconds; an integer of at most 10 digits
 * is seconds, a longer one nanoseconds; otherwise RFC 3339 (nanosecond precision).
 */
export function parseLokiTime(text: string, name: string): bigint {
  if (text.includes('.') && /^\d+\.\d*$/.test(text)) {
    const [whole, fraction = ''] = text.split('.') as [string, string?];
    // Loki rounds the fraction to milliseconds.
    const ms = Math.round(Number(`0.${fraction || '0'}`) * 1000);
    return BigInt(whole) * NS_PER_S + BigInt(ms) * NS_PER_MS;
  }
  if (/^-?\d+$/.test(text)) {
    const n = BigInt(text);
    return text.replace('-', '').length <= 10 ? n * NS_PER_S : n;
  }
  // Digits and decimals are handled above, so what parseTimestamp accepts here is RFC 3339.
  const parsed = parseTimestamp(text);
  if (parsed.ok) return parsed.ns;
  throw invalidParam(name, `cannot parse ${JSON.stringify(text)} to a valid timestamp: expected Unix nanoseconds, seconds or RFC 3339`);
}

/** Loki's step/interval: float seconds or a duration ("15s", "15000ms"), as nanoseconds. */
export function parseLokiStep(text: string, name: string): bigint {
  if (/^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(text)) return BigInt(Math.round(Number(text) * 1e9));
  const ms = parseGoDuration(text);
  if (ms === undefined) throw invalidParam(name, `cannot parse ${JSON.stringify(text)} to a valid duration`);
  return BigInt(Math.round(ms * 1e6));
}

export function nsParam(params: Params, name: string, fallback: bigint): bigint {
  const text = firstParam(params, name);
  return text === undefined ? fallback : parseLokiTime(text, name);
}

function parseDirection(params: Params): Direction {
  const text = firstParam(params, 'direction');
  if (text === undefined) return 'backward';
  const lower = text.toLowerCase();
  if (lower !== 'forward' && lower !== 'backward') {
    throw invalidParam('direction', `must be "forward" or "backward", got ${JSON.stringify(text)}`);
  }
  return lower;
}

function parseLimit(params: Params, max: number): number {
  const text = firstParam(params, 'limit');
  if (text === undefined) return DEFAULT_LIMIT;
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw invalidParam('limit', `must be a positive integer, got ${JSON.stringify(text)}`);
  if (n > max) {
    throw invalidParam('limit', `max entries limit per query exceeded, limit > max_entries_limit_per_query (${n} > ${max})`);
  }
  return n;
}

export function parseQuery(params: Params): LogQLExpr {
  const query = firstParam(params, 'query');
  if (query === undefined) throw invalidParam('query', 'a LogQL query is required');
  try {
    return parseLogQL(query);
  } catch (error) {
    // Syntax errors name the parameter, as Prometheus does; unsupported constructs say so first.
    if (error instanceof QueryError && error.type === 'bad_data' && !error.unsupported) throw invalidParam('query', error.message);
    throw error;
  }
}

export function positiveInt(params: Params, name: string, fallback: number, max: number): number {
  const text = firstParam(params, name);
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw invalidParam(name, `must be a positive integer, got ${JSON.stringify(text)}`);
  return Math.min(n, max);
}

function selectorParam(params: Params, name: string): LabelMatcher[] | undefined {
  const text = firstParam(params, name);
  if (text === undefined) return undefined;
  try {
    return parseStreamSelector(text);
  } catch (error) {
    if (error instanceof QueryError) throw invalidParam(name, error.message);
    throw error;
  }
}

/** Time bounds of a metadata request: only those given restrict the answer. */
function metadataRange(params: Params): { startMs?: number; endMs?: number } {
  const start = firstParam(params, 'start');
  const end = firstParam(params, 'end');
  const range: { startMs?: number; endMs?: number } = {};
  if (start !== undefined) range.startMs = nsToMs(parseLokiTime(start, 'start'));
  if (end !== undefined) range.endMs = nsToMs(parseLokiTime(end, 'end'));
  return range;
}

function metadataQuery(params: Params, selectorName: string): MetadataQuery {
  const matchers = selectorParam(params, selectorName);
  return matchers ? { ...metadataRange(params), matchers } : metadataRange(params);
}

function sendText(res: Response, status: number, message: string): void {
  res.status(status).type('text/plain; charset=utf-8').send(message);
}

type Handler = (params: Params, req: Request, res: Response) => void | Promise<void>;

function handle(log: Logger, fn: Handler): RequestHandler {
  return async (req, res) => {
    try {
      await fn(requestParams(req), req, res);
    } catch (thrown) {
      const error = asQueryError(thrown);
      if (error instanceof QueryError) {
        if (error.type === 'internal') log.error({ err: error, path: req.path }, 'loki API: internal error');
        sendText(
          res,
          error.type === 'internal' ? 500 : error.type === 'timeout' || error.type === 'unavailable' ? 503 : 400,
          error.message,
        );
        return;
      }
      if ((error as { status?: unknown }).status === 503) {
        sendText(res, 503, (error as Error).message);
        return;
      }
      log.error({ err: error, path: req.path }, 'loki API: query failed');
      sendText(res, 500, `internal error: ${(error as Error).message}`);
    }
  };
}

/** Loki's `categorize-labels` response encoding, asked for by Grafana with a request header. */
function wantsCategorized(req: Request): boolean {
  const flags = req.get('x-loki-response-encoding-flags') ?? '';
  return flags.split(',').some((f) => f.trim() === 'categorize-labels');
}

export function streamsData(streams: StreamResult[], categorized: boolean) {
  const value = (e: StreamResult['entries'][number]): unknown[] => {
    if (!categorized) return [e.timestampNs.toString(), e.line];
    const meta: Record<string, Labels> = {};
    if (e.structuredMetadata && Object.keys(e.structuredMetadata).length > 0) meta.structuredMetadata = e.structuredMetadata;
    if (e.parsed && Object.keys(e.parsed).length > 0) meta.parsed = e.parsed;
    return [e.timestampNs.toString(), e.line, meta];
  };
  return {
    resultType: 'streams',
    result: streams.map((s) => ({ stream: s.stream, values: s.entries.map(value) })),
    stats: {},
    ...(categorized ? { encodingFlags: ['categorize-labels'] } : {}),
  };
}

export function createLokiRouter(options: LokiRouterOptions): Router {
  const { reader, log } = options;
  const now = options.now ?? (() => BigInt(Date.now()) * NS_PER_MS);
  const maxLimit = options.maxEntriesLimit ?? DEFAULT_MAX_ENTRIES_LIMIT;
  const metricLimits = options.metricLimits ?? {};
  const maxPatternLines = Math.max(DEFAULT_PATTERN_LINES, maxLimit);
  const engine = options.engine ?? inProcessEngine(reader);
  const discovery = options.logDiscovery ?? DEFAULT_LOG_DISCOVERY;
  const router = Router();
  const form = express.urlencoded({ extended: false, limit: '1mb' });
  const route = (p: string, fn: Handler): void => {
    const handler = handle(log, fn);
    router.get(p, handler);
    router.post(p, form, handler);
  };

  route('/query', async (params, _req, res) => {
    const expr = parseQuery(params);
    const timeNs = nsParam(params, 'time', now());
    parseLimit(params, maxLimit);
    parseDirection(params);
    if (expr.type === 'logs') {
      throw invalidParam('query', 'log queries are not supported as an instant query type, please change your query to a range query type');
    }
    const query = firstParam(params, 'query')!;
    const data = formatResult(await engine.run('logqlInstant', { query, timeNs, limits: metricLimits }));
    res.json({ status: 'success', data: { ...data, stats: {} } });
  });

  route('/query_range', async (params, req, res) => {
    const endNs = nsParam(params, 'end', now());
    const startNs = nsParam(params, 'start', endNs - HOUR_NS);
    if (endNs < startNs) throw invalidParam('end', 'end timestamp must not be before start time');
    const limit = parseLimit(params, maxLimit);
    const direction = parseDirection(params);
    const stepText = firstParam(params, 'step');
    const stepNs = stepText === undefined ? defaultStepNs(startNs, endNs) : parseLokiStep(stepText, 'step');
    if (stepNs <= 0n) {
      throw invalidParam('step', 'zero or negative query resolution step widths are not accepted. Try a positive integer');
    }
    const expr = parseQuery(params);
    if (expr.type === 'logs') {
      const categorize = wantsCategorized(req);
      const query = firstParam(params, 'query')!;
      const streams = await engine.run('logStreams', {
        query,
        options: { startNs, endNs, limit, direction, categorize },
        limits: metricLimits,
      });
      res.json({ status: 'success', data: streamsData(streams, categorize) });
      return;
    }
    const query = firstParam(params, 'query')!;
    const data = formatResult(await engine.run('logqlRange', { query, startNs, endNs, stepNs, limits: metricLimits }));
    res.json({ status: 'success', data: { ...data, stats: {} } });
  });

  route('/labels', async (params, _req, res) => {
    res.json({ status: 'success', data: [...new Set(await reader.logLabelNames(metadataQuery(params, 'query')))].sort() });
  });

  route('/label/:name/values', async (params, req, res) => {
    const name = String(req.params.name ?? '');
    if (name === '') throw invalidParam('name', 'a label name is required');
    res.json({ status: 'success', data: [...new Set(await reader.logLabelValues(name, metadataQuery(params, 'query')))].sort() });
  });

  route('/series', async (params, _req, res) => {
    const range = metadataRange(params);
    const selectors = [...(params.get('match[]') ?? []), ...(params.get('match') ?? [])];
    const queries: MetadataQuery[] =
      selectors.length === 0
        ? [range]
        : selectors.map((text) => {
            try {
              return { ...range, matchers: parseStreamSelector(text) };
            } catch (error) {
              if (error instanceof QueryError) throw invalidParam('match[]', error.message);
              throw error;
            }
          });
    const seen = new Map<string, Labels>();
    for (const q of queries) for (const labels of await reader.logStreams(q)) seen.set(canonicalLabels(labels), labels);
    res.json({ status: 'success', data: [...seen.values()] });
  });

  route('/index/stats', async (params, _req, res) => {
    const stats = await reader.logStats(metadataQuery(params, 'query'));
    // No chunks in Sextant's stores; Grafana uses bytes for its query-size hint.
    res.json({ streams: stats.streams, chunks: 0, bytes: stats.bytes, entries: stats.entries });
  });

  // Grafana Logs Drilldown and newer Explore (shapes in GRAFANA-API.md).
  const logRange = (params: Params): { startNs: bigint; endNs: bigint } => {
    const endNs = nsParam(params, 'end', now());
    const startNs = nsParam(params, 'start', endNs - HOUR_NS);
    if (endNs < startNs) throw invalidParam('end', 'end timestamp must not be before start time');
    return { startNs, endNs };
  };
  // Field detection, volumes and patterns read entries: query jobs, under the query deadline.
  const fieldSample = (params: Params): { query: string; options: FieldSampleOptions } => {
    const expr = parseQuery(params);
    if (expr.type !== 'logs') throw invalidParam('query', 'detected fields need a log query such as {app="api"} | json');
    const lineLimit = positiveInt(params, 'line_limit', DEFAULT_DETECT_LINES, maxLimit);
    return { query: firstParam(params, 'query')!, options: { ...logRange(params), lineLimit } };
  };

  route('/detected_fields', async (params, _req, res) => {
    const limit = positiveInt(params, 'limit', DEFAULT_DETECT_FIELDS, 10_000);
    const fields = await engine.run('detectedFields', { ...fieldSample(params), limit, limits: metricLimits });
    res.json({ fields, limit });
  });

  route('/detected_field/:name/values', async (params, req, res) => {
    const name = String(req.params.name ?? '');
    const limit = positiveInt(params, 'limit', DEFAULT_DETECT_FIELDS, 10_000);
    const values = await engine.run('detectedFieldValues', { ...fieldSample(params), name, limit, limits: metricLimits });
    res.json({ values });
  });

  route('/detected_labels', async (params, _req, res) => {
    const query = firstParam(params, 'query');
    const q = query === undefined || query.trim() === '' ? metadataRange(params) : metadataQuery(params, 'query');
    const values = new Map<string, Set<string>>();
    for (const labels of await reader.logStreams(q)) {
      for (const [name, value] of Object.entries(labels)) {
        let set = values.get(name);
        if (!set) values.set(name, (set = new Set()));
        set.add(value);
      }
    }
    const detectedLabels = [...values.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([label, set]) => ({ label, cardinality: set.size }));
    res.json({ detectedLabels });
  });

  const volumeQuery = (params: Params): VolumeQuery => {
    const matchers = selectorParam(params, 'query');
    if (!matchers) throw invalidParam('query', 'a stream selector such as {service_name=~".+"} is required');
    const target = firstParam(params, 'targetLabels');
    const grouping = target
      ? target
          .split(',')
          .map((l) => l.trim())
          .filter(Boolean)
      : [...new Set(matchers.map((m) => m.name))];
    return { matchers, grouping };
  };

  route('/index/volume', async (params, _req, res) => {
    const limit = positiveInt(params, 'limit', DEFAULT_VOLUME_LIMIT, 100_000);
    const result = await engine.run('logVolume', { ...volumeQuery(params), ...logRange(params), limit, limits: metricLimits });
    res.json({ status: 'success', data: { ...formatResult(result), stats: {} } });
  });

  route('/index/volume_range', async (params, _req, res) => {
    const { startNs, endNs } = logRange(params);
    const stepText = firstParam(params, 'step');
    const stepNs = stepText === undefined ? defaultStepNs(startNs, endNs) : parseLokiStep(stepText, 'step');
    if (stepNs <= 0n) throw invalidParam('step', 'zero or negative query resolution step widths are not accepted. Try a positive integer');
    const result = await engine.run('logVolumeRange', { ...volumeQuery(params), startNs, endNs, stepNs, limits: metricLimits });
    res.json({ status: 'success', data: { ...formatResult(result), stats: {} } });
  });

  // Patterns are mined at query time from the newest `line_limit` lines (logql/patterns.ts).
  route('/patterns', async (params, _req, res) => {
    const { startNs, endNs } = logRange(params);
    const stepText = firstParam(params, 'step');
    const stepNs = stepText === undefined ? defaultStepNs(startNs, endNs) : parseLokiStep(stepText, 'step');
    if (stepNs <= 0n) throw invalidParam('step', 'zero or negative query resolution step widths are not accepted. Try a positive integer');
    const expr = parseQuery(params);
    if (expr.type !== 'logs') throw invalidParam('query', 'patterns need a log query such as {service_name="api"}');
    const lineLimit = positiveInt(params, 'line_limit', DEFAULT_PATTERN_LINES, maxPatternLines);
    const limit = positiveInt(params, 'limit', DEFAULT_PATTERNS, 10_000);
    const query = firstParam(params, 'query')!;
    const data = await engine.run('logPatterns', { query, options: { startNs, endNs, stepNs, lineLimit, limit }, limits: metricLimits });
    res.json({ status: 'success', data });
  });

  route('/drilldown-limits', (_params, _req, res) => {
    res.json({
      limits: {
        discover_log_levels: discovery.discoverLogLevels,
        discover_service_name: discovery.discoverServiceName,
        log_level_fields: discovery.logLevelFields,
        max_entries_limit_per_query: maxLimit,
        max_query_bytes_read: '0B',
        max_query_length: '0s',
        max_query_lookback: '0s',
        max_query_range: '0s',
        max_query_series: 500,
        metric_aggregation_enabled: false,
        otlp_config: {},
        pattern_persistence_enabled: false,
        query_timeout: '1m',
        retention_period: '0s',
        volume_enabled: true,
        volume_max_series: 1000,
      },
      pattern_ingester_enabled: true,
      version: VERSION,
    });
  });

  route('/format_query', (params, _req, res) => {
    const query = firstParam(params, 'query');
    if (query === undefined) throw invalidParam('query', 'a LogQL query is required');
    parseQuery(params);
    res.json({ status: 'success', data: formatLogQL(query) });
  });

  route('/status/buildinfo', (_params, _req, res) => {
    res.json({ version: VERSION, revision: '', branch: '', buildUser: '', buildDate: '', goVersion: '' });
  });

  return router;
}
