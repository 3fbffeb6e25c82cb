/**
 * What a Pipeline becomes (docs/architecture.md §6), as a pure function: the runtime config ConfigMap,
 * three Deployments, two Services, PodDisruptionBudgets, HPAs, and the route the node agent
 * needs. No I/O: the controller reads the Pipeline, its Sinks, RetentionPolicy and the
 * resourceVersions of the Secrets it references, calls renderPipeline and applies the result.
 *
 * The rendered runtime config is checked with the runtime's own codec (resolveRuntimeConfig
 * and requireFor every component) before anything is returned, so a runtime never receives
 * a config it would reject: the Pipeline turns InvalidSpec instead.
 */
import type { V1ConfigMap } from '@kubernetes/client-node';
import { ConfigError } from '../../../runtime/src/common/index.js';
import { requireFor, resolveRuntimeConfig } from '../../../runtime/src/platform/index.js';
import { decodeResource, InvalidSpecError, type Pipeline, type RetentionPolicy, type Sink } from '../api/v1alpha1.js';
import { agentRouteFor, type AgentRouteSpec } from './agent.js';
import {
  canonicalJson,
  commonLabels,
  COMPONENTS,
  CONFIG_HASH_ANNOTATION,
  CONFIG_KEY,
  configMapName,
  ownerReference,
  sha256,
  type KubernetesObject,
  type OperatorSettings,
} from './common.js';
import { renderRuntimeConfig } from './runtime-config.js';
import { renderDeployment, renderHpa, renderPdb, renderService } from './workloads.js';

export { CONFIG_HASH_ANNOTATION, type OperatorSettings, type KubernetesObject };

export interface PipelineInputs {
  /** The full object as read from the API server (metadata name, namespace, uid, generation + spec). */
  pipeline: Pipeline;
  hotSink?: Sink;
  coldSink?: Sink;
  retention?: RetentionPolicy;
  /** Referenced Secret name → resourceVersion; feeds the config hash, so key rotation rolls pods. */
  secretVersions: Record<string, string>;
}

export interface RenderedPipeline {
  /** The runtime config document (what runtime.json in the ConfigMap holds). */
  runtimeConfig: unknown;
  /** sha256 (hex) of the config, the referenced Secrets' versions and the image: the pod annotation. */
  configHash: string;
  /** ConfigMap, Deployments, Services, PDBs, HPAs — in apply order (the ConfigMap first). */
  objects: KubernetesObject[];
  /** Present when the Pipeline has sources.kubernetes. */
  agentRoute?: AgentRouteSpec;
}

/** @throws InvalidSpecError (reason InvalidSpec, SinkNotFound, SinkBackendMismatch, RetentionPolicyNotFound) */
export function renderPipeline(inputs: PipelineInputs, settings: OperatorSettings): RenderedPipeline {
  const pipeline = decodeOrThrow('Pipeline', inputs.pipeline, 'InvalidSpec');
  const hotSink = inputs.hotSink && decodeOrThrow('Sink', inputs.hotSink, 'InvalidSink');
  const coldSink = inputs.coldSink && decodeOrThrow('Sink', inputs.coldSink, 'InvalidSink');
  const retention = inputs.retention && decodeOrThrow('RetentionPolicy', inputs.retention, 'InvalidRetentionPolicy');
  checkCollectionNamespaces(pipeline, settings);

  const { document, env, mounts } = renderRuntimeConfig(pipeline, hotSink, coldSink, retention);
  validateWithRuntime(document, pipeline);

  // Only the Secrets this Pipeline references count, so an unrelated Secret's version (or
  // the order of the record) never changes the hash.
  const secrets = referencedSecrets(
    pipeline,
    [hotSink, coldSink].filter((s): s is Sink => s !== undefined),
  );
  const secretVersions = Object.fromEntries(secrets.map((name) => [name, inputs.secretVersions[name] ?? '']));
  const configHash = sha256(canonicalJson({ config: document, secretVersions, image: settings.image }));

  const name = pipeline.metadata.name;
  const configMap: V1ConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: configMapName(name),
      namespace: pipeline.metadata.namespace,
      labels: commonLabels(name),
      annotations: { [CONFIG_HASH_ANNOTATION]: configHash },
      ownerReferences: [ownerReference(pipeline)],
    },
    // Written in construction order (readable: pipeline, signals, http… first); the hash uses the canonical form.
    data: { [CONFIG_KEY]: `${JSON.stringify(document, null, 2)}\n` },
  };

  const objects: KubernetesObject[] = [configMap];
  const runtimes = pipeline.spec.runtimes ?? {};
  for (const component of COMPONENTS) {
    objects.push(renderDeployment({ pipeline, component, settings: runtimes[component], env, mounts, configHash, operator: settings }));
  }
  objects.push(renderService(pipeline, 'ingestion'), renderService(pipeline, 'query'));
  for (const component of COMPONENTS) {
    const pdb = renderPdb(pipeline, component, runtimes[component]);
    if (pdb) objects.push(pdb);
  }
  for (const component of COMPONENTS) {
    const hpa = renderHpa(pipeline, component, runtimes[component]);
    if (hpa) objects.push(hpa);
  }
  const agentRoute = agentRouteFor(pipeline);
  return { runtimeConfig: document, configHash, objects, ...(agentRoute ? { agentRoute } : {}) };
}

