/** Creates the pipeline's topics (one per signal, plus the DLQ) with the admin client; idempotent. */
import type { Kafka } from 'kafkajs';
import type { Logger } from '../../common/log.js';
import type { RuntimeConfig } from '../../platform/runtime-config.js';
import { topicName } from '../../platform/runtime-config.js';

export function pipelineTopics(config: Pick<RuntimeConfig, 'pipeline' | 'signals'>): string[] {
  return [...config.signals.map((s) => topicName(config, s)), topicName(config, 'dlq')];
}

export async function ensureTopics(kafka: Kafka, config: RuntimeConfig, log: Logger): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const wanted = pipelineTopics(config);
    const existing = new Set(await admin.listTopics());
    const missing = wanted.filter((t) => !existing.has(t));
    if (missing.length === 0) return;
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({
        topic,
        numPartitions: config.kafka.topics.partitions,
        replicationFactor: config.kafka.topics.replicationFactor,
      })),
    });
    log.info({ topics: missing, partitions: config.kafka.topics.partitions }, 'created Kafka topics');
  } finally {
    await admin.disconnect();
  }
}
