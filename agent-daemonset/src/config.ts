/**
 * Configuration of `sextant agent`: one YAML/JSON file with the routes (which pods' logs go
 * to which ingestion endpoint, with which API key), multiline rules, batching, queue and
 * spool limits, retry and tailing settings. Defaults live here and only here; every error
 * in the file is reported at once with its path (DESIGN §10, Loki's validate()).
 */
import fs from 'node:fs';
import * as t from 'io-ts';
import YAML from 'yaml';
import { decode } from '../../runtime/src/common/decode.js';
import { LABEL_NAME } from '../../runtime/src/model/labels.js';
import { defaultLimits } from '../../runtime/src/model/limits.js';
import { ConfigError } from '../../runtime/src/platform/embedded-config.js';
import { parsePromDuration } from '../../runtime/src/query/promql/lexical.js';
import { compilePodMatch, PodMatchConfig, type PodMatcher } from './selector.js';

export { ConfigError };

const Duration = t.union([t.string, t.number], 'duration (e.g. "500ms", "5s") or milliseconds');

const BatchFileConfig = t.exact(t.partial({ maxEntries: t.number, maxBytes: t.number, maxWait: Duration, gzipLevel: t.number }));

const ApiKeyConfig = t.exact(t.partial({ env: t.string, file: t.string, value: t.string }), 'ApiKey');

const RouteFileConfig = t.exact(
  t.intersection([
    t.type({ name: t.string, endpoint: t.string }),
    t.partial({ ...PodMatchConfig, apiKey: ApiKeyConfig, logs: t.boolean, nodeMetrics: t.boolean, batch: BatchFileConfig }),
  ]),
  'Route',
);

const MultilineFileConfig = t.exact(
  t.intersection([t.type({ startPattern: t.string }), t.partial({ ...PodMatchConfig, timeout: Duration })]),
  'MultilineRule',
);

export const AgentFileConfig = t.exact(
  t.partial({
    routes: t.array(RouteFileConfig),
    multiline: t.array(MultilineFileConfig),
    batch: BatchFileConfig,
    queue: t.exact(t.partial({ memoryBytes: t.number, spoolBytes: t.number })),
    retry: t.exact(t.partial({ initialBackoff: Duration, maxBackoff: Duration, requestTimeout: Duration, maxRetryAfter: Duration })),
    tail: t.exact(
      t.partial({
        pollInterval: Duration,
        rescanInterval: Duration,
        rotateWait: Duration,
        maxLineBytes: t.number,
        readChunkBytes: t.number,
        format: t.keyof({ auto: null, cri: null, docker: null, raw: null }),
        podMetadataWait: Duration,
      }),
    ),
    labelsFromPod: t.array(t.string),
    nodeMetrics: t.exact(t.partial({ interval: Duration })),
  }),
  'AgentConfig',
);
export type AgentFileConfig = t.TypeOf<typeof AgentFileConfig>;

export interface BatchConfig {
  /** Seal a batch at this many entries… */
  maxEntries: number;
  /** …or this many uncompressed body bytes… */
  maxBytes: number;
  /** …or when its oldest entry is this old (ms). */
  maxWaitMs: number;
  /** zlib level 1-9 for the request body. */
  gzipLevel: number;
}

export interface RouteConfig {
  name: string;
  /** Base URL of the ingestion endpoint, without a trailing slash. */
  endpoint: string;
  apiKey: string | undefined;
  match: PodMatcher;
  logs: boolean;
  nodeMetrics: boolean;
  batch: BatchConfig;
}

export interface MultilineRule {
  match: PodMatcher;
  startPattern: RegExp;
  timeoutMs: number;
}

export type LogFormat = 'auto' | 'cri' | 'docker' | 'raw';

export interface AgentConfig {
  routes: RouteConfig[];
  multiline: MultilineRule[];
  queue: {
    /** Compressed batch bytes kept in memory per route before spilling to the disk spool. */
    memoryBytes: number;
    /** Bytes of the disk spool per route; when full, tailing of that route's files pauses. */
    spoolBytes: number;
  };
  retry: { initialBackoffMs: number; maxBackoffMs: number; requestTimeoutMs: number; maxRetryAfterMs: number };
  tail: {
    pollIntervalMs: number;
    rescanIntervalMs: number;
    /** How long a renamed (rotated) file is still read after it stopped growing. */
    rotateWaitMs: number;
    /** Longest message shipped (UTF-8 bytes); longer lines are truncated and flagged. */
    maxLineBytes: number;
    readChunkBytes: number;
    format: LogFormat;
    /** How long a new file waits for its pod's labels from the watch before it is routed without them. */
    podMetadataWaitMs: number;
  };
  /** Pod labels copied into stream labels (names sanitised: app.kubernetes.io/name → app_kubernetes_io_name). */
  labelsFromPod: string[];
  nodeMetrics: { intervalMs: number };
}

