/**
 * Server-side apply of the operator's objects (docs/architecture.md §6): one field manager, force, and no
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
const MEMO_LIMIT = 50_000;

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

/**
 * True when every field our field manager owns in the live object (managedFields, fieldsV1)
 * is still in desired. The subset test alone misses removals — a key dropped from a
 * Secret's data, a label we no longer set — which an apply would delete. Keys of list
 * items ("k:{...}") match a desired item whose fields equal the key's or are left to the
 * server's defaults (protocol: TCP).
 */
export function ownedFieldsCovered(fields: unknown, desired: unknown): boolean {
  if (fields === null || typeof fields !== 'object') return true;
  for (const [k, sub] of Object.entries(fields as Record<string, unknown>)) {
    if (k === '.') continue;
    if (k.startsWith('f:')) {
      const name = k.slice(2);
      if (desired === null || typeof desired !== 'object' || Array.isArray(desired) || !(name in desired)) return false;
      if (!ownedFieldsCovered(sub, (desired as Record<string, unknown>)[name])) return false;
    } else if (k.startsWith('k:')) {
      if (!Array.isArray(desired)) return false;
      let key: Record<string, unknown>;
      try {
        key = JSON.parse(k.slice(2)) as Record<string, unknown>;
      } catch {
        return false;
      }
      const item = desired.find((d) => {
        if (d === null || typeof d !== 'object') return false;
        const o = d as Record<string, unknown>;
        return Object.entries(key).every(([kk, v]) => o[kk] === undefined || o[kk] === v);
      });
      if (item === undefined || !ownedFieldsCovered(sub, item)) return false;
    } else if (k.startsWith('v:')) {
      if (!Array.isArray(desired)) return false;
      const value = k.slice(2);
      if (!desired.some((d) => JSON.stringify(d) === value)) return false;
    } else if (k.startsWith('i:')) {
      if (!Array.isArray(desired) || Number(k.slice(2)) >= desired.length) return false;
    }
  }
  return true;
}

function ownFields(live: k8s.KubernetesObject): unknown {
  return live.metadata?.managedFields?.find((m) => m.manager === FIELD_MANAGER && m.operation === 'Apply' && !m.subresource)?.fieldsV1;
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
      if (memo && memo.hash === hash && memo.resourceVersion === live.metadata?.resourceVersion) return 'unchanged';
      if (isSubset(body, live) && ownedFieldsCovered(ownFields(live), desired)) return 'unchanged';
    }
    const result = await this.clients.objects.patch(desired, undefined, undefined, FIELD_MANAGER, true, k8s.PatchStrategy.ServerSideApply);
    // Objects garbage-collected with their Pipeline leave entries behind; a bound keeps the
    // memo from growing forever (clearing it costs at most one no-op apply per object).
    if (this.applied.size >= MEMO_LIMIT) this.applied.clear();
    const resourceVersion = result.metadata?.resourceVersion ?? '';
    this.applied.set(id, { hash, resourceVersion });
    // The same resourceVersion back: the server found nothing to change (a value it normalises,
    // such as cpu "0.5" → "500m", after a restart emptied the memo). Nothing was written, so
    // nothing is reported as configured.
    if (live && resourceVersion !== '' && resourceVersion === live.metadata?.resourceVersion) return 'unchanged';
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
