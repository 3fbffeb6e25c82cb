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
import { createOpenSearchClient, OpenSearchSink } from '../storage/opensearch/sink.js';
import { createS3SinkMetrics } from '../storage/s3/metrics.js';
import { S3Sink } from '../storage/s3/sink.js';
import { createS3Client, S3ObjectStore } from '../storage/s3/store.js';
import { ConfigError } from '../common/config-error.js';
import type { RunningComponent } from './ingestion.js';
import { startListener } from './listener.js';
import { createRetentionLoop } from './retention.js';
import { electionOf, electionTopic } from './retention-election.js';
import { SecretReader, type RuntimeConfig } from './runtime-config.js';

export async function startProcessor(config: RuntimeConfig, log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<RunningComponent> {
  const built = buildPipeline(config.processors, 'processors');
  if (!built.ok) throw new ConfigError(config.source, built.errors);
  const secrets = new SecretReader(env);
  const kafka = createKafka(config.kafka, secrets, log);
  const opensearch = config.sinks.opensearch;
  const client = opensearch ? createOpenSearchClient(opensearch, secrets) : undefined;
  const s3 = config.sinks.s3;
  const s3Client = s3 ? createS3Client(s3, secrets) : undefined;
  secrets.check(config.source);

  const metrics = new RuntimeMetrics();
  const runnerMetrics = createRunnerMetrics(metrics.registry);
  const processorMetrics = createProcessorMetrics(metrics.registry);
  // Retention runs here (the processor holds the sink clients), on one replica at a time: the
  // holder of partition 0 of the first topic in the first sink's group (retention-election.ts).
  const retention = createRetentionLoop(config, { opensearch: client, s3: s3Client }, metrics.registry, log, false);
  const topic = electionTopic(config);
  const elect = (assignment: Record<string, number[]> | undefined): void => {
    const { elected, reason } = electionOf(assignment, topic);
    retention.setRunner(elected, reason);
  };
  const runners: SinkRunner[] = [];
  if (opensearch && client) {
    const sink = new OpenSearchSink(client, opensearch, log.child({ sink: 'opensearch' }));
    runners.push(
      new SinkRunner({ kafka, config, sink, pipeline: built.pipeline, metrics: runnerMetrics, processorMetrics, log, onAssignment: elect }),
    );
  }
  if (s3 && s3Client) {
    // Its own consumer group (sextant.<ns>.<pipeline>.s3): a slow or broken S3 never stalls OpenSearch.
    const sink = new S3Sink({
      store: new S3ObjectStore(s3Client, s3.bucket, s3.multipart),
      settings: s3,
      pipeline: config.pipeline,
      metrics: createS3SinkMetrics(metrics.registry),
      log: log.child({ sink: 's3' }),
    });
    // Every sink group runs the stages over the same records: the stage counters
    // (sextant_processor_entries_*) and the DLQ of undecodable records come from the first
    // runner only, or they would double.
    const first = runners.length === 0;
    const stageMetrics = first ? processorMetrics : createProcessorMetrics(new Registry());
    runners.push(
      new SinkRunner({
        kafka,
        config,
        sink,
        pipeline: built.pipeline,
        metrics: runnerMetrics,
        processorMetrics: stageMetrics,
        log,
        deadLetterUndecodable: first,
        onAssignment: first ? elect : undefined,
      }),
    );
  }
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
