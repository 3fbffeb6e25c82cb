/**
 * Configuration of the distributed runtimes (`sextant ingestion|processor|query --config
 * <file>`): the JSON document the operator renders into a ConfigMap (DESIGN §2a). Decoded
 * with io-ts; unknown fields are errors; every problem is reported at once with its path
 * (DESIGN §10). Secrets never live in the document: it names env variables or files, and
 * resolveSecrets() reads them, reporting every missing one at once too.
 */
import fs from 'node:fs';
import * as t from 'io-ts';
import YAML from 'yaml';
import { decode } from '../common/decode.js';
import { DEFAULT_MAX_BODY_BYTES } from '../ingestion/app.js';
import { defaultRateLimit } from '../ingestion/rate-limit.js';
import { defaultLimits, type Limits } from '../model/limits.js';
import type { Signal } from '../model/types.js';
import { checkedString, closed, NonEmptyString, optional, withDefault } from '../processor/codecs.js';
import { buildPipeline } from '../processor/pipeline.js';
import { s3SinkCodec } from '../storage/s3/config.js';
import { parsePromDuration } from '../query/promql/lexical.js';
import { ConfigError } from './embedded-config.js';

/** Kubernetes DNS-1123 label: what a namespace or Pipeline name may be (it ends up in topic names). */
const Dns1123 = checkedString('DNS-1123 label', (s) =>
  /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(s)
    ? undefined
    : `must be a DNS-1123 label (lower-case a-z, 0-9, "-"), got ${JSON.stringify(s)}`,
);
/**
 * What index names start with (`<prefix>-<signal>-<period>`): lower-case like every OpenSearch
 * index name, and short enough that the whole name stays far below its 255-byte limit. The
 * operator renders `<Sink indexPrefix>-<Pipeline name>`, so it is longer than a DNS label.
 */
const IndexPrefix = checkedString('index prefix', (s) =>
  /^[a-z0-9]([-a-z0-9]{0,118}[a-z0-9])?$/.test(s)
    ? undefined
    : `must be lower-case a-z, 0-9 and "-", start and end with a letter or digit, at most 120 characters; got ${JSON.stringify(s)}`,
);
const PositiveInt = (name: string) =>
  new t.Type<number, number, unknown>(
    name,
    (u): u is number => typeof u === 'number' && Number.isInteger(u) && u > 0,
    (u, c) => (typeof u === 'number' && Number.isInteger(u) && u > 0 ? t.success(u) : t.failure(u, c)),
    t.identity,
  );
const Port = new t.Type<number, number, unknown>(
  'port 0-65535',
  (u): u is number => typeof u === 'number' && Number.isInteger(u) && u >= 0 && u <= 65535,
  (u, c) => (typeof u === 'number' && Number.isInteger(u) && u >= 0 && u <= 65535 ? t.success(u) : t.failure(u, c)),
  t.identity,
);
const SignalCodec = t.keyof({ logs: null, metrics: null }, '"logs" or "metrics"');
const EnvName = checkedString('environment variable name', (s) =>
  /^[A-Za-z_][A-Za-z0-9_]*$/.test(s) ? undefined : `must be an environment variable name, got ${JSON.stringify(s)}`,
);

/** A secret by reference: `{env: NAME}` or `{file: /path}` — never the value itself. */
const SecretRef = new t.Type<{ env?: string; file?: string }, unknown, unknown>(
  'secret reference {env: NAME} or {file: PATH}',
  (u): u is { env?: string; file?: string } => typeof u === 'object' && u !== null,
  (u, c) => {
    const inner = closed('secret reference', { env: optional(EnvName), file: optional(NonEmptyString) }, (v) =>
      (v.env === undefined) === (v.file === undefined) ? [{ message: 'set exactly one of env or file' }] : [],
    );
    return inner.validate(u, c);
  },
  t.identity,
);
export type SecretRef = t.TypeOf<typeof SecretRef>;

const TlsClient = closed('TLS settings', {
  /** PEM bundle of the CAs to trust (default: the system's). */
  caFile: optional(NonEmptyString),
  /** Client certificate and key for mutual TLS. */
  certFile: optional(NonEmptyString),
  keyFile: optional(NonEmptyString),
  /** Only for tests: accepts any server certificate. */
  insecureSkipVerify: withDefault(t.boolean, false),
});

