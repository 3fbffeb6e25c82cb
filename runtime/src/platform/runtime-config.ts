/**
 * Configuration of the distributed runtimes (`sextant ingestion|processor|query --config
 * <file>`): the JSON document the operator renders into a ConfigMap (docs/architecture.md §2a). Decoded
 * with io-ts; unknown fields are errors; every problem is reported at once with its path
 * (docs/architecture.md §7). Secrets never live in the document: it names env variables or files, and
 * resolveSecrets() reads them, reporting every missing one at once too.
 */
import * as t from 'io-ts';
import { decode } from '../common/decode.js';
import { DEFAULT_MAX_BODY_BYTES } from '../ingestion/app.js';
import { LogDiscoveryCodec } from '../ingestion/log-discovery.js';
import { defaultRateLimit } from '../ingestion/rate-limit.js';
import { defaultLimits, type Limits } from '../model/limits.js';
import type { Signal } from '../model/types.js';
import {
  checkedString,
  closed,
  durationMs,
  integerIn,
  NonEmptyString,
  optional,
  Port,
  PositiveInt,
  section,
  withDefault,
} from '../common/codecs.js';
import { ConfigError } from '../common/config-error.js';
import { readConfigFile } from '../common/config-file.js';
import { SecretRef } from '../common/secrets.js';
import { KafkaConfig } from '../bus/kafka/config.js';
import { buildPipeline } from '../processor/pipeline.js';
import { BACKEND_NAMES, SinksCodec } from '../storage/index.js';

/** Kubernetes DNS-1123 label: what a namespace or Pipeline name may be (it ends up in topic names). */
const Dns1123 = checkedString('DNS-1123 label', (s) =>
  /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(s)
    ? undefined
    : `must be a DNS-1123 label (lower-case a-z, 0-9, "-"), got ${JSON.stringify(s)}`,
);
const SignalCodec = t.keyof({ logs: null, metrics: null }, '"logs" or "metrics"');
const LimitsCodec = closed('limits', {
  maxLabels: optional(PositiveInt),
  maxLabelNameLength: optional(PositiveInt),
  maxLabelValueLength: optional(PositiveInt),
  maxLineBytes: optional(PositiveInt),
  maxFieldsDepth: optional(PositiveInt),
  maxFieldsKeys: optional(PositiveInt),
  maxFutureSkewMs: optional(t.number),
  maxPastAgeMs: optional(t.number),
});

/**
 * A retention duration ("7d", "36h", "90s", "1h30m"; the one grammar of common/duration.ts,
 * which the RetentionPolicy CRD also uses), decoded to milliseconds. "0" keeps forever.
 */
const RetentionDuration = durationMs('duration such as 7d, 36h or 90s', '7d, 36h, 90s or 0 (keep forever)');

/**
 * Hot and cold retention of one signal (RetentionPolicy spec.<signal>). Both are ages
 * measured from the record's timestamp: hot bounds the OpenSearch copy, cold the S3 copy
 * (written alongside, not moved), so cold covers the hot window too. Unset or 0: forever.
 */
const SignalRetention = closed(
  'signal retention',
  { hot: withDefault(RetentionDuration, 0), cold: withDefault(RetentionDuration, 0) },
  (v) =>
    v.hot > 0 && v.cold > 0 && v.cold < v.hot
      ? [{ key: 'cold', message: 'must be at least hot: the query reads S3 for what is older than the hot window' }]
      : [],
);
export const DEFAULT_RETENTION_INTERVAL_MS = 5 * 60_000;
const RetentionCodec = closed(
  'retention',
  {
    logs: optional(SignalRetention),
    metrics: optional(SignalRetention),
    /** How often the processor runs the enforcers. */
    interval: withDefault(RetentionDuration, DEFAULT_RETENTION_INTERVAL_MS),
  },
  (v) => (v.interval < 1000 ? [{ key: 'interval', message: 'must be at least 1s' }] : []),
);

/** Default age of the oldest data the query runtime reads from OpenSearch (docs/architecture.md §2a: logs hot 7d). */
export const DEFAULT_HOT_WINDOW_MS = 7 * 24 * 3_600_000;
const QueryCodec = closed(
  'query',
  {
    /**
     * Data younger than this is read from OpenSearch, older data from S3. Default: the
     * signal's retention.hot when set, else 7d. Keep it at most the hot retention (or
     * OpenSearch no longer has the data) and above the S3 flush age (or S3 does not yet).
     */
    hotWindow: optional(RetentionDuration),
    /** Limits of one query (query/limits/config.ts): deadline (default 2m), max samples, max concurrency. */
    timeout: optional(RetentionDuration),
    maxSamples: optional(t.number),
    maxConcurrency: optional(t.number),
  },
  (v) => [
    ...(v.hotWindow !== undefined && v.hotWindow < 1000 ? [{ key: 'hotWindow', message: 'must be at least 1s' }] : []),
    ...(v.timeout !== undefined && v.timeout <= 0 ? [{ key: 'timeout', message: 'must be greater than 0' }] : []),
    ...(['maxSamples', 'maxConcurrency'] as const)
      .filter((k) => v[k] !== undefined && !(Number.isInteger(v[k]) && v[k]! >= 1))
      .map((key) => ({ key, message: 'must be a positive integer' })),
  ],
);

