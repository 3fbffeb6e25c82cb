/**
 * Configuration of `sextant agent`: one YAML/JSON file with the routes (which pods' logs go
 * to which ingestion endpoint, with which API key), multiline rules, batching, queue and
 * spool limits, retry and tailing settings. Defaults live here and only here; every error
 * in the file is reported at once with its path (docs/architecture.md §7, Loki's validate()).
 */
import fs from 'node:fs';
import * as t from 'io-ts';
import YAML from 'yaml';
import { compileRegex, ConfigError, decode, parseDuration } from '../../runtime/src/common/index.js';
import { defaultLimits, LABEL_NAME } from '../../runtime/src/model/index.js';
import { compilePodMatch, PodMatchConfig, type PodMatcher } from './selector.js';

export { ConfigError };

const Duration = t.union([t.string, t.number], 'duration (e.g. "500ms", "5s") or milliseconds');

const BatchFileConfig = t.exact(t.partial({ maxEntries: t.number, maxBytes: t.number, maxWait: Duration, gzipLevel: t.number }));

const ApiKeyConfig = t.exact(t.partial({ env: t.string, file: t.string, value: t.string }), 'ApiKey');

const RouteFileConfig = t.exact(
  t.intersection([
    t.type({ name: t.string, endpoint: t.string }),
    t.partial({
      ...PodMatchConfig,
      apiKey: ApiKeyConfig,
      logs: t.boolean,
      nodeMetrics: t.boolean,
      podMetrics: t.boolean,
      batch: BatchFileConfig,
    }),
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
    podMetrics: t.exact(t.partial({ interval: Duration, timeout: Duration, maxSamples: t.number })),
    routesFile: t.exact(t.partial({ pollInterval: Duration, drainTimeout: Duration })),
  }),
  'AgentConfig',
);

/** The routes file the operator renders (ConfigMap sextant-agent-routes, key routes.yaml): routes only. */
export const RoutesFileConfig = t.exact(t.partial({ routes: t.array(RouteFileConfig) }), 'RoutesFile');
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
  /** Metrics scraped from this route's pods annotated prometheus.io/scrape: "true". */
  podMetrics: boolean;
  batch: BatchConfig;
  /** Everything the route was made from (API key value included; never logged): equal signatures, same route. */
  signature: string;
}

export interface MultilineRule {
  match: PodMatcher;
  startPattern: { test(text: string): boolean };
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
  podMetrics: {
    intervalMs: number;
    timeoutMs: number;
    /** Samples kept per scrape; a target that exposes more is cut off there (counted). */
    maxSamples: number;
  };
  /** The file's `batch`, the default of routes that come from the routes file. */
  batch: BatchConfig;
  routesFile: {
    /** How often the routes file is read again (ConfigMap volumes change by a symlink swap, so it is polled). */
    pollIntervalMs: number;
    /** How long a removed route may keep delivering what it holds before the rest is given up on. */
    drainTimeoutMs: number;
  };
}

export const DEFAULT_BATCH: BatchConfig = { maxEntries: 5000, maxBytes: 1024 * 1024, maxWaitMs: 1000, gzipLevel: 1 };

export const DEFAULTS: Omit<AgentConfig, 'routes' | 'multiline' | 'batch'> = {
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
  podMetrics: { intervalMs: 30_000, timeoutMs: 10_000, maxSamples: 50_000 },
  routesFile: { pollIntervalMs: 5000, drainTimeoutMs: 30_000 },
};

export function loadAgentConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): AgentConfig {
  if (!file) return resolveAgentConfig({}, '(defaults)', env);
  return resolveAgentConfig(readYaml(file, readText(file)), file, env);
}

/** The text of a config file; a ConfigError naming it when it cannot be read. */
export function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, [`cannot read file: ${(error as Error).message}`]);
  }
}

function readYaml(file: string, text: string): unknown {
  try {
    return YAML.parse(text) ?? {};
  } catch (error) {
    throw new ConfigError(file, [`not valid YAML/JSON: ${(error as Error).message}`]);
  }
}

/**
 * The routes of the routes file (`routes: [...]`, the route format of the config file),
 * validated like the config file's own, with its `batch` as their default. A name already
 * used by a route of the config file is an error.
 */
export function resolveRoutesFile(
  text: string,
  file: string,
  base: AgentConfig,
  baseSource: string,
  env: NodeJS.ProcessEnv = process.env,
): RouteConfig[] {
  const doc = readYaml(file, text);
  const errors: string[] = unknownFields(doc, RoutesFileConfig.type.props);
  const decoded = decode(RoutesFileConfig, doc as t.TypeOf<typeof RoutesFileConfig>);
  if (!decoded.ok) throw new ConfigError(file, [...errors, ...decoded.errors]);
  const taken = new Map(base.routes.map((r) => [r.name, baseSource]));
  const routes = resolveRoutes(decoded.value.routes ?? [], base.batch, env, errors, taken);
  if (errors.length > 0) throw new ConfigError(file, errors);
  return routes;
}

function unknownFields(doc: unknown, props: object): string[] {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return [];
  const known = new Set(Object.keys(props));
  return Object.keys(doc)
    .filter((key) => !known.has(key))
    .map((key) => `${key}: unknown field (expected ${[...known].join(', ')})`);
}

