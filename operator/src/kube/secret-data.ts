/**
 * The data of the Secrets a reconcile actually reads (Kafka credentials for the topic admin
 * client, the API key for the agent routes), fetched with a GET and kept per Secret together
 * with its resourceVersion. The Secret informer holds metadata only (metadata.ts), so this is
 * the one place Secret data lives in the operator, and only for referenced Secrets.
 *
 * A read is served from memory when the informer's resourceVersion equals the one read last
 * time, so steady-state reconciles (resyncs) cost no request; a changed Secret has a new
 * resourceVersion, so its next reconcile reads it again.
 */
import type * as k8s from '@kubernetes/client-node';

/** GETs one Secret; undefined when it does not exist (404). Other errors propagate. */
export type SecretFetch = (namespace: string, name: string) => Promise<k8s.V1Secret | undefined>;

/** A Secret's value by name and key, decoded from base64; undefined when absent. */
export type SecretValues = (name: string, key: string) => string | undefined;

interface Entry {
  resourceVersion: string;
  data: Record<string, string>;
}

export class SecretDataCache {
  private readonly entries = new Map<string, Entry>();
  /** GETs in flight by Secret and the resourceVersion asked for. */
  private readonly inFlight = new Map<string, Promise<Record<string, string> | undefined>>();

  constructor(
    private readonly fetch: SecretFetch,
    private readonly onRead: (source: 'cache' | 'api') => void = () => {},
    /** Entries kept at most; beyond that the oldest go (one extra GET each later). */
    private readonly limit = 1_000,
  ) {}

  /**
   * The values of the Secrets `versions` names (name → resourceVersion the informer holds) in
   * `namespace`. A Secret deleted since the informer saw it reads as absent: its delete event
   * requeues the Pipeline, which then reports SecretNotFound.
   */
  async read(namespace: string, versions: Record<string, string>): Promise<SecretValues> {
    const found = new Map<string, Record<string, string>>();
    await Promise.all(
      Object.entries(versions).map(async ([name, resourceVersion]) => {
        const id = `${namespace}/${name}`;
        const cached = this.entries.get(id);
        if (cached && resourceVersion !== '' && cached.resourceVersion === resourceVersion) {
          this.onRead('cache');
          found.set(name, cached.data);
          return;
        }
        this.onRead('api');
        // Many Pipelines sharing a Secret reconcile at once after a start or a change: one GET.
        const key = `${id}@${resourceVersion}`;
        let pending = this.inFlight.get(key);
        if (!pending) {
          pending = this.get(id, namespace, name).finally(() => this.inFlight.delete(key));
          this.inFlight.set(key, pending);
        }
        const data = await pending;
        if (data) found.set(name, data);
      }),
    );
    return (name, key) => {
      const value = found.get(name)?.[key];
      return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
    };
  }

  private async get(id: string, namespace: string, name: string): Promise<Record<string, string> | undefined> {
    const secret = await this.fetch(namespace, name);
    this.entries.delete(id);
    if (!secret) return undefined;
    const data = { ...stringDataAsBase64(secret.stringData), ...(secret.data ?? {}) };
    this.entries.set(id, { resourceVersion: secret.metadata?.resourceVersion ?? '', data });
    while (this.entries.size > this.limit) this.entries.delete(this.entries.keys().next().value!);
    return data;
  }

  /** Drops a deleted Secret's data. */
  forget(namespace: string, name: string): void {
    this.entries.delete(`${namespace}/${name}`);
  }

  get size(): number {
    return this.entries.size;
  }
}

// The API server never returns stringData (it is write-only); this only matters for objects
// built by hand in tests, and keeps one decoding path.
function stringDataAsBase64(stringData: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(stringData ?? {}).map(([k, v]) => [k, Buffer.from(v, 'utf8').toString('base64')]));
}