export const DEFAULT_BATCH: BatchConfig = { maxEntries: 5000, maxBytes: 1024 * 1024, maxWaitMs: 1000, gzipLevel: 1 };

export const DEFAULTS: Omit<AgentConfig, 'routes' | 'multiline'> = {
  queue: { memoryBytes: 8 * 1024 * 1024, spoolBytes: 256 * 1024 * 1024 },
  retry: { initialBackoffMs: 500, maxBackoffMs: 30_000, requestTimeoutMs: 30_000, maxRetryAfterMs: 300_000 },
  tail: {
    pollIntervalMs: 250,
    rescanIntervalMs: 2000,
    rotateWaitMs: 5000,
    maxLineBytes: defaultLimits.maxLineBytes,
    readChunkBytes: 256 * 1024,
    format: 'auto',
    podMetadataWaitMs: 30_000,
  },
  labelsFromPod: ['app'],
  nodeMetrics: { intervalMs: 15_000 },
};

export function loadAgentConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): AgentConfig {
  if (!file) return resolveAgentConfig({}, '(defaults)', env);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, [`cannot read file: ${(error as Error).message}`]);
  }
  let doc: unknown;
  try {
    doc = YAML.parse(text) ?? {};
  } catch (error) {
    throw new ConfigError(file, [`not valid YAML/JSON: ${(error as Error).message}`]);
  }
  return resolveAgentConfig(doc, file, env);
}