function durationOf(value: string | number | undefined, fallback: number, path: string, min: number, errors: string[]): number {
  if (value === undefined) return fallback;
  const ms = typeof value === 'number' ? value : parseDuration(value);
  if (ms === undefined || !Number.isFinite(ms)) {
    errors.push(`${path}: invalid duration ${JSON.stringify(value)}: expected e.g. 500ms, 5s, 1m`);
    return fallback;
  }
  if (ms < min) errors.push(`${path}: must be at least ${min}ms, got ${ms}ms`);
  return ms;
}

function countOf(value: number | undefined, fallback: number, path: string, min: number, errors: string[]): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min) errors.push(`${path}: must be an integer >= ${min}, got ${value}`);
  return value;
}

function batchOf(b: t.TypeOf<typeof BatchFileConfig> | undefined, base: BatchConfig, path: string, errors: string[]): BatchConfig {
  const gzipLevel = countOf(b?.gzipLevel, base.gzipLevel, `${path}.gzipLevel`, 0, errors);
  if (gzipLevel > 9) errors.push(`${path}.gzipLevel: must be 0-9, got ${gzipLevel}`);
  return {
    maxEntries: countOf(b?.maxEntries, base.maxEntries, `${path}.maxEntries`, 1, errors),
    maxBytes: countOf(b?.maxBytes, base.maxBytes, `${path}.maxBytes`, 1024, errors),
    maxWaitMs: durationOf(b?.maxWait, base.maxWaitMs, `${path}.maxWait`, 1, errors),
    gzipLevel,
  };
}

/** `taken`: route names already used elsewhere → where (for the duplicate error). */
function resolveRoutes(
  list: t.TypeOf<typeof RouteFileConfig>[],
  batch: BatchConfig,
  env: NodeJS.ProcessEnv,
  errors: string[],
  taken: Map<string, string> = new Map(),
): RouteConfig[] {
  const names = new Set<string>();
  return list.map((r, i) => {
    const path = `routes[${i}]`;
    if (!/^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$/.test(r.name)) {
      errors.push(`${path}.name: "${r.name}" must be 1-63 lower-case letters, digits, ".", "_" or "-" (it names the spool folder)`);
    }
    if (names.has(r.name)) errors.push(`${path}.name: duplicate route name "${r.name}"`);
    else if (taken.has(r.name)) errors.push(`${path}.name: duplicate route name "${r.name}" (already a route in ${taken.get(r.name)})`);
    names.add(r.name);
    let endpoint = r.endpoint.replace(/\/+$/, '');
    try {
      const url = new URL(endpoint);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') errors.push(`${path}.endpoint: must be http(s), got ${url.protocol}`);
    } catch {
      errors.push(`${path}.endpoint: not a URL: "${r.endpoint}"`);
      endpoint = '';
    }
    const apiKey = resolveApiKey(r.apiKey, `${path}.apiKey`, env, errors);
    return {
      name: r.name,
      endpoint,
      apiKey,
      match: compilePodMatch(r, path, errors),
      logs: r.logs ?? true,
      nodeMetrics: r.nodeMetrics ?? false,
      podMetrics: r.podMetrics ?? false,
      batch: batchOf(r.batch, batch, `${path}.batch`, errors),
      // The key's value, not where it came from, so a rotated key in the Secret is a change.
      signature: JSON.stringify({ ...r, apiKey: apiKey ?? null }),
    };
  });
}

export function resolveAgentConfig(doc: unknown, source: string, env: NodeJS.ProcessEnv = process.env): AgentConfig {
  const errors: string[] = unknownFields(doc, AgentFileConfig.type.props);
  const decoded = decode(AgentFileConfig, doc as AgentFileConfig);
  if (!decoded.ok) throw new ConfigError(source, [...errors, ...decoded.errors]);
  const v = decoded.value;

  const duration = (value: string | number | undefined, fallback: number, path: string, min = 0): number =>
    durationOf(value, fallback, path, min, errors);
  const count = (value: number | undefined, fallback: number, path: string, min: number): number =>
    countOf(value, fallback, path, min, errors);
  const batch = batchOf(v.batch, DEFAULT_BATCH, 'batch', errors);
  const routes = resolveRoutes(v.routes ?? [], batch, env, errors);

  const multiline: MultilineRule[] = (v.multiline ?? []).map((m, i) => {
    const path = `multiline[${i}]`;
    let startPattern: MultilineRule['startPattern'] = { test: () => true };
    try {
      startPattern = compileRegex(m.startPattern, { anchored: false }); // RE2, like every user regex
    } catch (error) {
      errors.push(`${path}.startPattern: ${(error as Error).message}`);
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
  const podMetrics = {
    intervalMs: duration(v.podMetrics?.interval, d.podMetrics.intervalMs, 'podMetrics.interval', 1000),
    timeoutMs: duration(v.podMetrics?.timeout, d.podMetrics.timeoutMs, 'podMetrics.timeout', 100),
    maxSamples: count(v.podMetrics?.maxSamples, d.podMetrics.maxSamples, 'podMetrics.maxSamples', 1),
  };
  if (podMetrics.timeoutMs > podMetrics.intervalMs) errors.push('podMetrics.timeout: must not be longer than podMetrics.interval');
  const routesFile = {
    pollIntervalMs: duration(v.routesFile?.pollInterval, d.routesFile.pollIntervalMs, 'routesFile.pollInterval', 100),
    drainTimeoutMs: duration(v.routesFile?.drainTimeout, d.routesFile.drainTimeoutMs, 'routesFile.drainTimeout', 0),
  };
  if (errors.length > 0) throw new ConfigError(source, errors);
  return { routes, multiline, queue, retry, tail, labelsFromPod, nodeMetrics, podMetrics, batch, routesFile };
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
