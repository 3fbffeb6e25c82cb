/**
 * A shared informer: client-node's ListWatch (list, then watch from the list's
 * resourceVersion; relist on 410 Gone) plus what it lacks (docs/architecture.md §6):
 * - restart with exponential backoff after an error (ListWatch stops on errors);
 * - a periodic resync that hands every cached object to the handlers again, so a missed
 *   event or a dependency outside Kubernetes (Kafka) is retried eventually;
 * - hasSynced()/waitForSync() after the first successful list.
 */
import * as k8s from '@kubernetes/client-node';
import type { Logger } from '../../../runtime/src/common/index.js';
import { ItemBackoff } from './backoff.js';
import { describeApiError, isNotFound } from './client.js';

export type InformerEvent = 'add' | 'update' | 'delete' | 'resync';
export type InformerHandler<T> = (obj: T, event: InformerEvent) => void;

export interface InformerOptions<T extends k8s.KubernetesObject> {
  /** For logs and metrics: "pipelines", "deployments"… */
  name: string;
  /** Watch path, e.g. /apis/apps/v1/deployments (all namespaces). */
  path: string;
  list: () => Promise<k8s.KubernetesListObject<T>>;
  labelSelector?: string;
  /** The watch to use instead of client-node's plain one (metadata.ts: metadata-only). */
  watch?: k8s.Watch;
  /** 0 disables resync. */
  resyncMs: number;
  log: Logger;
  onRestart?: (name: string) => void;
}

export class Informer<T extends k8s.KubernetesObject> {
  private readonly lw: k8s.Informer<T> & k8s.ObjectCache<T>;
  private readonly handlers: InformerHandler<T>[] = [];
  private readonly backoff = new ItemBackoff({ baseMs: 1_000, maxMs: 30_000 });
  private synced = false;
  private syncWaiters: (() => void)[] = [];
  private stopped = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;

  constructor(
    kc: k8s.KubeConfig,
    private readonly options: InformerOptions<T>,
  ) {
    const list = async () => {
      const result = await options.list();
      // ListWatch adds the items right after this promise settles; mark synced after that.
      setImmediate(() => this.markSynced());
      return result;
    };
    this.lw = options.watch
      ? new k8s.ListWatch(options.path, options.watch, list, false, options.labelSelector)
      : k8s.makeInformer(kc, options.path, list, options.labelSelector);
    this.lw.on('add', (obj) => this.dispatch(obj, 'add'));
    this.lw.on('update', (obj) => this.dispatch(obj, 'update'));
    this.lw.on('delete', (obj) => this.dispatch(obj, 'delete'));
    this.lw.on('error', (err) => this.restartLater(err));
  }

  get name(): string {
    return this.options.name;
  }

  on(handler: InformerHandler<T>): void {
    this.handlers.push(handler);
  }

  get(name: string, namespace?: string): T | undefined {
    return this.lw.get(name, namespace);
  }

  list(namespace?: string): readonly T[] {
    return this.lw.list(namespace);
  }

  hasSynced(): boolean {
    return this.synced;
  }

  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.lw.start();
    if (this.options.resyncMs > 0) {
      this.resyncTimer = setInterval(() => this.resync(), this.options.resyncMs);
      this.resyncTimer.unref();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    clearInterval(this.resyncTimer);
    await this.lw.stop();
  }

  /** Hands every cached object to the handlers (the periodic resync; also used after gaining leadership). */
  resync(): void {
    for (const obj of this.lw.list()) this.dispatch(obj, 'resync');
  }

  private markSynced(): void {
    this.backoff.forget('watch');
    if (this.synced) return;
    this.synced = true;
    for (const resolve of this.syncWaiters.splice(0)) resolve();
  }

  private dispatch(obj: T, event: InformerEvent): void {
    this.backoff.forget('watch');
    for (const handler of this.handlers) {
      try {
        handler(obj, event);
      } catch (error) {
        // A handler only enqueues keys; if one throws, the others still run.
        this.options.log.error({ err: error, informer: this.name }, 'informer event handler failed');
      }
    }
  }

  private restartLater(err: unknown): void {
    if (this.stopped) return;
    const delay = this.backoff.next('watch');
    this.options.log.warn(
      { informer: this.name, error: describeApiError(err), retryInMs: delay },
      watchFailureMessage(this.name, this.options.path, err),
    );
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      if (this.stopped) return;
      this.options.onRestart?.(this.name);
      void this.lw.start().catch((error: unknown) => this.restartLater(error));
    }, delay);
    this.restartTimer.unref();
  }
}

/**
 * The log line of a failed watch. A 404 for a path the operator needs almost always means
 * a CustomResourceDefinition that is not installed, so the line says so.
 */
export function watchFailureMessage(name: string, path: string, err: unknown): string {
  if (isNotFound(err)) {
    return `watch of ${name} failed: the API server does not serve ${path} (404); is its CustomResourceDefinition installed? (helm installs the chart's crds/, or kubectl apply -f crds/); restarting`;
  }
  return `watch of ${name} failed; restarting`;
}
