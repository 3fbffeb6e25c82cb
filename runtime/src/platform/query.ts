/**
 * `sextant query`: the native, Prometheus and Loki HTTP APIs (the same routers as `sextant
 * up`) over the tiered reader — OpenSearch for the hot window, S3 beyond it. /readyz is
 * false while OpenSearch is unreachable (the probe runs every few seconds); an unreachable S3
 * shows in sextant_query_backend_up and makes cold queries answer 503, but leaves the
 * runtime ready, since every replica depends on the same bucket.
 */
import client from 'prom-client';
import type { Logger } from '../common/log.js';
import { RuntimeMetrics } from '../common/metrics.js';
import { baseApp, finishApp } from '../common/server.js';
import { ApiKeys, requireApiKey } from '../ingestion/auth.js';
import { attachLokiTail } from '../query/api/loki-tail.js';
import { queryRouters } from '../query/api/routers.js';
import { workerEngine } from '../query/limits/engine.js';
import { queryLimits } from '../query/limits/config.js';
import { OpenSearchReader } from '../storage/opensearch/reader.js';
import { S3ColdReader } from '../storage/s3/reader.js';
import { S3ObjectStore } from '../storage/s3/store.js';
import { BACKENDS } from '../storage/index.js';
import { TieredReader } from '../storage/tiered/reader.js';
import { ConfigError } from '../common/config-error.js';
import type { RunningComponent } from './ingestion.js';
import { startListener } from './listener.js';
import { SecretReader } from '../common/secrets.js';
import { hotWindows, parseApiKeys, type RuntimeConfig } from './runtime-config.js';

/** How often the backends are probed for /readyz and sextant_query_backend_up. */
const PROBE_INTERVAL_MS = 2_000;

export async function startQuery(config: RuntimeConfig, log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<RunningComponent> {
  const opensearch = config.sinks.opensearch;
  if (!opensearch) throw new ConfigError(config.source, ['sinks.opensearch: required by the query']);
  const secrets = new SecretReader(env);
  const keys = parseApiKeys(secrets.read(config.auth.apiKeys, 'auth.apiKeys'));
  const osClient = BACKENDS.opensearch.connect(opensearch, secrets);
  const s3 = config.sinks.s3;
  const s3Client = s3 ? BACKENDS.s3.connect(s3, secrets) : undefined;
  secrets.check(config.source);
  if (keys.length === 0) throw new ConfigError(config.source, ['auth.apiKeys: no API key found (comma- or newline-separated)']);

  const hot = new OpenSearchReader({ client: osClient, indexPrefix: opensearch.indexPrefix });
  const cold =
    s3 && s3Client
      ? new S3ColdReader({
          store: new S3ObjectStore(s3Client, s3.bucket, s3.multipart),
          prefix: s3.prefix,
          namespace: config.pipeline.namespace,
          pipeline: config.pipeline.name,
        })
      : undefined;
  const windows = hotWindows(config);
  const reader = new TieredReader({ hot, ...(cold ? { cold } : {}), hotWindowMs: windows });
  for (const problem of windowProblems(config, windows)) log.warn({ hotWindowMs: windows }, problem);

  const metrics = new RuntimeMetrics();
  const backendUp = new client.Gauge({
    name: 'sextant_query_backend_up',
    help: 'Whether the last probe of a storage backend succeeded (1) or not (0), by backend.',
    labelNames: ['backend'] as const,
    registers: [metrics.registry],
  });
  const up = { opensearch: false, s3: cold !== undefined };
  const probe = async () => {
    const [os, bucket] = await Promise.all([hot.ping(), cold ? cold.ping() : Promise.resolve(true)]);
    if (os !== up.opensearch)
      log[os ? 'info' : 'warn']({ backend: 'opensearch' }, os ? 'OpenSearch is reachable' : 'OpenSearch is unreachable');
    if (cold && bucket !== up.s3) log[bucket ? 'info' : 'warn']({ backend: 's3' }, bucket ? 'S3 is reachable' : 'S3 is unreachable');
    up.opensearch = os;
    up.s3 = bucket;
    backendUp.set({ backend: 'opensearch' }, os ? 1 : 0);
    if (cold) backendUp.set({ backend: 's3' }, bucket ? 1 : 0);
  };
  await probe();
  let probing = false;
  const timer = setInterval(() => {
    if (probing) return;
    probing = true;
    void probe().finally(() => (probing = false));
  }, PROBE_INTERVAL_MS);
  timer.unref();

  const app = baseApp(metrics, { notReady: () => (up.opensearch ? [] : ['opensearch']) });
  const engine = workerEngine(reader, queryLimits(config.query), log, metrics.registry);
  const routers = queryRouters({ reader, metrics, log, engine, logDiscovery: config.logDiscovery });
  const apiKeys = new ApiKeys(keys);
  app.use(['/api/v1', '/loki/api/v1'], requireApiKey(apiKeys));
  app.use('/api/v1', routers.native, routers.prometheus);
  app.use('/loki/api/v1', routers.loki);
  finishApp(app, log);
  const listener = await startListener(app, config, secrets);
  const tail = attachLokiTail(listener.server, { keys: apiKeys, engine, log });
  log.info(
    {
      url: listener.url,
      pipeline: config.pipeline,
      indexPrefix: opensearch.indexPrefix,
      cold: s3 ? { bucket: s3.bucket, prefix: s3.prefix } : undefined,
      hotWindowMs: windows,
    },
    'sextant query: listening',
  );
  let closing: Promise<void> | undefined;
  return {
    url: listener.url,
    metrics,
    close: () =>
      (closing ??= (async () => {
        clearInterval(timer);
        tail.close();
        await listener.close();
        await engine.close();
        await osClient.close();
        s3Client?.destroy();
        log.info('sextant query: stopped');
      })()),
  };
}

/**
 * Settings under which some data would be in neither tier the query reads: OpenSearch
 * deleting inside the hot window, or S3 not yet holding what has just left it.
 */
export function windowProblems(config: RuntimeConfig, windows: { logs: number; metrics: number }): string[] {
  const problems: string[] = [];
  for (const signal of ['logs', 'metrics'] as const) {
    const hot = config.retention[signal]?.hot ?? 0;
    if (hot > 0 && windows[signal] > hot) {
      problems.push(`query.hotWindow is longer than retention.${signal}.hot: ${signal} that OpenSearch has deleted is not read from S3`);
    }
    const s3 = config.sinks.s3;
    if (s3 && s3.flush.maxAge >= windows[signal]) {
      problems.push(
        `sinks.s3.flush.maxAge is not shorter than the hot window: the newest cold ${signal} may not be in S3 yet when queried there`,
      );
    }
  }
  return problems;
}
