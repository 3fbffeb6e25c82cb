/**
 * A kafkajs client from the runtime config: brokers, TLS (CA bundle, client cert) and SASL
 * (plain, scram) with credentials read from env/files, and kafkajs' own log lines routed
 * into our bunyan logger.
 */
import type { ConnectionOptions } from 'node:tls';
import { Kafka, logLevel, type KafkaConfig, type SASLOptions } from 'kafkajs';
import type { Logger } from '../../common/log.js';
import './request-queue-fix.js';
import type { SecretReader } from '../../common/secrets.js';
import type { KafkaSettings } from './config.js';

export function createKafka(settings: KafkaSettings, secrets: SecretReader, log: Logger): Kafka {
  const config: KafkaConfig = {
    clientId: settings.clientId,
    brokers: settings.brokers,
    connectionTimeout: 3_000,
    requestTimeout: settings.producer.requestTimeoutMs,
    // Short retries inside kafkajs: the callers (ingestion answering 503, the processor's
    // backoff loop) own the long waits, so a dead broker is noticed in seconds.
    retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 2_000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }) => {
        const { message, ...rest } = entry;
        const fields = { kafka: rest };
        if (level === logLevel.ERROR) log.warn(fields, `kafka: ${message}`);
        else if (level === logLevel.WARN) log.info(fields, `kafka: ${message}`);
        else log.debug(fields, `kafka: ${message}`);
      },
  };
  if (settings.tls) {
    const tls: ConnectionOptions = { rejectUnauthorized: !settings.tls.insecureSkipVerify };
    const ca = secrets.readFile(settings.tls.caFile, 'kafka.tls.caFile');
    const cert = secrets.readFile(settings.tls.certFile, 'kafka.tls.certFile');
    const key = secrets.readFile(settings.tls.keyFile, 'kafka.tls.keyFile');
    if (ca) tls.ca = [ca];
    if (cert) tls.cert = cert;
    if (key) tls.key = key;
    config.ssl = tls;
  }
  if (settings.sasl) {
    const username = secrets.read(settings.sasl.username, 'kafka.sasl.username') ?? '';
    const password = secrets.read(settings.sasl.password, 'kafka.sasl.password') ?? '';
    config.sasl = { mechanism: settings.sasl.mechanism, username, password } as SASLOptions;
  }
  return new Kafka(config);
}
