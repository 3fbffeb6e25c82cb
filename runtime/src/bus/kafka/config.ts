/**
 * The `kafka` section of the runtime config: brokers, topics, the producer's app-level
 * batching, the consumer group, TLS and SASL. Defaults are written once, in the codec.
 */
import * as t from 'io-ts';
import { closed, NonEmptyString, optional, PositiveInt, section, withDefault } from '../../common/codecs.js';
import { SecretRef } from '../../common/secrets.js';

export const TlsClient = closed('TLS settings', {
  /** PEM bundle of the CAs to trust (default: the system's). */
  caFile: optional(NonEmptyString),
  /** Client certificate and key for mutual TLS. */
  certFile: optional(NonEmptyString),
  keyFile: optional(NonEmptyString),
  /** Only for tests: accepts any server certificate. */
  insecureSkipVerify: withDefault(t.boolean, false),
});

export const KafkaConfig = closed(
  'kafka',
  {
    brokers: t.array(NonEmptyString, 'list of host:port'),
    clientId: withDefault(NonEmptyString, 'sextant'),
    topics: section(
      closed('topic settings', {
        partitions: withDefault(PositiveInt, 6),
        replicationFactor: withDefault(PositiveInt, 1),
      }),
    ),
    compression: withDefault(t.keyof({ none: null, gzip: null }, '"none" or "gzip"'), 'none'),
    /** App-level batching of the producer (kafkajs batches nothing itself). */
    producer: section(
      closed('producer settings', {
        lingerMs: withDefault(t.number, 5),
        maxBatchRecords: withDefault(PositiveInt, 10_000),
        /** Below the broker's message.max.bytes (1 MiB by default): a partition's records go out as one batch. */
        maxBatchBytes: withDefault(PositiveInt, 1_000_000),
        requestTimeoutMs: withDefault(PositiveInt, 10_000),
      }),
    ),
    /** Consumer group settings of the processor. A killed member is noticed after sessionTimeoutMs. */
    consumer: section(
      closed('consumer settings', {
        sessionTimeoutMs: withDefault(PositiveInt, 30_000),
        heartbeatIntervalMs: withDefault(PositiveInt, 3_000),
        /**
         * Partitions whose fetched batches are decoded and queued at once. OpenSearch writes
         * merge every partition's records into bulks of bulk.maxDocs (two in flight), each
         * partition committing once all its records are acknowledged. S3 takes one at a time.
         */
        concurrency: withDefault(PositiveInt, 3),
      }),
    ),
    tls: optional(TlsClient),
    sasl: optional(
      closed('SASL settings', {
        mechanism: t.keyof({ plain: null, 'scram-sha-256': null, 'scram-sha-512': null }, '"plain", "scram-sha-256" or "scram-sha-512"'),
        username: SecretRef,
        password: SecretRef,
      }),
    ),
  },
  (v) => [
    ...(v.brokers.length === 0 ? [{ key: 'brokers', message: 'must list at least one broker' }] : []),
    ...(v.consumer.heartbeatIntervalMs * 3 > v.consumer.sessionTimeoutMs
      ? [{ key: 'consumer', message: 'heartbeatIntervalMs must be at most a third of sessionTimeoutMs' }]
      : []),
  ],
);

export type KafkaSettings = t.TypeOf<typeof KafkaConfig>;
