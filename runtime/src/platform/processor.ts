/**
 * `sextant processor`: consumes the pipeline's topics, runs the stages and writes to the
 * configured sinks — one SinkRunner (and consumer group) per sink. /readyz is false while a
 * consumer is not in its group or a sink is backing off.
 */
import { Registry } from 'prom-client';
import { retry } from '../common/backoff.js';
import type { Logger } from '../common/log.js';
import { RuntimeMetrics } from '../common/metrics.js';
import { baseApp, finishApp } from '../common/server.js';
import { createKafka } from '../bus/kafka/client.js';
import { ensureTopics } from '../bus/kafka/topics.js';
import { createProcessorMetrics } from '../processor/metrics.js';
import { buildPipeline } from '../processor/pipeline.js';
import { SinkRunner } from '../processor/runner/consumer.js';
import { createRunnerMetrics } from '../processor/runner/metrics.js';
import { connectSinks } from '../storage/index.js';
import { ConfigError } from '../common/config-error.js';
import type { RunningComponent } from './ingestion.js';
import { startListener } from './listener.js';
import { createRetentionLoop } from './retention.js';
import { electionOf, electionTopic } from './retention-election.js';
import { SecretReader } from '../common/secrets.js';
import type { RuntimeConfig } from './runtime-config.js';

export async function startProcessor(config: RuntimeConfig, log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<RunningComponent> {
  const built = buildPipeline(config.processors, 'processors');
  if (!built.ok) throw new ConfigError(config.source, built.errors);
  const secrets = new SecretReader(env);
  const kafka = createKafka(config.kafka, secrets, log);
  const { sinks: connected, clients } = connectSinks(config.sinks, secrets);
  secrets.check(config.source);

  const metrics = new RuntimeMetrics();
  const runnerMetrics = createRunnerMetrics(metrics.registry);
  const processorMetrics = createProcessorMetrics(metrics.registry);
  // Retention runs here (the processor holds the sink clients), on one replica at a time: the
  // holder of partition 0 of the first topic in the first sink's group (retention-election.ts).
  const retention = createRetentionLoop(config, clients, metrics.registry, log, false);
  const topic = electionTopic(config);
  const elect = (assignment: Record<string, number[]> | undefined): void => {
    const { elected, reason } = electionOf(assignment, topic);
    retention.setRunner(elected, reason);
  };
  // One SinkRunner, and consumer group (sextant.<ns>.<pipeline>.<sink>), per configured sink:
  // a slow or broken S3 never stalls OpenSearch. Every group runs the stages over the same
  // records: the stage counters (sextant_processor_entries_*), the DLQ of undecodable
  // records and the retention election come from the first runner only, or they would double.
  const runners = connected.map((backend, i) => {
    const first = i === 0;
    return new SinkRunner({
      kafka,
      config,
      sink: backend.createSink({ pipeline: config.pipeline, registry: metrics.registry, log: log.child({ sink: backend.name }) }),
      pipeline: built.pipeline,
      metrics: runnerMetrics,
      processorMetrics: first ? processorMetrics : createProcessorMetrics(new Registry()),
      log,
      deadLetterUndecodable: first,
      onAssignment: first ? elect : undefined,
    });
  });
  const app = baseApp(metrics, {
    notReady: () => runners.filter((r) => !r.ready()).map((r) => `sink ${r.sinkName}`),
  });
  finishApp(app, log);
  const listener = await startListener(app, config, secrets);
  // Passes begin once the first sink's consumer has joined its group and holds the election partition.
  retention.start();
  try {
    // Kafka down or refusing our credentials at start: stay up and not ready, retry and say
    // why — like an outage later on — rather than exit into a crash loop.
    await retry(() => ensureTopics(kafka, config, log), {
      policy: { initial: 1_000, max: 30_000 },
      onError: (error, delayMs) =>
        log.warn({ err: error, retryInMs: delayMs }, 'Kafka not available at start (topics not ensured); retrying'),
    });
    for (const runner of runners) await runner.start();
  } catch (error) {
    // An open listener would keep the process alive, neither working nor restarted.
    await retention.stop();
    await listener.close();
    throw error;
  }
  log.info({ url: listener.url, pipeline: config.pipeline, sinks: runners.length }, 'sextant processor: running');
  let closing: Promise<void> | undefined;
  return {
    url: listener.url,
    metrics,
    close: () =>
      (closing ??= (async () => {
        await retention.stop(); // before the sinks close the clients it uses
        // In parallel: each waits for its in-flight fetch and batch, and the S3 runner flushes.
        await Promise.all(runners.map((runner) => runner.close()));
        await listener.close();
        log.info('sextant processor: stopped (batches finished, offsets committed, group left)');
      })()),
  };
}
