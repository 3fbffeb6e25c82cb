/**
 * Server-side apply of the operator's objects (DESIGN §6): one field manager, force, and no
 * write at all when the live object already has what we would apply — so a reconcile that
 * changes nothing moves no resourceVersion. "Already has" is decided from the informer
 * cache: the desired object is a subset of the live one, or it is exactly what we applied
 * last time and the live object is still the version that apply returned (the server
 * normalises some values, e.g. cpu "0.5" → "500m", which the subset test cannot see).
 */
import crypto from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { isNotFound, objectKey, type KubeClients } from './client.js';

export const FIELD_MANAGER = 'sextant-operator';

export interface ObjectLookup {
  get(apiVersion: string, kind: string, name: string, namespace?: string): k8s.KubernetesObject | undefined;
}

export type ApplyResult = 'created' | 'configured' | 'unchanged';

/** True when every field set in desired has the same value in live (arrays: same length, element-wise). */
export function isSubset(desired: unknown, live: unknown): boolean {
  if (desired === undefined) return true;
  if (desired === null || typeof desired !== 'object') {
    if (live instanceof Date && typeof desired === 'string') return live.toISOString().replace(/\.000Z$/, 'Z') === desired;
    return desired === live;
  }
  if (Array.isArray(desired)) {
    if (!Array.isArray(live) || live.length !== desired.length) return false;
    return desired.every((d, i) => isSubset(d, live[i]));
  }
  if (live === null || typeof live !== 'object' || Array.isArray(live)) return false;
  const l = live as Record<string, unknown>;
  return Object.entries(desired as Record<string, unknown>).every(([k, v]) => isSubset(v, l[k]));
}

function hashOf(obj: unknown): string {
  return crypto.createHash('sha256').update(JSON.stringify(obj)).digest('hex');
}

export class Applier {
  /** `apiVersion/kind/namespace/name` → what we applied last and the resourceVersion the server returned. */
  private readonly applied = new Map<string, { hash: string; resourceVersion: string }>();

  constructor(
    private readonly clients: KubeClients,
    private readonly lookup: ObjectLookup,
  ) {}

  async apply(desired: k8s.KubernetesObject): Promise<ApplyResult> {
    const id = `${desired.apiVersion}/${desired.kind}/${objectKey(desired)}`;
    const hash = hashOf(desired);
    const live = this.lookup.get(desired.apiVersion!, desired.kind!, desired.metadata!.name!, desired.metadata!.namespace);
    if (live) {
      // apiVersion and kind are absent from items of a list response: compare the rest.
      const { apiVersion: _a, kind: _k, ...body } = desired;
      const memo = this.applied.get(id);
      if ((memo && memo.hash === hash && memo.resourceVersion === live.metadata?.resourceVersion) || isSubset(body, live))
        return 'unchanged';
    }
    const result = await this.clients.objects.patch(desired, undefined, undefined, FIELD_MANAGER, true, k8s.PatchStrategy.ServerSideApply);
    this.applied.set(id, { hash, resourceVersion: result.metadata?.resourceVersion ?? '' });
    return live ? 'configured' : 'created';
  }

  /** Deletes obj (background propagation, so its ReplicaSets/pods follow); a missing object is fine. */
  async delete(obj: k8s.KubernetesObject): Promise<boolean> {
    const id = `${obj.apiVersion}/${obj.kind}/${objectKey(obj)}`;
    this.applied.delete(id);
    try {
      await this.clients.objects.delete(
        { apiVersion: obj.apiVersion, kind: obj.kind, metadata: { name: obj.metadata!.name, namespace: obj.metadata!.namespace } },
        undefined,
        undefined,
        undefined,
        undefined,
        'Background',
      );
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }
}