export const RuntimeConfigCodec = closed(
  'RuntimeConfig',
  {
    pipeline: closed('pipeline identity', { namespace: Dns1123, name: Dns1123 }),
    signals: withDefault(t.array(SignalCodec), ['logs', 'metrics'] as Signal[]),
    http: section(
      closed('http listener', {
        host: withDefault(NonEmptyString, '127.0.0.1'),
        port: withDefault(Port, 8080),
        tls: optional(closed('listener TLS', { certFile: NonEmptyString, keyFile: NonEmptyString })),
      }),
    ),
    auth: withDefault(closed('auth', { apiKeys: SecretRef }), { apiKeys: { env: 'SEXTANT_API_KEYS' } }),
    kafka: KafkaConfig,
    processors: withDefault(t.array(t.unknown), []),
    sinks: SinksCodec,
    limits: section(LimitsCodec),
    rateLimit: withDefault(
      closed('rateLimit', { requestsPerSecond: integerIn('positive number', 1, Number.MAX_SAFE_INTEGER), burst: PositiveInt }),
      defaultRateLimit,
    ),
    maxBodyBytes: withDefault(PositiveInt, DEFAULT_MAX_BODY_BYTES),
    /** service_name and detected_level at ingestion, as Loki's limits (ingestion/log-discovery.ts). */
    logDiscovery: section(LogDiscoveryCodec),
    retention: section(RetentionCodec),
    query: section(QueryCodec),
  },
  (v) => [
    ...(v.signals.length === 0 ? [{ key: 'signals', message: 'must list at least one signal' }] : []),
    ...(new Set(v.signals).size !== v.signals.length ? [{ key: 'signals', message: 'lists a signal twice' }] : []),
    ...(v.maxBodyBytes < 1024 ? [{ key: 'maxBodyBytes', message: `must be at least 1024, got ${v.maxBodyBytes}` }] : []),
  ],
);
export type RuntimeConfigDocument = t.TypeOf<typeof RuntimeConfigCodec>;
export type RetentionSettings = RuntimeConfigDocument['retention'];

/** The decoded document plus what was derived from it (limits with defaults). */
export interface RuntimeConfig extends RuntimeConfigDocument {
  limits: Limits;
  source: string;
}

export function loadRuntimeConfig(file: string): RuntimeConfig {
  // JSON is what the operator renders; YAML (a superset) is accepted for hand-written files.
  const doc = readConfigFile(file, 'JSON/YAML');
  return resolveRuntimeConfig(doc, file);
}

export function resolveRuntimeConfig(doc: unknown, source: string): RuntimeConfig {
  const decoded = decode(RuntimeConfigCodec, doc);
  const errors = decoded.ok ? [] : [...decoded.errors];
  // The stages are decoded by their own codec so their errors carry the same paths.
  const processors = typeof doc === 'object' && doc !== null ? (doc as { processors?: unknown }).processors : undefined;
  if (Array.isArray(processors)) {
    const built = buildPipeline(processors, 'processors');
    if (!built.ok) errors.push(...built.errors);
  }
  if (!decoded.ok || errors.length > 0) throw new ConfigError(source, errors);
  const value = decoded.value;
  const limits: Limits = { ...defaultLimits };
  for (const [k, v] of Object.entries(value.limits)) if (v !== undefined) (limits as unknown as Record<string, number>)[k] = v;
  return { ...value, limits, source };
}

/** The query runtime's hot window per signal: query.hotWindow, else retention.<signal>.hot, else 7d. */
export function hotWindows(config: Pick<RuntimeConfig, 'query' | 'retention'>): { logs: number; metrics: number } {
  const of = (signal: 'logs' | 'metrics') => {
    const hot = config.retention[signal]?.hot ?? 0;
    return config.query.hotWindow ?? (hot > 0 ? hot : DEFAULT_HOT_WINDOW_MS);
  };
  return { logs: of('logs'), metrics: of('metrics') };
}

/** What a component needs from the document; each subcommand checks its own. */
export function requireFor(config: RuntimeConfig, component: 'ingestion' | 'processor' | 'query'): void {
  const errors: string[] = [];
  if (component === 'processor' && BACKEND_NAMES.every((name) => config.sinks[name] === undefined)) {
    errors.push(`sinks: the processor needs at least one sink (${BACKEND_NAMES.join(', ')})`);
  }
  if (component === 'query' && config.sinks.opensearch === undefined) errors.push(`sinks.opensearch: required by the ${component}`);
  if (errors.length > 0) throw new ConfigError(config.source, errors);
}

/** API keys: comma- or newline-separated in the env variable or file. */
export function parseApiKeys(text: string | undefined): string[] {
  return (text ?? '')
    .split(/[,\n]/)
    .map((k) => k.trim())
    .filter(Boolean);
}

/** `sextant.<namespace>.<pipeline>.<signal>` — one topic per pipeline and signal (plus `.dlq`). */
export function topicName(config: Pick<RuntimeConfig, 'pipeline'>, signal: Signal | 'dlq'): string {
  return `sextant.${config.pipeline.namespace}.${config.pipeline.name}.${signal}`;
}
