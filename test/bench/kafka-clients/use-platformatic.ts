/**
 * BENCH ONLY. Preloaded into a `sextant ingestion` process by the ingest-kafka bench
 * (NODE_OPTIONS=--import=<dist>/test/bench/kafka-clients/use-platformatic.js) to make the
 * KafkaBus produce through @platformatic/kafka instead of kafkajs; the runtime's code is not
 * changed. Admin calls (topic creation, health checks) stay on kafkajs: they are not timed.
 * BENCH_KAFKA_BROKERS names the brokers (the bench runs plaintext, no TLS/SASL).
 */
import { Kafka } from 'kafkajs';
import { PlatformaticProducerAdapter } from './platformatic-producer.js';

const brokers = (process.env.BENCH_KAFKA_BROKERS ?? '').split(',').filter(Boolean);
if (brokers.length === 0) throw new Error('use-platformatic: BENCH_KAFKA_BROKERS is not set');

// The adapter implements only what KafkaBus calls on a producer (connect, sendBatch, disconnect).
(Kafka.prototype as unknown as { producer: () => unknown }).producer = () =>
  new PlatformaticProducerAdapter(brokers, 'sextant-bench-platformatic', 10_000);
process.stderr.write('ingest-kafka bench: the KafkaBus produces through @platformatic/kafka\n');
