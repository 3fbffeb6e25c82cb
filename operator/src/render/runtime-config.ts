/**
 * Pipeline (+ its Sinks and RetentionPolicy) → the runtime config document
 * (runtime/src/platform/runtime-config.ts) and the Secret wiring it needs. Secrets never
 * enter the document: a value becomes `{env: NAME}` fed by a secretKeyRef, a file (CA
 * bundle, client certificate) becomes a path under /etc/sextant-secrets fed by a Secret
 * volume. Each wire records which components need it, so a Deployment only gets the
 * Secrets its runtime reads (the query never sees Kafka credentials, ingestion never sees
 * sink credentials).
 */
import { OPENSEARCH_BULK_DEFAULTS } from '../../../runtime/src/platform/index.js';
import { retentionSeconds } from '../api/duration.js';
import { InvalidSpecError, type Pipeline, type RetentionPolicy, type Sink } from '../api/v1alpha1.js';
import { HTTP_PORT, indexPrefix, SECRETS_DIR, type Component } from './common.js';

/** An env variable read from a Secret key. */
export interface SecretEnv {
  name: string;
  secretName: string;
  key: string;
  components: readonly Component[];
}

/** A Secret mounted as files (only the listed keys). */
export interface SecretMount {
  volumeName: string;
  secretName: string;
  mountPath: string;
  keys: string[];
  components: readonly Component[];
}

export interface RuntimeConfigParts {
  document: Record<string, unknown>;
  env: SecretEnv[];
  mounts: SecretMount[];
}

const KAFKA_USERS: readonly Component[] = ['ingestion', 'processor'];
const SINK_USERS: readonly Component[] = ['processor', 'query'];
const API_KEY_USERS: readonly Component[] = ['ingestion', 'query'];

