/**
 * Ensures a Pipeline's Kafka topics exist before its runtimes need them, with the runtime's
 * own client settings (runtime/src/bus/kafka). The rendered runtime config names its secrets
 * as env variables and files of the runtime pod; the operator resolves those from the pod
 * template of the rendered Deployment (env valueFrom.secretKeyRef, secret volumes) and the
 * Secrets in its cache, so SASL/TLS work exactly as the runtimes will use them.
 *
 * Topics known to exist are remembered for `rememberMs`, so steady-state reconciles do not
 * open a Kafka connection at all. A broker that does not answer within `timeoutMs` is
 * KafkaUnavailable: the caller marks the Pipeline degraded and retries with backoff.
 */
import type * as k8s from '@kubernetes/client-node';
import { createKafka } from '../../../runtime/src/bus/kafka/index.js';
import { ensureTopics, pipelineTopics } from '../../../runtime/src/bus/kafka/index.js';
import type { Logger } from '../../../runtime/src/common/index.js';
import { SecretReader, type SecretRef } from '../../../runtime/src/common/index.js';
import type { RuntimeConfig } from '../../../runtime/src/platform/index.js';

export type SecretLookup = (namespace: string, name: string, key: string) => string | undefined;

/** Reads the runtime config's {env}/{file} secret references the way the runtime pod would see them. */
export class PodSecretReader extends SecretReader {
  private readonly envValues = new Map<string, string>();
  private readonly files = new Map<string, string>();

  constructor(
    private readonly namespace: string,
    podSpec: k8s.V1PodSpec | undefined,
    private readonly lookup: SecretLookup,
  ) {
    super({});
    const volumes = new Map((podSpec?.volumes ?? []).filter((v) => v.secret?.secretName).map((v) => [v.name, v.secret!]));
    for (const container of podSpec?.containers ?? []) {
      for (const e of container.env ?? []) {
        const ref = e.valueFrom?.secretKeyRef;
        if (ref?.name) {
          const value = lookup(namespace, ref.name, ref.key);
          if (value !== undefined) this.envValues.set(e.name, value);
        } else if (e.value !== undefined) this.envValues.set(e.name, e.value);
      }
      for (const mount of container.volumeMounts ?? []) {
        const secret = volumes.get(mount.name);
        if (!secret) continue;
        const base = mount.mountPath.replace(/\/$/, '');
        const items = secret.items ?? [];
        if (mount.subPath) {
          const item = items.find((i) => i.path === mount.subPath);
          const value = lookup(namespace, secret.secretName!, item?.key ?? mount.subPath);
          if (value !== undefined) this.files.set(base, value);
          continue;
        }
        const keys = items.length > 0 ? items.map((i) => [i.key, i.path] as const) : null;
        if (keys) {
          for (const [key, p] of keys) {
            const value = lookup(namespace, secret.secretName!, key);
            if (value !== undefined) this.files.set(`${base}/${p}`, value);
          }
        } else this.files.set(`${base}/*`, secret.secretName!);
      }
    }
  }

  private fileValue(file: string): string | undefined {
    const direct = this.files.get(file);
    if (direct !== undefined) return direct;
    // A whole-Secret mount: <mountPath>/<key>.
    const slash = file.lastIndexOf('/');
    const secretName = this.files.get(`${file.slice(0, slash)}/*`);
    return secretName === undefined ? undefined : this.lookup(this.namespace, secretName, file.slice(slash + 1));
  }

  override read(ref: SecretRef | undefined, path: string): string | undefined {
    if (ref === undefined) return undefined;
    const value = ref.env !== undefined ? this.envValues.get(ref.env) : this.fileValue(ref.file!)?.trim();
    if (value === undefined || value === '') this.errors.push(`${path}: not resolvable from the pod's Secrets`);
    return value;
  }

  override readFile(file: string | undefined, path: string): Buffer | undefined {
    if (file === undefined) return undefined;
    const value = this.fileValue(file);
    if (value === undefined) {
      this.errors.push(`${path}: ${file} is not a key of a Secret mounted into the pod`);
      return undefined;
    }
    return Buffer.from(value);
  }
}

/** The brokers did not answer (or the client could not be built): retried with backoff. */
export class KafkaUnavailableError extends Error {
  readonly reason: string = 'KafkaUnavailable';
  /** Retry with backoff; false: wait for a change of the Pipeline (or the periodic resync). */
  readonly retry: boolean = true;
}

/**
 * Kafka answered and refused the topics (INVALID_REPLICATION_FACTOR on a cluster with fewer
 * brokers, a policy, missing ACLs): Kafka's own error code is the message, with what to fix.
 * Not retried with backoff (it would fail the same way); the resync and any edit retry it.
 */
