/**
 * `sextant up`: ingestion + processor + query in one process on one port, with the
 * embedded bus and SQLite storage. Also what the integration tests and benchmarks start.
 */
import type http from 'node:http';
import type { Logger } from '../common/log.js';
import { RuntimeMetrics } from '../common/metrics.js';
import { baseApp, boundPort, finishApp, listen } from '../common/server.js';
import { ApiKeys, requireApiKey } from '../ingestion/auth.js';
import { ingestionRouter } from '../ingestion/app.js';
import { EmbeddedProcessor } from '../processor/embedded.js';
import { createProcessorMetrics } from '../processor/metrics.js';
import { buildPipeline, type Pipeline } from '../processor/pipeline.js';
import { Stages } from '../processor/process.js';
import { attachLokiTail } from '../query/api/loki-tail.js';
import { queryRouters } from '../query/api/routers.js';
import { workerEngine } from '../query/limits/engine.js';
import { RetentionSweeper } from '../storage/sqlite/retention.js';
import { SqliteSink } from '../storage/sqlite/sink.js';
import { SqliteStore, type SyncMode } from '../storage/sqlite/store.js';
import { EmbeddedBus } from '../bus/embedded/embedded-bus.js';
import { ConfigError } from '../common/config-error.js';
import { siblingModule } from '../common/sibling-module.js';
import type { EmbeddedConfig } from './embedded-config.js';

export interface EmbeddedOptions {
  host: string;
  port: number;
  dataDir: string;
  sync: SyncMode;
  apiKeys: string[];
  config: EmbeddedConfig;
  log: Logger;
}

export interface RunningPlatform {
  server: http.Server;
  port: number;
  store: SqliteStore;
  metrics: RuntimeMetrics;
  /** Graceful stop: no new connections, in-flight requests finish, store closed. */
  close(): Promise<void>;
}

/**
 * The embedded bus with its receiving side: the stages (the distributed processor's code)
 * and the SQLite sink, one transaction per event-loop turn.
 */
export function createEmbeddedBus(options: { store: SqliteStore; pipeline: Pipeline; metrics: RuntimeMetrics; log: Logger }): EmbeddedBus {
  const { store, pipeline, metrics, log } = options;
  const processor = new EmbeddedProcessor({
    stages: new Stages(pipeline, createProcessorMetrics(metrics.registry), log),
    sink: new SqliteSink(store, metrics),
    metrics,
    log,
  });
  return new EmbeddedBus({ deliver: (batch) => processor.deliver(batch), ready: () => store.db.open });
}

export async function startEmbedded(options: EmbeddedOptions): Promise<RunningPlatform> {
  const { log, config } = options;
  const built = buildPipeline(config.processors, 'processors');
  if (!built.ok) throw new ConfigError('processors', built.errors);
  const metrics = new RuntimeMetrics();
  const store = new SqliteStore({ dataDir: options.dataDir, sync: options.sync });
  const bus = createEmbeddedBus({ store, pipeline: built.pipeline, metrics, log });
  const retention = new RetentionSweeper(store, config.retention, metrics, log);
  const keys = new ApiKeys(options.apiKeys);

  const app = baseApp(metrics, { notReady: () => (bus.ready() ? [] : ['storage']) });
  app.use(
    ingestionRouter({
      bus,
      keys,
      limits: config.limits,
      rateLimit: config.rateLimit,
      maxBodyBytes: config.maxBodyBytes,
      discovery: config.logDiscovery,
      metrics,
      log,
    }),
  );
  // Queries evaluate in worker threads under their limits: ingestion and /healthz share this loop.
  // Each worker reads SQLite on its own connection: a large read blocks that thread, not this one.
  const threadReader =
    options.dataDir === ':memory:'
      ? undefined
      : { module: siblingModule(import.meta.url, '../storage/sqlite/thread-reader'), options: { dataDir: options.dataDir } };
  const engine = workerEngine(store, config.query, log, metrics.registry, threadReader);
  const routers = queryRouters({ reader: store, metrics, log, engine, logDiscovery: config.logDiscovery });
  app.use(['/api/v1', '/loki/api/v1'], requireApiKey(keys));
  app.use('/api/v1', routers.native, routers.prometheus);
  app.use('/loki/api/v1', routers.loki);
  finishApp(app, log);

  const server = await listen(app, options.port, options.host);
  const tail = attachLokiTail(server, { keys, engine, log });
  retention.start();
  const port = boundPort(server);
  const counts = store.counts();
  log.info(
    { host: options.host, port, dataDir: options.dataDir, sync: options.sync, retention: config.retention, ...counts },
    'sextant up: listening',
  );

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      tail.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      retention.stop();
      await engine.close();
      await bus.close();
      store.close();
      log.info('sextant up: stopped');
    })());
  return { server, port, store, metrics, close };
}
