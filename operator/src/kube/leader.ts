/**
 * Leader election on a coordination.k8s.io/v1 Lease (client-go's leaderelection semantics):
 * - acquire when the Lease is missing, free (empty holder) or expired (renewTime +
 *   leaseDurationSeconds in the past), with the resourceVersion as an optimistic lock, so two
 *   candidates never both win;
 * - the leader renews every retryPeriod; if it could not renew for renewDeadline it stops
 *   leading (another replica may take over after the lease expires);
 * - release() on SIGTERM empties holderIdentity so a successor does not wait for expiry.
 */
import type * as k8s from '@kubernetes/client-node';
import type { Logger } from '../../../runtime/src/common/index.js';
import { describeApiError, isConflict, isNotFound, microTime, type KubeClients } from './client.js';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  log: Logger;
}

export const defaultLeaseTimings = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

function parseTime(value: unknown): number {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'string') return Date.parse(value);
  return NaN;
}

export class LeaderElector {
  private leading = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private lastRenew = 0;
  private lease: k8s.V1Lease | undefined;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(
    private readonly clients: KubeClients,
    private readonly options: LeaderElectionOptions,
  ) {}

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.stopped = false;
    this.runTick();
  }

  private runTick(): void {
    this.inFlight = this.tick();
  }

  /** Stops campaigning; when leading, releases the Lease so another replica takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    // A renewal in flight would make our release a 409: let it land first.
    await this.inFlight;
    if (this.leading) {
      this.leading = false;
      await this.release();
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => this.runTick(), this.options.retryPeriodMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    try {
      const won = await this.tryAcquireOrRenew();
      if (this.stopped) return;
      if (won) {
        this.lastRenew = Date.now();
        if (!this.leading) {
          this.leading = true;
          this.options.log.info(
            { lease: `${this.options.namespace}/${this.options.name}`, identity: this.options.identity },
            'became the leader',
          );
          this.options.onStartedLeading();
        }
      } else if (this.leading) this.lose('another replica holds the lease');
    } catch (error) {
      this.options.log.warn({ error: describeApiError(error) }, 'leader election: cannot read or update the lease');
      if (this.leading && Date.now() - this.lastRenew > this.options.renewDeadlineMs)
        this.lose('could not renew the lease within the renew deadline');
    }
    this.schedule();
  }

  private lose(why: string): void {
    this.leading = false;
    this.options.log.warn({ lease: `${this.options.namespace}/${this.options.name}` }, `lost leadership: ${why}`);
    this.options.onStoppedLeading();
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.options;
    const now = new Date();
    const durationSeconds = Math.ceil(this.options.leaseDurationMs / 1000);
    let lease: k8s.V1Lease;
    try {
      lease = await this.clients.coordination.readNamespacedLease({ name, namespace });
    } catch (error) {
      if (!isNotFound(error)) throw error;
      try {
        this.lease = await this.clients.coordination.createNamespacedLease({
          namespace,
          body: {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name, namespace },
            spec: {
              holderIdentity: identity,
              leaseDurationSeconds: durationSeconds,
              acquireTime: microTime(now) as unknown as Date,
              renewTime: microTime(now) as unknown as Date,
              leaseTransitions: 0,
            },
          },
        });
        return true;
      } catch (createError) {
        if (isConflict(createError) || (createError as { code?: number }).code === 409) return false;
        throw createError;
      }
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const renewedAt = parseTime(spec.renewTime);
    const expired = !holder || Number.isNaN(renewedAt) || renewedAt + (spec.leaseDurationSeconds ?? durationSeconds) * 1000 < now.getTime();
    if (holder !== identity && !expired) return false;
    const taking = holder !== identity;
    lease.spec = {
      ...spec,
      holderIdentity: identity,
      leaseDurationSeconds: durationSeconds,
      renewTime: microTime(now) as unknown as Date,
      acquireTime: (taking ? microTime(now) : spec.acquireTime) as unknown as Date,
      leaseTransitions: (spec.leaseTransitions ?? 0) + (taking && holder ? 1 : 0),
    };
    try {
      // replace carries lease.metadata.resourceVersion: a concurrent writer makes this a 409.
      this.lease = await this.clients.coordination.replaceNamespacedLease({ name, namespace, body: lease });
      return true;
    } catch (error) {
      if (isConflict(error)) return false;
      throw error;
    }
  }

  private async release(): Promise<void> {
    const { namespace, name } = this.options;
    for (let attempt = 1; ; attempt++) {
      try {
        const lease = await this.clients.coordination.readNamespacedLease({ name, namespace });
        if (lease.spec?.holderIdentity !== this.options.identity) return;
        lease.spec = { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(new Date()) as unknown as Date };
        await this.clients.coordination.replaceNamespacedLease({ name, namespace, body: lease });
        this.options.log.info({ lease: `${namespace}/${name}` }, 'released the leader lease');
        return;
      } catch (error) {
        if (isConflict(error) && attempt < 3) continue;
        this.options.log.warn({ error: describeApiError(error) }, 'cannot release the leader lease; it expires on its own');
        return;
      }
    }
  }
}
