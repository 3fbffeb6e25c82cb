/**
 * Names, labels and hashing shared by the render functions. Everything here is pure and
 * deterministic: the same inputs give byte-identical objects, so a reconcile that changes
 * nothing applies nothing new (docs/architecture.md §6).
 */
import { createHash } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import { API_VERSION, type Pipeline } from '../api/v1alpha1.js';

export type { KubernetesObject };

export const COMPONENTS = ['ingestion', 'processor', 'query'] as const;
export type Component = (typeof COMPONENTS)[number];

/** Where the runtime config is mounted (the ConfigMap key is runtime.json). */
export const CONFIG_DIR = '/etc/sextant';
export const CONFIG_KEY = 'runtime.json';
export const CONFIG_PATH = `${CONFIG_DIR}/${CONFIG_KEY}`;
/**
 * Secret files (CA bundles, client certificates) are mounted below this — beside, not inside,
 * the config mount: a mount point inside a read-only ConfigMap volume cannot be created.
 */
export const SECRETS_DIR = '/etc/sextant-secrets';
export const HTTP_PORT = 8080;
export const CONFIG_HASH_ANNOTATION = 'sextant.dev/config-hash';
export const FIELD_MANAGER = 'sextant-operator';
/** The uid/gid the runtime runs as (non-root; the image's user). */
export const RUNTIME_UID = 65532;

export interface OperatorSettings {
  /** The one Sextant image, for every component. */
  image: string;
  imagePullPolicy?: string;
  /** Where the operator runs; the cluster-wide agent routes live here. */
  operatorNamespace: string;
  /**
   * May a Pipeline collect pod logs from namespaces other than its own? Off by default: a
   * Pipeline's owner must not read another team's logs just by naming its namespace (the
   * agent, not the Pipeline's owner, holds the permission to read every node's logs).
   */
  allowCrossNamespaceCollection?: boolean;
}

export const configMapName = (pipeline: string) => `${pipeline}-config`;
export const deploymentName = (pipeline: string, component: Component) => `${pipeline}-${component}`;
export const serviceName = (pipeline: string, component: 'ingestion' | 'query') => `${pipeline}-${component}`;

/**
 * What the indices of a Pipeline start with: `<Sink indexPrefix>.<namespace>.<pipeline>`.
 * The namespace and the name come from the object, never from the Sink, and none of the
 * three parts can hold a dot (DNS labels), so two Pipelines in different namespaces never
 * share an index, an index template or a read/expiry pattern (`<this>-<signal>-*`), whatever
 * their Sinks say.
 */
export function indexPrefix(sinkPrefix: string, pipeline: Pipeline): string {
  return `${sinkPrefix}.${pipeline.metadata.namespace}.${pipeline.metadata.name}`;
}

/** The labels every child carries (the recommended app.kubernetes.io set). */
export function commonLabels(pipeline: string, component?: Component): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'sextant',
    'app.kubernetes.io/instance': pipeline,
    ...(component ? { 'app.kubernetes.io/component': component } : {}),
    'app.kubernetes.io/managed-by': 'sextant-operator',
    'app.kubernetes.io/part-of': 'sextant',
  };
}

/** The pod selector of a runtime: immutable in a Deployment, so only the labels that never change. */
export function selectorLabels(pipeline: string, component: Component): Record<string, string> {
  return { 'app.kubernetes.io/name': 'sextant', 'app.kubernetes.io/instance': pipeline, 'app.kubernetes.io/component': component };
}

export function ownerReference(pipeline: Pipeline) {
  if (!pipeline.metadata.uid)
    throw new Error(
      `Pipeline ${pipeline.metadata.namespace}/${pipeline.metadata.name} has no metadata.uid: render needs the object read from the API server`,
    );
  return {
    apiVersion: API_VERSION,
    kind: 'Pipeline',
    name: pipeline.metadata.name,
    uid: pipeline.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** JSON with object keys sorted at every level: the canonical form that is hashed. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = sortKeys(v);
    }
    return out;
  }
  return value;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
