/**
 * Metadata-only list and watch (the API server's PartialObjectMetadata representation), for
 * kinds the operator must notice but whose bodies it rarely reads: Secrets. A cluster holds
 * thousands of them (every Helm release is one, often hundreds of KiB), and a full informer
 * would keep all their data in the operator's heap. With metadata only, the cache holds a few
 * hundred bytes per Secret: enough to tell that a referenced Secret exists, to requeue its
 * Pipelines when it appears or changes, and to put its resourceVersion in the config hash.
 * The data of the few referenced Secrets is read with a GET when needed (secret-data.ts).
 *
 * RBAC does not know representations: a metadata-only list/watch still needs `list` and
 * `watch` on the resource.
 */
import * as k8s from '@kubernetes/client-node';

/** The Accept headers asking for meta.k8s.io/v1 PartialObjectMetadata (watch events) and PartialObjectMetadataList (list). */
export const PARTIAL_METADATA = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1';
export const PARTIAL_METADATA_LIST = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1';

/** Request options for a generated list call (e.g. core.listSecretForAllNamespaces) that return metadata only. */
export const metadataListOptions = () => k8s.setHeaderOptions('Accept', PARTIAL_METADATA_LIST);

/**
 * What the cache keeps of an object's metadata: identity, version and lifecycle. Dropped:
 * managedFields (often larger than the rest), annotations (`kubectl apply` copies the whole
 * Secret, data included, into last-applied-configuration), labels and ownerReferences,
 * which no reader of this cache looks at.
 */
export function slimMetadata<T extends k8s.KubernetesObject>(obj: T): k8s.KubernetesObject {
  const m = obj.metadata;
  if (!m) return { apiVersion: obj.apiVersion, kind: obj.kind };
  const metadata: k8s.V1ObjectMeta = {};
  for (const key of ['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp'] as const) {
    if (m[key] !== undefined) (metadata as Record<string, unknown>)[key] = m[key];
  }
  return { apiVersion: obj.apiVersion, kind: obj.kind, metadata };
}

/** The list half: a list function's result with every item slimmed. */
export async function slimList(list: Promise<k8s.KubernetesListObject<k8s.KubernetesObject>>) {
  const result = await list;
  // An empty PartialObjectMetadataList comes as "items": null (not []), unlike a full list.
  return { ...result, items: ((result.items as k8s.KubernetesObject[] | null) ?? []).map((item) => slimMetadata(item)) };
}

/**
 * The watch half: client-node's Watch, asking for PartialObjectMetadata and slimming each
 * event's object before the ListWatch caches it. Watch takes the header from the config's
 * authentication step (it has no option for headers), so that step is wrapped to add Accept.
 */
export function metadataWatch(kc: k8s.KubeConfig): k8s.Watch {
  const config = {
    getCurrentCluster: () => kc.getCurrentCluster(),
    applySecurityAuthentication: async (ctx: Parameters<k8s.KubeConfig['applySecurityAuthentication']>[0]) => {
      await kc.applySecurityAuthentication(ctx);
      ctx.setHeaderParam('Accept', PARTIAL_METADATA);
    },
  };
  return new MetadataWatch(config as unknown as k8s.KubeConfig);
}

class MetadataWatch extends k8s.Watch {
  override watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    return super.watch(
      path,
      queryParams,
      (phase, obj, watchObj) => {
        // ERROR events carry a Status, BOOKMARKs only a resourceVersion: pass them unchanged.
        const slim = (phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED') && isObject(obj) ? slimMetadata(obj) : obj;
        callback(phase, slim, watchObj);
      },
      done,
    );
  }
}

function isObject(value: unknown): value is k8s.KubernetesObject {
  return value !== null && typeof value === 'object';
}