/**
 * Names of the Secrets a Pipeline and its Sinks reference (sorted, unique): the controller
 * watches them, requeues the Pipeline when one changes, and passes their resourceVersions
 * to renderPipeline. Accepts undecoded objects (from the informer cache): fields it cannot
 * read are skipped.
 */
export function referencedSecrets(pipeline: Pipeline, sinks: Sink[]): string[] {
  const names = new Set<string>();
  const add = (ref: { name?: unknown } | undefined) => {
    if (ref && typeof ref.name === 'string' && ref.name !== '') names.add(ref.name);
  };
  const spec = pipeline.spec;
  add(spec?.sources?.http?.apiKeysSecretRef);
  add(spec?.kafka?.tls?.caSecretRef);
  add(spec?.kafka?.tls?.clientCertSecretRef);
  add(spec?.kafka?.sasl?.credentialsSecretRef);
  const wanted = new Set([spec?.sinks?.hot?.sinkRef?.name, spec?.sinks?.cold?.sinkRef?.name]);
  for (const sink of sinks) {
    if (!wanted.has(sink.metadata?.name)) continue;
    add(sink.spec?.opensearch?.credentialsSecretRef);
    add(sink.spec?.opensearch?.tls?.caSecretRef);
    add(sink.spec?.s3?.credentialsSecretRef);
  }
  return [...names].sort();
}

function decodeOrThrow<K extends 'Pipeline' | 'Sink' | 'RetentionPolicy'>(kind: K, object: unknown, reason: string) {
  const decoded = decodeResource(kind, object);
  if (!decoded.ok) {
    const name = (object as { metadata?: { name?: string } } | undefined)?.metadata?.name ?? '?';
    throw new InvalidSpecError(reason, `${kind} ${name}: ${decoded.errors.join('; ')}`);
  }
  return decoded.value;
}

/** The runtime's own checks: if a runtime would exit 2 on this document, nothing is rolled out. */
function validateWithRuntime(document: unknown, pipeline: Pipeline): void {
  const source = `Pipeline ${pipeline.metadata.namespace}/${pipeline.metadata.name}`;
  try {
    const config = resolveRuntimeConfig(document, source);
    for (const component of COMPONENTS) requireFor(config, component);
  } catch (error) {
    if (error instanceof ConfigError)
      throw new InvalidSpecError('InvalidSpec', `rendered runtime config rejected by the runtime: ${error.message}`);
    throw error;
  }
}

function checkCollectionNamespaces(pipeline: Pipeline, settings: OperatorSettings): void {
  if (settings.allowCrossNamespaceCollection === true) return;
  const own = pipeline.metadata.namespace;
  const others = (pipeline.spec.sources.kubernetes?.namespaces ?? []).filter((ns) => ns !== own);
  if (others.length > 0)
    throw new InvalidSpecError(
      'NamespaceNotAllowed',
      `spec.sources.kubernetes.namespaces: a Pipeline in namespace ${own} may only collect its own namespace's pods, ` +
        `not ${others.map((ns) => JSON.stringify(ns)).join(', ')} (the operator's --allow-cross-namespace-collection permits it)`,
    );
}
