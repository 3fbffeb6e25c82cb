/**
 * Labels of the pods on this node, from a list+watch of pods with the field selector
 * `spec.nodeName=<node>` (@kubernetes/client-node's ListWatch informer). The cache is
 * keyed by pod UID — the UID is in every log path — and is ready once the first list has
 * arrived. On a watch error the informer is restarted with backoff; the cache keeps serving
 * what it had, so tailing never stops because the API server is briefly away.
 */
import type * as K8s from '@kubernetes/client-node';
import type { Logger } from '../../../runtime/src/common/index.js';
import type { PodMetadata } from '../tail/tailer.js';
import { backoffDelay } from '../../../runtime/src/common/index.js';

/** The parts of a V1Pod the agent uses. */
export interface PodObject {
  metadata?: {
    uid?: string;
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: { containers?: Array<{ name?: string; ports?: Array<{ containerPort?: number; protocol?: string }> }> };
  status?: { podIP?: string; phase?: string };
}

type Verb = 'add' | 'update' | 'delete';

/** The subset of @kubernetes/client-node's Informer that the cache needs (a fake implements it in tests). */
export interface PodInformer {
  on(verb: Verb, cb: (pod: PodObject) => void): void;
  on(verb: 'error', cb: (err?: unknown) => void): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface PodInfo {
  uid: string;
  namespace: string;
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  ip: string | undefined;
  phase: string | undefined;
  /** Declared TCP container ports, in order (the scrape port when no annotation names one). */
  ports: number[];
}

export class PodCache implements PodMetadata {
  readonly enabled = true;
  private readonly pods = new Map<string, PodInfo>();
  private synced = false;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  /** Called when a pod is added or its labels change (the tailer rescans). */
  onChange: (uid: string) => void = () => {};

  constructor(
    private readonly informer: PodInformer,
    private readonly log: Logger,
    private readonly retry: { initialMs: number; maxMs: number } = { initialMs: 1000, maxMs: 30_000 },
  ) {
    informer.on('add', (pod) => this.put(pod, true));
    informer.on('update', (pod) => this.put(pod, false));
    informer.on('delete', (pod) => {
      const uid = pod.metadata?.uid;
      if (uid) this.pods.delete(uid);
    });
    informer.on('error', (err) => this.failed(err));
  }

  /** Starts the informer; resolves after the first list (or rejects, then keeps retrying). */
  async start(): Promise<void> {
    try {
      await this.informer.start();
      this.synced = true;
      this.failures = 0;
    } catch (error) {
      this.failed(error);
      throw error;
    }
  }

  get ready(): boolean {
    return this.synced;
  }

  labels(uid: string): Record<string, string> | undefined {
    return this.pods.get(uid)?.labels;
  }

  get size(): number {
    return this.pods.size;
  }

  /** Every pod of this node as last seen in the watch. */
  list(): PodInfo[] {
    return [...this.pods.values()];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await this.informer.stop();
  }

  private put(pod: PodObject, added: boolean): void {
    const m = pod.metadata;
    if (!m?.uid || !m.name || !m.namespace) return;
    const before = this.pods.get(m.uid);
    const labels = { ...(m.labels ?? {}) };
    const ports = (pod.spec?.containers ?? []).flatMap((c) =>
      (c.ports ?? []).filter((p) => (p.protocol ?? 'TCP') === 'TCP' && p.containerPort).map((p) => p.containerPort!),
    );
    this.pods.set(m.uid, {
      uid: m.uid,
      namespace: m.namespace,
      name: m.name,
      labels,
      annotations: { ...(m.annotations ?? {}) },
      ip: pod.status?.podIP || undefined,
      phase: pod.status?.phase,
      ports,
    });
    if (added || !before || !sameLabels(before.labels, labels)) this.onChange(m.uid);
  }

  private failed(err: unknown): void {
    // One failure can arrive twice (the informer's error event and the rejected start):
    // a restart already scheduled covers both.
    if (this.stopped || this.retryTimer !== undefined) return;
    this.failures++;
    const delay = backoffDelay(this.failures - 1, { initial: this.retry.initialMs, max: this.retry.maxMs });
    this.log.warn({ err, retryInMs: delay }, 'pod watch failed; restarting it (labels of known pods are kept)');
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.informer.start().then(
        () => {
          this.synced = true;
          this.failures = 0;
        },
        (error: unknown) => this.failed(error),
      );
    }, delay);
    this.retryTimer.unref?.();
  }
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => a[k] === b[k]);
}

/**
 * The real informer: list+watch of /api/v1/pods with `fieldSelector=spec.nodeName=<node>`,
 * from the in-cluster service account or a kubeconfig file.
 *
 * ListWatch.start() resolves even when its list failed (it reports the failure only to its
 * error handlers), so `start` here rejects unless a list succeeded — or, on a restart after
 * a watch error, unless the informer resumes from a resourceVersion it already has. Without
 * this the agent was ready, with no labels, while the API server was unreachable (found by
 * test/cluster/agent-pods.test.ts).
 */
export async function createPodInformer(nodeName: string, kubeconfig: string | undefined): Promise<PodInformer> {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  if (kubeconfig) kc.loadFromFile(kubeconfig);
  else kc.loadFromCluster();
  const api = kc.makeApiClient(k8s.CoreV1Api);
  const fieldSelector = `spec.nodeName=${nodeName}`;
  let lists = 0;
  let listError: unknown;
  const informer = new k8s.ListWatch<K8s.V1Pod>(
    '/api/v1/pods',
    new k8s.Watch(kc),
    async () => {
      try {
        const list = await api.listPodForAllNamespaces({ fieldSelector });
        lists++;
        return list;
      } catch (error) {
        listError = error;
        throw error;
      }
    },
    false,
    undefined,
    fieldSelector,
  );
  return {
    on: (verb: Verb | 'error', cb: (x: never) => void) => informer.on(verb as never, cb as never),
    async start() {
      const before = lists;
      const resumes = informer.latestResourceVersion() !== '';
      listError = undefined;
      await informer.start();
      if (lists === before && !resumes) {
        throw listError instanceof Error ? listError : new Error(`pod list failed: ${String(listError ?? 'no answer')}`);
      }
    },
    stop: () => informer.stop(),
  } as PodInformer;
}
