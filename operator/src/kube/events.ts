/**
 * Kubernetes Events (events.k8s.io/v1) about the objects the operator reconciles: one per
 * condition transition, so `kubectl describe pipeline` tells the story. Failing to record
 * an Event is logged and counted by the caller, never fatal for the reconcile.
 */
import crypto from 'node:crypto';
import type * as k8s from '@kubernetes/client-node';
import type { Logger } from '../../../runtime/src/common/index.js';
import { describeApiError, microTime, type KubeClients } from './client.js';

export const REPORTING_CONTROLLER = 'sextant.dev/operator';

export interface EventInput {
  regarding: k8s.KubernetesObject;
  type: 'Normal' | 'Warning';
  reason: string;
  /** What happened, for humans (max 1 kB on the server). */
  note: string;
  /** What the operator did or failed to do: Reconcile, Apply, Delete… */
  action: string;
}

export class EventRecorder {
  constructor(
    private readonly clients: KubeClients,
    private readonly instance: string,
    private readonly log: Logger,
    private readonly onFailure: () => void = () => {},
  ) {}

  private readonly inFlight = new Set<Promise<void>>();

  /** Records one Event; callers may fire and forget (flush() waits for them). */
  record(event: EventInput): Promise<void> {
    const p = this.send(event).finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
    return p;
  }

  async flush(): Promise<void> {
    await Promise.all([...this.inFlight]);
  }

  private async send(event: EventInput): Promise<void> {
    const meta = event.regarding.metadata!;
    const namespace = meta.namespace ?? 'default';
    const body = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: `${meta.name}.${crypto.randomBytes(8).toString('hex')}`, namespace },
      // MicroTime: the typed serializer passes strings through unchanged.
      eventTime: microTime(new Date()) as unknown as Date,
      reportingController: REPORTING_CONTROLLER,
      reportingInstance: this.instance.slice(0, 128),
      action: event.action,
      reason: event.reason,
      note: event.note.slice(0, 1000),
      type: event.type,
      regarding: {
        apiVersion: event.regarding.apiVersion,
        kind: event.regarding.kind,
        name: meta.name,
        namespace: meta.namespace,
        uid: meta.uid,
        resourceVersion: meta.resourceVersion,
      },
    };
    try {
      await this.clients.events.createNamespacedEvent({ namespace, body });
    } catch (error) {
      this.onFailure();
      this.log.warn(
        { object: `${namespace}/${meta.name}`, reason: event.reason, error: describeApiError(error) },
        'cannot record an Event',
      );
    }
  }
}
