/**
 * BENCH ONLY — not used by any runtime. The candidate Kafka client of issue 11,
 * @platformatic/kafka, behind the part of the kafkajs Producer that the ingestion's KafkaBus
 * uses (connect, sendBatch, disconnect), so `ingest-kafka --clients kafkajs,platformatic`
 * measures the two clients under the same bus: the same coalescing, byte bounds, codec and
 * HTTP path, only the wire client differs. Same guarantees as the bus asks of kafkajs:
 * idempotent producer, acks=all, Java-compatible murmur2 key partitioning (records land on
 * the partitions kafkajs would pick), no topic auto-creation.
 */
import {
  CompressionAlgorithms,
  compatibilityPartitioner,
  ProduceAcks,
  Producer as PlatformaticProducer,
  stringSerializers,
  type MessageToProduce,
} from '@platformatic/kafka';
import type { Message, ProducerBatch } from 'kafkajs';

type Record = MessageToProduce<string, string, string, string>;

export class PlatformaticProducerAdapter {
  private readonly producer: PlatformaticProducer<string, string, string, string>;

  constructor(brokers: string[], clientId: string, requestTimeoutMs: number) {
    this.producer = new PlatformaticProducer({
      clientId,
      bootstrapBrokers: brokers,
      serializers: stringSerializers,
      idempotent: true,
      acks: ProduceAcks.ALL,
      autocreateTopics: false,
      partitioner: compatibilityPartitioner,
      timeout: requestTimeoutMs,
      retries: 3,
    });
  }

  /** Connects and registers the idempotent producer id, as kafkajs' connect() does. */
  async connect(): Promise<void> {
    await this.producer.initIdempotentProducer({});
  }

  async sendBatch(batch: ProducerBatch): Promise<void> {
    const messages: Record[] = [];
    for (const { topic, messages: list } of batch.topicMessages ?? []) for (const m of list) messages.push(toRecord(topic, m));
    await this.producer.send({
      messages,
      acks: ProduceAcks.ALL,
      compression: Number(batch.compression) === 1 ? CompressionAlgorithms.GZIP : CompressionAlgorithms.NONE,
    });
  }

  async disconnect(): Promise<void> {
    await this.producer.close();
  }
}

/** The bus's records have string keys, string values and string headers (codec.ts). */
function toRecord(topic: string, m: Message): Record {
  return {
    topic,
    key: m.key as string,
    value: m.value as string,
    headers: m.headers as { [k: string]: string },
  };
}