const KafkaConfig = closed(
  'kafka',
  {
    brokers: t.array(NonEmptyString, 'list of host:port'),
    clientId: withDefault(NonEmptyString, 'sextant'),
    topics: withDefault(
      closed('topic settings', {
        partitions: withDefault(PositiveInt('positive integer'), 6),
        replicationFactor: withDefault(PositiveInt('positive integer'), 1),
      }),
      { partitions: 6, replicationFactor: 1 },
    ),
    compression: withDefault(t.keyof({ none: null, gzip: null }, '"none" or "gzip"'), 'none'),
    /** App-level batching of the producer (kafkajs batches nothing itself). */
    producer: withDefault(
      closed('producer settings', {
        lingerMs: withDefault(t.number, 5),
        maxBatchRecords: withDefault(PositiveInt('positive integer'), 10_000),
        /** Below the broker's message.max.bytes (1 MiB by default): a partition's records go out as one batch. */
        maxBatchBytes: withDefault(PositiveInt('positive integer'), 1_000_000),
        requestTimeoutMs: withDefault(PositiveInt('positive integer'), 10_000),
      }),
      { lingerMs: 5, maxBatchRecords: 10_000, maxBatchBytes: 1_000_000, requestTimeoutMs: 10_000 },
    ),
    /** Consumer group settings of the processor. A killed member is noticed after sessionTimeoutMs. */
    consumer: withDefault(
      closed('consumer settings', {
        sessionTimeoutMs: withDefault(PositiveInt('positive integer'), 30_000),
        heartbeatIntervalMs: withDefault(PositiveInt('positive integer'), 3_000),
        /**
         * Partitions whose fetched batches are decoded and queued at once. OpenSearch writes
         * merge every partition's records into bulks of bulk.maxDocs (two in flight), each
         * partition committing once all its records are acknowledged. S3 takes one at a time.
         */
        concurrency: withDefault(PositiveInt('positive integer'), 3),
      }),
      { sessionTimeoutMs: 30_000, heartbeatIntervalMs: 3_000, concurrency: 3 },
    ),
    tls: optional(TlsClient),
    sasl: optional(
      closed('SASL settings', {
        mechanism: t.keyof({ plain: null, 'scram-sha-256': null, 'scram-sha-512': null }, '"plain", "scram-sha-256" or "scram-sha-512"'),
        username: SecretRef,
        password: SecretRef,
      }),
    ),
  },
  (v) => [
    ...(v.brokers.length === 0 ? [{ key: 'brokers', message: 'must list at least one broker' }] : []),
    ...(v.consumer.heartbeatIntervalMs * 3 > v.consumer.sessionTimeoutMs
      ? [{ key: 'consumer', message: 'heartbeatIntervalMs must be at most a third of sessionTimeoutMs' }]
      : []),
  ],
);

const OpenSearchSinkConfig = closed(
  'opensearch sink',
  {
    endpoints: t.array(NonEmptyString, 'list of URLs'),
    indexPrefix: IndexPrefix,
    /** One index per UTC day (default) or hour: retention deletes whole indices (storage/opensearch/retention.ts). */
    indexPartition: withDefault(t.keyof({ daily: null, hourly: null }, '"daily" or "hourly"'), 'daily'),
    username: optional(SecretRef),
    password: optional(SecretRef),
    caFile: optional(NonEmptyString),
    insecureSkipVerify: withDefault(t.boolean, false),
    bulk: withDefault(
      closed('bulk settings', {
        maxDocs: withDefault(PositiveInt('positive integer'), 5_000),
        maxBytes: withDefault(PositiveInt('positive integer'), 5 * 1024 * 1024),
      }),
      { maxDocs: 5_000, maxBytes: 5 * 1024 * 1024 },
    ),
  },
  (v) => [
    ...(v.endpoints.length === 0 ? [{ key: 'endpoints', message: 'must list at least one URL' }] : []),
    ...v.endpoints
      .filter((e) => !/^https?:\/\/[^/]+/.test(e))
      .map((e) => ({ key: 'endpoints', message: `not an http(s) URL: ${JSON.stringify(e)}` })),
    ...((v.username === undefined) !== (v.password === undefined) ? [{ message: 'set both username and password, or neither' }] : []),
  ],
);

const LimitsCodec = closed('limits', {
  maxLabels: optional(PositiveInt('positive integer')),
  maxLabelNameLength: optional(PositiveInt('positive integer')),
  maxLabelValueLength: optional(PositiveInt('positive integer')),
  maxLineBytes: optional(PositiveInt('positive integer')),
  maxFieldsDepth: optional(PositiveInt('positive integer')),
  maxFieldsKeys: optional(PositiveInt('positive integer')),
  maxFutureSkewMs: optional(t.number),
  maxPastAgeMs: optional(t.number),
});

/**
 * A retention duration in the RetentionPolicy grammar (Prometheus': "7d", "36h", "90s",
 * "1h30m"; operator/src/api/duration.ts), decoded to milliseconds. "0" keeps forever.
 */
const RetentionDuration = new t.Type<number, string, unknown>(
  'duration such as 7d, 36h or 90s',
  (u): u is number => typeof u === 'number' && u >= 0,
  (u, c) => {
    if (typeof u !== 'string') return t.failure(u, c);
    const ms = parsePromDuration(u);
    return ms === undefined
      ? t.failures([
          { value: u, context: c, message: `invalid duration ${JSON.stringify(u)}: expected e.g. 7d, 36h, 90s or 0 (keep forever)` },
        ])
      : t.success(ms);
  },
  (ms) => `${ms}ms`,
);

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