export function resolveAgentConfig(doc: unknown, source: string, env: NodeJS.ProcessEnv = process.env): AgentConfig {
  const errors: string[] = [];
  if (typeof doc === 'object' && doc !== null && !Array.isArray(doc)) {
    const known = new Set(Object.keys(AgentFileConfig.type.props));
    for (const key of Object.keys(doc)) if (!known.has(key)) errors.push(`${key}: unknown field (expected ${[...known].join(', ')})`);
  }
  const decoded = decode(AgentFileConfig, doc as AgentFileConfig);
  if (!decoded.ok) throw new ConfigError(source, [...errors, ...decoded.errors]);
  const v = decoded.value;

  const duration = (value: string | number | undefined, fallback: number, path: string, min = 0): number => {
    if (value === undefined) return fallback;
    const ms = typeof value === 'number' ? value : parsePromDuration(value);
    if (ms === undefined || !Number.isFinite(ms)) {
      errors.push(`${path}: invalid duration ${JSON.stringify(value)}: expected e.g. 500ms, 5s, 1m`);
      return fallback;
    }
    if (ms < min) errors.push(`${path}: must be at least ${min}ms, got ${ms}ms`);
    return ms;
  };
  const count = (value: number | undefined, fallback: number, path: string, min: number): number => {
    if (value === undefined) return fallback;
    if (!Number.isInteger(value) || value < min) errors.push(`${path}: must be an integer >= ${min}, got ${value}`);
    return value;
  };
  const batchOf = (b: t.TypeOf<typeof BatchFileConfig> | undefined, base: BatchConfig, path: string): BatchConfig => {
    const gzipLevel = count(b?.gzipLevel, base.gzipLevel, `${path}.gzipLevel`, 0);
    if (gzipLevel > 9) errors.push(`${path}.gzipLevel: must be 0-9, got ${gzipLevel}`);
    return {
      maxEntries: count(b?.maxEntries, base.maxEntries, `${path}.maxEntries`, 1),
      maxBytes: count(b?.maxBytes, base.maxBytes, `${path}.maxBytes`, 1024),
      maxWaitMs: duration(b?.maxWait, base.maxWaitMs, `${path}.maxWait`, 1),
      gzipLevel,
    };
  };
  const batch = batchOf(v.batch, DEFAULT_BATCH, 'batch');

  const names = new Set<string>();
  const routes: RouteConfig[] = (v.routes ?? []).map((r, i) => {
    const path = `routes[${i}]`;
    if (!/^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$/.test(r.name)) {
      errors.push(`${path}.name: "${r.name}" must be 1-63 lower-case letters, digits, ".", "_" or "-" (it names the spool folder)`);
    }
    if (names.has(r.name)) errors.push(`${path}.name: duplicate route name "${r.name}"`);
    names.add(r.name);
    let endpoint = r.endpoint.replace(/\/+$/, '');
    try {
      const url = new URL(endpoint);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') errors.push(`${path}.endpoint: must be http(s), got ${url.protocol}`);
    } catch {
      errors.push(`${path}.endpoint: not a URL: "${r.endpoint}"`);
      endpoint = '';
    }
    return {
      name: r.name,
      endpoint,
      apiKey: resolveApiKey(r.apiKey, `${path}.apiKey`, env, errors),
      match: compilePodMatch(r, path, errors),
      logs: r.logs ?? true,
      nodeMetrics: r.nodeMetrics ?? false,
      batch: batchOf(r.batch, batch, `${path}.batch`),
    };
  });

  const multiline: MultilineRule[] = (v.multiline ?? []).map((m, i) => {
    const path = `multiline[${i}]`;
    let startPattern = /^/;
    try {
      startPattern = new RegExp(m.startPattern);
    } catch (error) {
      errors.push(`${path}.startPattern: invalid regular expression: ${(error as Error).message}`);
    }
    return { match: compilePodMatch(m, path, errors), startPattern, timeoutMs: duration(m.timeout, 1000, `${path}.timeout`, 1) };
  });

  const d = DEFAULTS;
  const queue = {
    memoryBytes: count(v.queue?.memoryBytes, d.queue.memoryBytes, 'queue.memoryBytes', 0),
    spoolBytes: count(v.queue?.spoolBytes, d.queue.spoolBytes, 'queue.spoolBytes', 0),
  };
  const retry = {
    initialBackoffMs: duration(v.retry?.initialBackoff, d.retry.initialBackoffMs, 'retry.initialBackoff', 1),
    maxBackoffMs: duration(v.retry?.maxBackoff, d.retry.maxBackoffMs, 'retry.maxBackoff', 1),
    requestTimeoutMs: duration(v.retry?.requestTimeout, d.retry.requestTimeoutMs, 'retry.requestTimeout', 1),
    maxRetryAfterMs: duration(v.retry?.maxRetryAfter, d.retry.maxRetryAfterMs, 'retry.maxRetryAfter', 0),
  };
  if (retry.maxBackoffMs < retry.initialBackoffMs) errors.push('retry.maxBackoff: must be >= retry.initialBackoff');
  const tail = {
    pollIntervalMs: duration(v.tail?.pollInterval, d.tail.pollIntervalMs, 'tail.pollInterval', 1),
    rescanIntervalMs: duration(v.tail?.rescanInterval, d.tail.rescanIntervalMs, 'tail.rescanInterval', 1),
    rotateWaitMs: duration(v.tail?.rotateWait, d.tail.rotateWaitMs, 'tail.rotateWait', 0),
    maxLineBytes: count(v.tail?.maxLineBytes, d.tail.maxLineBytes, 'tail.maxLineBytes', 64),
    readChunkBytes: count(v.tail?.readChunkBytes, d.tail.readChunkBytes, 'tail.readChunkBytes', 4096),
    format: v.tail?.format ?? d.tail.format,
    podMetadataWaitMs: duration(v.tail?.podMetadataWait, d.tail.podMetadataWaitMs, 'tail.podMetadataWait', 0),
  };
  const labelsFromPod = v.labelsFromPod ?? d.labelsFromPod;
  labelsFromPod.forEach((name, i) => {
    if (!LABEL_NAME.test(sanitiseLabelName(name))) errors.push(`labelsFromPod[${i}]: "${name}" cannot become a label name`);
  });
  const nodeMetrics = { intervalMs: duration(v.nodeMetrics?.interval, d.nodeMetrics.intervalMs, 'nodeMetrics.interval', 100) };
  if (errors.length > 0) throw new ConfigError(source, errors);
  return { routes, multiline, queue, retry, tail, labelsFromPod, nodeMetrics };
}

function resolveApiKey(
  spec: t.TypeOf<typeof ApiKeyConfig> | undefined,
  path: string,
  env: NodeJS.ProcessEnv,
  errors: string[],
): string | undefined {
  if (!spec) return undefined;
  const given = [spec.env, spec.file, spec.value].filter((x) => x !== undefined).length;
  if (given !== 1) {
    errors.push(`${path}: give exactly one of env, file or value`);
    return undefined;
  }
  if (spec.value !== undefined) return spec.value;
  if (spec.env !== undefined) {
    const key = env[spec.env];
    if (!key) errors.push(`${path}.env: environment variable ${spec.env} is not set or empty`);
    return key;
  }
  try {
    const key = fs.readFileSync(spec.file!, 'utf8').trim();
    if (!key) errors.push(`${path}.file: ${spec.file} is empty`);
    return key;
  } catch (error) {
    // The message names the file but never its content.
    errors.push(`${path}.file: cannot read ${spec.file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    return undefined;
  }
}

/** A Kubernetes label key as a Prometheus label name: every other character becomes "_". */
export function sanitiseLabelName(key: string): string {
  const name = key.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(name) ? `_${name}` : name;
}
