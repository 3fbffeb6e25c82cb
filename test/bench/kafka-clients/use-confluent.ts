/**
 * BENCH ONLY, and optional. Preloaded into a `sextant ingestion` process by the ingest-kafka
 * bench (`--clients ...,confluent`) to make the KafkaBus produce through
 * @confluentinc/kafka-javascript (librdkafka) in its KafkaJS-compatible mode. That package is
 * not a dependency of the project: its install downloads a prebuilt binary (unreachable
 * here) or compiles librdkafka from source (~2 CPU-minutes, system dev packages), too much
 * for every `npm ci`. Build it once outside the tree and name the folder holding its
 * node_modules in BENCH_CKJS_DIR (docs/benchmarks.md, set 7, says how). Settings as the bus
 * asks of kafkajs: idempotent producer, acks=all, no topic auto-creation; the send options
 * kafkajs takes per call (acks, timeout, compression) are producer settings there.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { Kafka } from 'kafkajs';
import type { ProducerBatch } from 'kafkajs';

const brokers = (process.env.BENCH_KAFKA_BROKERS ?? '').split(',').filter(Boolean);
const dir = process.env.BENCH_CKJS_DIR;
if (brokers.length === 0 || !dir) throw new Error('use-confluent: BENCH_KAFKA_BROKERS and BENCH_CKJS_DIR must be set');

interface CompatProducer {
  connect(): Promise<void>;
  sendBatch(batch: ProducerBatch): Promise<unknown>;
  disconnect(): Promise<void>;
}
interface CompatKafka {
  producer(config: object): CompatProducer;
}
const ckjs = createRequire(path.join(path.resolve(dir), 'package.json'))('@confluentinc/kafka-javascript') as {
  KafkaJS: { Kafka: new (config: object) => CompatKafka };
  librdkafkaVersion: string;
};

const client = new ckjs.KafkaJS.Kafka({ kafkaJS: { brokers, clientId: 'sextant-bench-confluent' } });
(Kafka.prototype as unknown as { producer: () => unknown }).producer = () => {
  const producer = client.producer({ kafkaJS: { idempotent: true, acks: -1, allowAutoTopicCreation: false } });
  return {
    connect: () => producer.connect(),
    sendBatch: ({ topicMessages }: ProducerBatch) => producer.sendBatch({ topicMessages }),
    disconnect: () => producer.disconnect(),
  };
};
process.stderr.write(
  `ingest-kafka bench: the KafkaBus produces through @confluentinc/kafka-javascript (librdkafka ${ckjs.librdkafkaVersion})\n`,
);