/** Default age of the oldest data the query runtime reads from OpenSearch (DESIGN §2a: logs hot 7d). */
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
    http: withDefault(
      closed('http listener', {
        host: withDefault(NonEmptyString, '127.0.0.1'),
        port: withDefault(Port, 8080),
        tls: optional(closed('listener TLS', { certFile: NonEmptyString, keyFile: NonEmptyString })),
      }),
      { host: '127.0.0.1', port: 8080, tls: undefined },
    ),
    auth: withDefault(closed('auth', { apiKeys: SecretRef }), { apiKeys: { env: 'SEXTANT_API_KEYS' } }),
    kafka: KafkaConfig,
    processors: withDefault(t.array(t.unknown), []),
    sinks: closed('sinks', { opensearch: optional(OpenSearchSinkConfig), s3: optional(s3SinkCodec(SecretRef)) }),
    limits: withDefault(LimitsCodec, {
      maxLabels: undefined,
      maxLabelNameLength: undefined,
      maxLabelValueLength: undefined,
      maxLineBytes: undefined,
      maxFieldsDepth: undefined,
      maxFieldsKeys: undefined,
      maxFutureSkewMs: undefined,
      maxPastAgeMs: undefined,
    }),
    rateLimit: withDefault(
      closed('rateLimit', { requestsPerSecond: PositiveInt('positive number'), burst: PositiveInt('positive integer') }),
      defaultRateLimit,
    ),
    maxBodyBytes: withDefault(PositiveInt('positive integer'), DEFAULT_MAX_BODY_BYTES),
    retention: withDefault(RetentionCodec, { logs: undefined, metrics: undefined, interval: DEFAULT_RETENTION_INTERVAL_MS }),
    query: withDefault(QueryCodec, { hotWindow: undefined, timeout: undefined, maxSamples: undefined, maxConcurrency: undefined }),
  },
  (v) => [
    ...(v.signals.length === 0 ? [{ key: 'signals', message: 'must list at least one signal' }] : []),
    ...(new Set(v.signals).size !== v.signals.length ? [{ key: 'signals', message: 'lists a signal twice' }] : []),
    ...(v.maxBodyBytes < 1024 ? [{ key: 'maxBodyBytes', message: `must be at least 1024, got ${v.maxBodyBytes}` }] : []),
  ],
);
export type RuntimeConfigDocument = t.TypeOf<typeof RuntimeConfigCodec>;
export type KafkaSettings = RuntimeConfigDocument['kafka'];
export type OpenSearchSinkSettings = NonNullable<RuntimeConfigDocument['sinks']['opensearch']>;
export type S3SinkSettings = NonNullable<RuntimeConfigDocument['sinks']['s3']>;
export type RetentionSettings = RuntimeConfigDocument['retention'];

/** The decoded document plus what was derived from it (limits with defaults). */
export interface RuntimeConfig extends RuntimeConfigDocument {
  limits: Limits;
  source: string;
}

export function loadRuntimeConfig(file: string): RuntimeConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, [`cannot read file: ${(error as Error).message}`]);
  }
  let doc: unknown;
  try {
    // JSON is what the operator renders; YAML (a superset) is accepted for hand-written files.
    doc = YAML.parse(text);
  } catch (error) {
    throw new ConfigError(file, [`not valid JSON/YAML: ${(error as Error).message}`]);
  }
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
  if (component === 'processor' && config.sinks.opensearch === undefined && config.sinks.s3 === undefined) {
    errors.push('sinks: the processor needs at least one sink (opensearch, s3)');
  }
  if (component === 'query' && config.sinks.opensearch === undefined) errors.push(`sinks.opensearch: required by the ${component}`);
  if (errors.length > 0) throw new ConfigError(config.source, errors);
}

/** Reads secrets named by the document. Every missing one is reported, with its path. */
export class SecretReader {
  readonly errors: string[] = [];
  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  read(ref: SecretRef | undefined, path: string): string | undefined {
    if (ref === undefined) return undefined;
    if (ref.env !== undefined) {
      const value = this.env[ref.env];
      if (value === undefined || value === '') this.errors.push(`${path}.env: environment variable ${ref.env} is not set`);
      return value;
    }
    try {
      return fs.readFileSync(ref.file!, 'utf8').trim();
    } catch (error) {
      this.errors.push(`${path}.file: cannot read ${ref.file}: ${(error as Error).message}`);
      return undefined;
    }
  }

  readFile(file: string | undefined, path: string): Buffer | undefined {
    if (file === undefined) return undefined;
    try {
      return fs.readFileSync(file);
    } catch (error) {
      this.errors.push(`${path}: cannot read ${file}: ${(error as Error).message}`);
      return undefined;
    }
  }

  /** Throws every collected problem at once. */
  check(source: string): void {
    if (this.errors.length > 0) throw new ConfigError(source, this.errors);
  }
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