export class KafkaTopicsRejectedError extends KafkaUnavailableError {
  override readonly reason = 'KafkaTopicsRejected';
  override readonly retry = false;
}

/** What to change, per Kafka error code (kafkajs' `type`). */
const TOPIC_ERROR_HINTS: Record<string, (config: RuntimeConfig) => string> = {
  INVALID_REPLICATION_FACTOR: (c) =>
    `spec.kafka.replicationFactor is ${c.kafka.topics.replicationFactor}: it must not exceed the number of brokers in the cluster`,
  INVALID_PARTITIONS: (c) => `spec.kafka.partitions is ${c.kafka.topics.partitions}: the brokers refuse that count`,
  POLICY_VIOLATION: () => 'a topic creation policy of the cluster refused the topics; see the broker logs',
  TOPIC_AUTHORIZATION_FAILED: () => 'the Kafka user (spec.kafka.sasl) needs the CREATE and DESCRIBE ACLs on these topics',
  CLUSTER_AUTHORIZATION_FAILED: () => 'the Kafka user (spec.kafka.sasl) needs the CREATE ACL on the cluster',
  INVALID_CONFIG: () => 'the brokers refused the topic configuration',
};

interface KafkaProtocolErrorLike {
  type?: string;
  message?: string;
  topic?: string;
}

/** A KafkaTopicsRejectedError when Kafka refused with error codes of its own, else undefined. */
export function topicRejection(error: unknown, config: RuntimeConfig): KafkaTopicsRejectedError | undefined {
  const e = error as { type?: string; errors?: KafkaProtocolErrorLike[] } | undefined;
  const causes: KafkaProtocolErrorLike[] = Array.isArray(e?.errors) ? e.errors : e?.type ? [e as KafkaProtocolErrorLike] : [];
  const coded = causes.filter((c) => typeof c.type === 'string' && c.type !== 'TOPIC_ALREADY_EXISTS');
  if (coded.length === 0) return undefined;
  const byType = new Map<string, { message: string; topics: string[] }>();
  for (const c of coded) {
    const entry = byType.get(c.type!) ?? { message: c.message ?? '', topics: [] };
    if (c.topic) entry.topics.push(c.topic);
    byType.set(c.type!, entry);
  }
  const parts = [...byType].map(([type, { message, topics }]) => {
    const hint = TOPIC_ERROR_HINTS[type]?.(config);
    return `${type} (${message})${topics.length > 0 ? ` for ${topics.join(', ')}` : ''}${hint ? `: ${hint}` : ''}`;
  });
  return new KafkaTopicsRejectedError(`Kafka ${config.kafka.brokers.join(', ')} refused to create the topics: ${parts.join('; ')}`);
}

export class TopicEnsurer {
  private readonly known = new Map<string, number>();

  constructor(
    private readonly log: Logger,
    private readonly timeoutMs = 10_000,
    private readonly rememberMs = 10 * 60_000,
  ) {}

  private memoKey(config: RuntimeConfig): string {
    const { brokers, topics } = config.kafka;
    return `${[...brokers].sort().join(',')}|${pipelineTopics(config).join(',')}|${topics.partitions}|${topics.replicationFactor}`;
  }

  /** Throws KafkaUnavailableError when the brokers cannot be reached or refuse the topics. */
  async ensure(config: RuntimeConfig, secrets: SecretReader): Promise<'known' | 'ensured'> {
    const key = this.memoKey(config);
    const at = this.known.get(key);
    if (at !== undefined && Date.now() - at < this.rememberMs) return 'known';
    const kafka = createKafka(config.kafka, secrets, this.log);
    if (secrets.errors.length > 0) throw new KafkaUnavailableError(`cannot build the Kafka client: ${secrets.errors.join('; ')}`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new KafkaUnavailableError(`no answer from ${config.kafka.brokers.join(', ')} within ${this.timeoutMs / 1000}s`)),
        this.timeoutMs,
      );
    });
    try {
      await Promise.race([ensureTopics(kafka, config, this.log), timeout]);
    } catch (error) {
      if (error instanceof KafkaUnavailableError) throw error;
      throw (
        topicRejection(error, config) ??
        new KafkaUnavailableError(`cannot create topics on ${config.kafka.brokers.join(', ')}: ${(error as Error).message}`)
      );
    } finally {
      clearTimeout(timer);
    }
    this.known.set(key, Date.now());
    return 'ensured';
  }

  forget(config: RuntimeConfig): void {
    this.known.delete(this.memoKey(config));
  }
}
