/**
 * `sextant ingestion`: the HTTP ingestion API in front of the Kafka bus. A 2xx is sent only
 * after Kafka acknowledged (acks=all); while Kafka is down, /readyz is false and ingestion
 * answers 503 + Retry-After, and it recovers by itself.
 */
import type { Logger } from '../common/log.js';
import { RuntimeMetrics } from '../common/metrics.js';
import { baseApp, finishApp } from '../common/server.js';
import { createKafka } from '../bus/kafka/client.js';
import { KafkaBus } from '../bus/kafka/kafka-bus.js';
import { createKafkaBusMetrics } from '../bus/kafka/metrics.js';
import { ingestionRouter } from '../ingestion/app.js';
import { ApiKeys } from '../ingestion/auth.js';
import { ConfigError } from '../common/config-error.js';
import { startListener } from './listener.js';
import { SecretReader } from '../common/secrets.js';
import { parseApiKeys, type RuntimeConfig } from './runtime-config.js';

export interface RunningComponent {
  url: string;
  metrics: RuntimeMetrics;
  /** Graceful stop: stop accepting, finish in-flight work, disconnect. */
  close(): Promise<void>;
}

export async function startIngestion(config: RuntimeConfig, log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<RunningComponent> {
  const secrets = new SecretReader(env);
  const keys = parseApiKeys(secrets.read(config.auth.apiKeys, 'auth.apiKeys'));
  const kafka = createKafka(config.kafka, secrets, log);
  secrets.check(config.source);
  if (keys.length === 0) throw new ConfigError(config.source, ['auth.apiKeys: no API key found (comma- or newline-separated)']);

  const metrics = new RuntimeMetrics();
  const bus = new KafkaBus({ kafka, config, metrics: createKafkaBusMetrics(metrics.registry), log });
  bus.start();
  const app = baseApp(metrics, { notReady: () => (bus.ready() ? [] : ['kafka']) });
  app.use(
    ingestionRouter({
      bus,
      keys: new ApiKeys(keys),
      limits: config.limits,
      rateLimit: config.rateLimit,
      maxBodyBytes: config.maxBodyBytes,
      discovery: config.logDiscovery,
      metrics,
      log,
    }),
  );
  finishApp(app, log);
  const listener = await startListener(app, config, secrets);
  log.info({ url: listener.url, pipeline: config.pipeline, brokers: config.kafka.brokers }, 'sextant ingestion: listening');
  let closing: Promise<void> | undefined;
  return {
    url: listener.url,
    metrics,
    close: () =>
      (closing ??= (async () => {
        await listener.close();
        await bus.close();
        log.info('sextant ingestion: stopped');
      })()),
  };
}
