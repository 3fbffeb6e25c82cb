/**
 * Configuration of `sextant up`: flags and env vars for the process, and an optional YAML
 * or JSON file for the pipeline (processor stages), limits and rate limits. Every error in
 * the file is reported at once with its path (docs/architecture.md §7).
 */
import * as t from 'io-ts';
import { decode } from '../common/decode.js';
import { DEFAULT_MAX_BODY_BYTES } from '../ingestion/app.js';
import { DEFAULT_LOG_DISCOVERY, LogDiscoveryCodec, type LogDiscoveryConfig } from '../ingestion/log-discovery.js';
import { RateLimitConfig, defaultRateLimit } from '../ingestion/rate-limit.js';
import { LimitsConfig, type Limits, withDefaults } from '../model/limits.js';
import { ConfigError } from '../common/config-error.js';
import { readConfigFile } from '../common/config-file.js';
import { parseDuration } from '../common/duration.js';
import { QueryLimitsConfig, resolveQueryLimits, type QueryLimits } from '../query/limits/config.js';
import type { RetentionConfig } from '../storage/sqlite/retention.js';

export const EmbeddedFileConfig = t.exact(
  t.partial({
    processors: t.unknown,
    limits: t.exact(LimitsConfig),
    rateLimit: t.exact(RateLimitConfig),
    maxBodyBytes: t.number,
    logDiscovery: LogDiscoveryCodec,
    retention: t.exact(t.partial({ logs: t.string, metrics: t.string, interval: t.string })),
    query: QueryLimitsConfig,
  }),
  'EmbeddedConfig',
);

export interface EmbeddedConfig {
  processors: unknown[];
  retention: RetentionConfig;
  limits: Limits;
  rateLimit: RateLimitConfig;
  maxBodyBytes: number;
  logDiscovery: LogDiscoveryConfig;
  query: QueryLimits;
}

export function loadEmbeddedConfig(file?: string): EmbeddedConfig {
  if (!file) return resolveConfig({}, '(defaults)');
  const doc = readConfigFile(file) ?? {};
  return resolveConfig(doc, file);
}

export function resolveConfig(doc: unknown, source: string): EmbeddedConfig {
  const errors: string[] = [];
  if (typeof doc === 'object' && doc !== null && !Array.isArray(doc)) {
    const known = new Set(Object.keys(EmbeddedFileConfig.type.props));
    for (const key of Object.keys(doc)) if (!known.has(key)) errors.push(`${key}: unknown field (expected ${[...known].join(', ')})`);
  }
  const decoded = decode(EmbeddedFileConfig, doc as t.TypeOf<typeof EmbeddedFileConfig>);
  if (!decoded.ok) throw new ConfigError(source, [...errors, ...decoded.errors]);
  const value = decoded.value;
  const limits = withDefaults(value.limits);
  for (const [name, n] of Object.entries(limits)) {
    if (!Number.isFinite(n) || n < 0) errors.push(`limits.${name}: must be a non-negative number, got ${n}`);
  }
  const rateLimit = value.rateLimit ?? defaultRateLimit;
  if (!(rateLimit.requestsPerSecond > 0)) errors.push(`rateLimit.requestsPerSecond: must be > 0, got ${rateLimit.requestsPerSecond}`);
  if (!(rateLimit.burst >= 1)) errors.push(`rateLimit.burst: must be >= 1, got ${rateLimit.burst}`);
  const maxBodyBytes = value.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!(maxBodyBytes >= 1024)) errors.push(`maxBodyBytes: must be at least 1024, got ${maxBodyBytes}`);
  if (value.processors !== undefined && !Array.isArray(value.processors)) errors.push('processors: must be a list of stages');
  const duration = (name: 'logs' | 'metrics' | 'interval', fallback: number): number => {
    const text = value.retention?.[name];
    if (text === undefined) return fallback;
    const ms = parseDuration(text);
    if (ms === undefined) errors.push(`retention.${name}: invalid duration "${text}": expected e.g. 7d, 12h, 90s or 0 (keep forever)`);
    return ms ?? fallback;
  };
  const retention: RetentionConfig = {
    logsMs: duration('logs', 0),
    metricsMs: duration('metrics', 0),
    intervalMs: duration('interval', 60_000),
  };
  if (retention.intervalMs <= 0) errors.push('retention.interval: must be greater than 0');
  const query = resolveQueryLimits(value.query, 'query', errors);
  if (errors.length > 0) throw new ConfigError(source, errors);
  const logDiscovery = value.logDiscovery ?? DEFAULT_LOG_DISCOVERY;
  return { processors: (value.processors as unknown[] | undefined) ?? [], retention, limits, rateLimit, maxBodyBytes, logDiscovery, query };
}