export function renderRuntimeConfig(
  pipeline: Pipeline,
  hotSink: Sink | undefined,
  coldSink: Sink | undefined,
  retention: RetentionPolicy | undefined,
): RuntimeConfigParts {
  const spec = pipeline.spec;
  const env: SecretEnv[] = [];
  const mounts: SecretMount[] = [];
  const mount = (volumeName: string, secretName: string, keys: string[], components: readonly Component[]): string => {
    const mountPath = `${SECRETS_DIR}/${volumeName}`;
    mounts.push({ volumeName, secretName, mountPath, keys, components });
    return mountPath;
  };
  const fromSecret = (name: string, secretName: string, key: string, components: readonly Component[]) => {
    env.push({ name, secretName, key, components });
    return { env: name };
  };

  const http = spec.sources.http;
  const auth = { apiKeys: fromSecret('SEXTANT_API_KEYS', http.apiKeysSecretRef.name, http.apiKeysSecretRef.key, API_KEY_USERS) };

  const k = spec.kafka;
  const kafka: Record<string, unknown> = {
    brokers: k.brokers,
    clientId: `sextant-${pipeline.metadata.namespace}-${pipeline.metadata.name}`,
    topics: { partitions: k.partitions, replicationFactor: k.replicationFactor },
    compression: k.compression,
  };
  if (k.tls) {
    const tls: Record<string, unknown> = {};
    if (k.tls.caSecretRef) {
      const dir = mount('kafka-ca', k.tls.caSecretRef.name, [k.tls.caSecretRef.key], KAFKA_USERS);
      tls.caFile = `${dir}/${k.tls.caSecretRef.key}`;
    }
    if (k.tls.clientCertSecretRef) {
      const dir = mount('kafka-client-cert', k.tls.clientCertSecretRef.name, ['tls.crt', 'tls.key'], KAFKA_USERS);
      tls.certFile = `${dir}/tls.crt`;
      tls.keyFile = `${dir}/tls.key`;
    }
    kafka.tls = tls;
  }
  if (k.sasl) {
    const ref = k.sasl.credentialsSecretRef;
    kafka.sasl = {
      mechanism: k.sasl.mechanism,
      username: fromSecret('KAFKA_USERNAME', ref.name, ref.usernameKey, KAFKA_USERS),
      password: fromSecret('KAFKA_PASSWORD', ref.name, ref.passwordKey, KAFKA_USERS),
    };
  }

  const sinks: Record<string, unknown> = {};
  const hotRef = spec.sinks.hot.sinkRef.name;
  if (hotSink === undefined)
    throw new InvalidSpecError('SinkNotFound', `sink "${hotRef}" (spec.sinks.hot) not found in namespace ${pipeline.metadata.namespace}`);
  const os = hotSink.spec.opensearch;
  if (os === undefined) {
    throw new InvalidSpecError(
      'SinkBackendMismatch',
      `sink "${hotRef}" (spec.sinks.hot) has an s3 backend; the hot tier needs an opensearch backend`,
    );
  }
  const opensearch: Record<string, unknown> = {
    endpoints: os.endpoints,
    indexPrefix: indexPrefix(os.indexPrefix, pipeline),
    insecureSkipVerify: os.tls?.insecureSkipVerify ?? false,
    bulk: {
      maxDocs: os.bulk?.maxDocs ?? OPENSEARCH_BULK_DEFAULTS.maxDocs,
      maxBytes: os.bulk?.maxBytes ?? OPENSEARCH_BULK_DEFAULTS.maxBytes,
    },
  };
  if (os.credentialsSecretRef) {
    const ref = os.credentialsSecretRef;
    opensearch.username = fromSecret('OPENSEARCH_USERNAME', ref.name, ref.usernameKey, SINK_USERS);
    opensearch.password = fromSecret('OPENSEARCH_PASSWORD', ref.name, ref.passwordKey, SINK_USERS);
  }
  if (os.tls?.caSecretRef) {
    const dir = mount('opensearch-ca', os.tls.caSecretRef.name, [os.tls.caSecretRef.key], SINK_USERS);
    opensearch.caFile = `${dir}/${os.tls.caSecretRef.key}`;
  }
  sinks.opensearch = opensearch;

  if (spec.sinks.cold) {
    const coldRef = spec.sinks.cold.sinkRef.name;
    if (coldSink === undefined)
      throw new InvalidSpecError(
        'SinkNotFound',
        `sink "${coldRef}" (spec.sinks.cold) not found in namespace ${pipeline.metadata.namespace}`,
      );
    const s3 = coldSink.spec.s3;
    if (s3 === undefined) {
      throw new InvalidSpecError(
        'SinkBackendMismatch',
        `sink "${coldRef}" (spec.sinks.cold) has an opensearch backend; the cold tier needs an s3 backend`,
      );
    }
    const s3Section: Record<string, unknown> = {
      bucket: s3.bucket,
      region: s3.region,
      prefix: s3.prefix,
      ...(s3.endpoint !== undefined ? { endpoint: s3.endpoint } : {}),
      forcePathStyle: s3.forcePathStyle,
      requestChecksumCalculation: s3.requestChecksumCalculation,
    };
    if (s3.credentialsSecretRef) {
      const ref = s3.credentialsSecretRef;
      s3Section.accessKeyId = fromSecret('S3_ACCESS_KEY_ID', ref.name, ref.accessKeyIdKey, SINK_USERS);
      s3Section.secretAccessKey = fromSecret('S3_SECRET_ACCESS_KEY', ref.name, ref.secretAccessKeyKey, SINK_USERS);
    }
    if (s3.flush) s3Section.flush = { maxBytes: s3.flush.maxBytes, maxAge: s3.flush.maxAge, maxRecords: s3.flush.maxRecords };
    sinks.s3 = s3Section;
  }

  let retentionSection: Record<string, unknown> | undefined;
  if (spec.retentionPolicyRef) {
    if (retention === undefined) {
      throw new InvalidSpecError(
        'RetentionPolicyNotFound',
        `retention policy "${spec.retentionPolicyRef.name}" (spec.retentionPolicyRef) not found in namespace ${pipeline.metadata.namespace}`,
      );
    }
    retentionSection = {};
    for (const signal of ['logs', 'metrics'] as const) {
      const tier = retention.spec[signal];
      if (tier === undefined || !spec.signals.includes(signal)) continue;
      retentionSection[signal] = { ...(tier.hot ? { hot: tier.hot } : {}), ...(tier.cold ? { cold: tier.cold } : {}) };
    }
  }

  const limits: Record<string, number> = {};
  const l = spec.limits ?? {};
  for (const key of [
    'maxLabels',
    'maxLabelNameLength',
    'maxLabelValueLength',
    'maxLineBytes',
    'maxFieldsDepth',
    'maxFieldsKeys',
  ] as const) {
    if (l[key] !== undefined) limits[key] = l[key];
  }
  if (l.maxFutureSkew !== undefined) limits.maxFutureSkewMs = retentionSeconds(l.maxFutureSkew)! * 1000;
  if (l.maxPastAge !== undefined) limits.maxPastAgeMs = retentionSeconds(l.maxPastAge)! * 1000;

  // Only what the Pipeline sets: the runtime's defaults are Loki's, and a default rendered here would pin it.
  const logDiscovery = Object.fromEntries(Object.entries(spec.logDiscovery ?? {}).filter(([, v]) => v !== undefined));

  const document: Record<string, unknown> = {
    pipeline: { namespace: pipeline.metadata.namespace, name: pipeline.metadata.name },
    signals: spec.signals,
    http: { host: '0.0.0.0', port: HTTP_PORT },
    auth,
    kafka,
    processors: spec.processors,
    sinks,
    limits,
    rateLimit: { requestsPerSecond: http.rateLimit?.requestsPerSecond ?? 200, burst: http.rateLimit?.burst ?? 400 },
    ...(http.maxBodyBytes !== undefined ? { maxBodyBytes: http.maxBodyBytes } : {}),
    ...(Object.keys(logDiscovery).length > 0 ? { logDiscovery } : {}),
    ...(retentionSection ? { retention: retentionSection } : {}),
  };
  return { document, env, mounts };
}
