/**
 * The Pipeline controller (docs/architecture.md §6): a level-triggered, idempotent reconcile of one
 * Pipeline key. Whatever woke it, it reads the latest Pipeline and everything it refers to
 * from the informer caches (Secrets: metadata there, data of the referenced ones by GET when
 * their resourceVersion moved), computes the whole desired state, and converges:
 *
 *   decode spec → resolve Sinks, RetentionPolicy, Secrets → render (pure) → validate the
 *   runtime config with the runtime's own codec → ensure Kafka topics → apply children
 *   (server-side apply, nothing written when unchanged) → prune children no longer
 *   rendered → status (observedGeneration, Ready/Progressing/Degraded with a reason,
 *   replicas, endpoints; written only when it changed) → Events for condition transitions.
 *
 * A problem of one Pipeline (a missing Sink, an invalid stage, an unreachable Kafka) ends up
 * in its status and never stops the others: the queue just takes the next key.
 */
import type * as k8s from '@kubernetes/client-node';
import type { Logger } from '../../../runtime/src/common/index.js';
import { ConfigError } from '../../../runtime/src/common/index.js';
import { resolveRuntimeConfig, type RuntimeConfig } from '../../../runtime/src/platform/index.js';
import {
  API_VERSION,
  decodeResource,
  GROUP,
  InvalidSpecError,
  KINDS,
  VERSION,
  type Pipeline,
  type PipelineStatus,
  type RetentionPolicy,
  type Sink,
} from '../api/v1alpha1.js';
import type { Applier } from '../kube/apply.js';
import { apiError, describeApiError, isNotFound, objectKey, splitKey, type KubeClients } from '../kube/client.js';
import { mergeConditions, type Condition, type DesiredCondition } from '../kube/conditions.js';
import type { ReconcileResult } from '../kube/controller.js';
import type { EventRecorder } from '../kube/events.js';
import type { Informer } from '../kube/informer.js';
import type { SecretDataCache, SecretValues } from '../kube/secret-data.js';
import { StatusMemo } from '../kube/status-memo.js';
import type { OperatorMetrics } from '../metrics.js';
import { COMPONENTS, CONFIG_HASH_ANNOTATION, deploymentName, type PipelineInputs, type RenderedPipeline } from '../render/index.js';
import { KafkaUnavailableError, PodSecretReader, type TopicEnsurer } from './kafka-topics.js';
import { diagnosePods, type RuntimeFailure } from './runtime-failures.js';
import { apiKeysOf, checkSecretContents } from './secret-contents.js';

export interface RenderFunctions<Settings> {
  renderPipeline(inputs: PipelineInputs, settings: Settings): RenderedPipeline;
  referencedSecrets(pipeline: Pipeline, sinks: Sink[]): string[];
}

/** What the agent-routes controller needs from a Ready Pipeline with sources.kubernetes. */
export interface PipelineRoute {
  pipeline: string;
  route: unknown;
  apiKey: string;
}

export interface PipelineCaches {
  pipelines: Informer<k8s.KubernetesObject>;
  sinks: Informer<k8s.KubernetesObject>;
  retentionPolicies: Informer<k8s.KubernetesObject>;
  /** Metadata only (kube/metadata.ts): existence and resourceVersion; data comes from secretData. */
  secrets: Informer<k8s.KubernetesObject>;
  deployments: Informer<k8s.V1Deployment>;
  /** The runtimes' pods (the managed-by label): why a runtime is not ready (runtime-failures.ts). */
  pods: Informer<k8s.V1Pod>;
  /** Every kind of child the render may produce, by `apiVersion/kind`, for pruning. */
  children: Map<string, Informer<k8s.KubernetesObject>>;
}

export interface PipelineControllerDeps<Settings> {
  clients: KubeClients;
  caches: PipelineCaches;
  applier: Applier;
  /** The data of referenced Secrets, read on demand (the informer holds metadata only). */
  secretData: SecretDataCache;
  events: EventRecorder;
  topics: TopicEnsurer;
  render: RenderFunctions<Settings>;
  settings: Settings;
  metrics: OperatorMetrics;
  log: Logger;
  /** Called when the agent route of a Pipeline changed (appeared, changed, went away). */
  onRouteChange: () => void;
}

/** Why a Pipeline is not Ready before its runtimes are even considered. */
interface Blocker {
  reason: string;
  message: string;
  /** The runtimes keep running with the last good config; retry with backoff (Kafka) or wait for an event. */
  retry: boolean;
}

export class PipelineController<Settings> {
  /** Last agent route per Pipeline key: null when it has none or is not Ready. */
  readonly routes = new Map<string, PipelineRoute | null>();
  /** The status last written, until the cache has caught up with it (no duplicate transitions or Events). */
  private readonly statusMemo = new StatusMemo<PipelineStatus>();

  constructor(private readonly deps: PipelineControllerDeps<Settings>) {}

  /** The Pipeline keys in `namespace` that refer to the Sink/RetentionPolicy/Secret `name`. */
  pipelinesReferencing(kind: 'Sink' | 'RetentionPolicy' | 'Secret', namespace: string, name: string): string[] {
    const keys: string[] = [];
    for (const raw of this.deps.caches.pipelines.list(namespace)) {
      const decoded = decodeResource('Pipeline', raw);
      if (!decoded.ok) continue;
      const p = decoded.value;
      let uses = false;
      if (kind === 'Sink') uses = p.spec.sinks.hot.sinkRef.name === name || p.spec.sinks.cold?.sinkRef.name === name;
      else if (kind === 'RetentionPolicy') uses = p.spec.retentionPolicyRef?.name === name;
      else {
        try {
          uses = this.deps.render.referencedSecrets(p, this.sinksOf(p)).includes(name);
        } catch {
          uses = false;
        }
      }
      if (uses) keys.push(objectKey(raw));
    }
    return keys;
  }

  private sinksOf(p: Pipeline): Sink[] {
    const out: Sink[] = [];
    for (const ref of [p.spec.sinks.hot.sinkRef.name, p.spec.sinks.cold?.sinkRef.name]) {
      if (!ref) continue;
      const raw = this.deps.caches.sinks.get(ref, p.metadata.namespace);
      const decoded = raw ? decodeResource('Sink', raw) : undefined;
      if (decoded?.ok) out.push(decoded.value);
    }
    return out;
  }

  reconcile = async (key: string): Promise<ReconcileResult | void> => {
    const { namespace, name } = splitKey(key);
    const { caches, log } = this.deps;
    const raw = caches.pipelines.get(name, namespace);
    if (!raw || raw.metadata?.deletionTimestamp) {
      // Children go with the Pipeline (ownerReferences → garbage collector); only the agent
      // routes are ours to update.
      this.statusMemo.forget(key);
      if (this.routes.delete(key)) this.deps.onRouteChange();
      return;
    }
    const generation = raw.metadata?.generation ?? 0;
    let rendered: RenderedPipeline | undefined;
    let runtimeConfig: RuntimeConfig | undefined;
    let blocker: Blocker | undefined;
    let pipeline: Pipeline | undefined;
    let secretVersions: Record<string, string> = {};

    const decoded = decodeResource('Pipeline', raw);
    if (!decoded.ok) blocker = { reason: 'InvalidSpec', message: decoded.errors.join('; '), retry: false };
    else {
      pipeline = decoded.value;
      const resolved = this.resolve(pipeline);
      if ('blocker' in resolved) blocker = resolved.blocker;
      else {
        secretVersions = resolved.inputs.secretVersions;
        try {
          rendered = this.deps.render.renderPipeline(resolved.inputs, this.deps.settings);
          runtimeConfig = resolveRuntimeConfig(rendered.runtimeConfig, `the runtime config rendered from Pipeline ${key}`);
        } catch (error) {
          rendered = undefined;
          if (error instanceof InvalidSpecError) blocker = { reason: error.reason, message: error.message, retry: false };
          else if (error instanceof ConfigError)
            blocker = {
              reason: 'InvalidSpec',
              message: `the rendered runtime config is rejected by the runtime: ${error.errors.join('; ')}`,
              retry: false,
            };
          else throw error;
        }
      }
    }

    let applied = false;
    // Only a Pipeline that will run reads Secret data (a GET unless unchanged since the last read).
    let secretValues: SecretValues | undefined;
    if (rendered && runtimeConfig && pipeline) {
      secretValues = await this.deps.secretData.read(namespace, secretVersions);
      const problem = checkSecretContents(pipeline, rendered.objects, secretValues);
      if (problem) {
        // Nothing is applied: the runtimes keep the last good config (pods of this one could not start).
        blocker = { ...problem, retry: false };
        rendered = undefined;
        secretValues = undefined;
      }
    }
    if (rendered && runtimeConfig && pipeline && secretValues) {
      // Topics and children in parallel: the runtimes wait for Kafka themselves (ingestion
      // answers 503), so children are applied even while Kafka is down and a config change
      // still rolls out. The topics promise never rejects: its error is looked at below.
      const topics = this.deps.topics.ensure(runtimeConfig, this.podSecrets(namespace, rendered, secretValues)).then(
        () => undefined,
        (error: unknown) => error,
      );
      try {
        await this.applyChildren(key, rendered);
        await this.prune(raw, rendered);
        applied = true;
      } catch (error) {
        // The API server refused a child (422 Invalid, 403 RBAC…): say so in the status and
        // retry with backoff. Unreachable or failing (5xx): only retry.
        const e = apiError(error);
        if (e.status === 0 || e.status >= 500) {
          await topics;
          throw error;
        }
        blocker = { reason: 'ApplyFailed', message: `cannot apply the rendered objects: ${describeApiError(error)}`, retry: true };
      }
      const topicError = await topics;
      if (topicError !== undefined) {
        if (!(topicError instanceof KafkaUnavailableError)) throw topicError;
        blocker ??= { reason: topicError.reason, message: topicError.message, retry: topicError.retry };
      }
    }

    const previous = this.statusMemo.current(key, raw.metadata?.resourceVersion, (raw as { status?: PipelineStatus }).status) ?? {};
    const status = this.computeStatus(raw, previous, generation, rendered, blocker, applied);
    // The route first: a status write that fails must not keep the agent routes waiting.
    // Published whenever the spec and its Secrets are good, not only while Ready: a runtime
    // pod restarting (Ready=False for a while) must not stop the agent shipping, which
    // spools and retries while the ingestion is away.
    this.updateRoute(key, pipeline, rendered, secretValues);
    await this.writeStatus(raw, previous, status.status, status.transitions);

    if (blocker?.retry) return { retry: { reason: blocker.reason, message: blocker.message } };
    if (blocker) {
      this.deps.metrics.reconcileErrors.inc({ kind: 'Pipeline', reason: blocker.reason });
      // Said once at info when it starts (the transition), then only at debug on every retry.
      log[status.transitions.length > 0 ? 'info' : 'debug'](
        { pipeline: key, reason: blocker.reason },
        `Pipeline ${key} is not ready: ${blocker.message}`,
      );
    }
    return;
  };

  private resolve(p: Pipeline): { inputs: PipelineInputs } | { blocker: Blocker } {
    const { caches } = this.deps;
    const ns = p.metadata.namespace;
    const sinks: Record<'hot' | 'cold', Sink | undefined> = { hot: undefined, cold: undefined };
    for (const tier of ['hot', 'cold'] as const) {
      const ref = p.spec.sinks[tier]?.sinkRef.name;
      if (!ref) continue;
      const raw = caches.sinks.get(ref, ns);
      if (!raw) return { blocker: { reason: 'SinkNotFound', message: `${tier} sink "${ref}" not found in namespace ${ns}`, retry: false } };
      const decoded = decodeResource('Sink', raw);
      if (!decoded.ok)
        return {
          blocker: { reason: 'InvalidSink', message: `${tier} sink "${ref}" is invalid: ${decoded.errors.join('; ')}`, retry: false },
        };
      sinks[tier] = decoded.value;
    }
    let retention: RetentionPolicy | undefined;
    const rref = p.spec.retentionPolicyRef?.name;
    if (rref) {
      const raw = caches.retentionPolicies.get(rref, ns);
      if (!raw)
        return {
          blocker: { reason: 'RetentionPolicyNotFound', message: `retention policy "${rref}" not found in namespace ${ns}`, retry: false },
        };
      const decoded = decodeResource('RetentionPolicy', raw);
      if (!decoded.ok)
        return {
          blocker: {
            reason: 'InvalidRetentionPolicy',
            message: `retention policy "${rref}" is invalid: ${decoded.errors.join('; ')}`,
            retry: false,
          },
        };
      retention = decoded.value;
    }
    let secretNames: string[];
    try {
      secretNames = this.deps.render.referencedSecrets(
        p,
        [sinks.hot, sinks.cold].filter((s): s is Sink => s !== undefined),
      );
    } catch (error) {
      if (error instanceof InvalidSpecError) return { blocker: { reason: error.reason, message: error.message, retry: false } };
      throw error;
    }
    const secretVersions: Record<string, string> = {};
    const missing: string[] = [];
    for (const name of [...new Set(secretNames)].sort()) {
      const secret = caches.secrets.get(name, ns);
      if (!secret) missing.push(name);
      else secretVersions[name] = secret.metadata?.resourceVersion ?? '';
    }
    if (missing.length > 0)
      return {
        blocker: {
          reason: 'SecretNotFound',
          message: `secret${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')} not found in namespace ${ns}`,
          retry: false,
        },
      };
    return { inputs: { pipeline: p, hotSink: sinks.hot, coldSink: sinks.cold, retention, secretVersions } };
  }

  /** The runtime pods' view of their secrets (env from secretKeyRef, Secret volumes), for the operator's Kafka client. */
  private podSecrets(namespace: string, rendered: RenderedPipeline, values: SecretValues): PodSecretReader {
    const deployments = rendered.objects.filter((o): o is k8s.V1Deployment => o.kind === 'Deployment');
    const podSpec: k8s.V1PodSpec = {
      containers: deployments.flatMap((d) => d.spec?.template.spec?.containers ?? []),
      volumes: deployments.flatMap((d) => d.spec?.template.spec?.volumes ?? []),
    };
    // Every Secret the pods use is in this namespace and among the referenced ones read above.
    return new PodSecretReader(namespace, podSpec, (_ns, name, key) => values(name, key));
  }

  /** The ConfigMap first (the pods mount it), then every other child concurrently. */
  private async applyChildren(key: string, rendered: RenderedPipeline): Promise<void> {
    const applyOne = async (obj: k8s.KubernetesObject) => {
      const result = await this.deps.applier.apply(obj);
      if (result !== 'unchanged') {
        this.deps.metrics.writes.inc({ kind: obj.kind!, operation: result });
        this.deps.log.info(
          { pipeline: key, object: `${obj.kind}/${obj.metadata?.name}` },
          `${result === 'created' ? 'Created' : 'Configured'} ${obj.kind} ${objectKey(obj)}`,
        );
      }
    };
    const configMaps = rendered.objects.filter((o) => o.kind === 'ConfigMap');
    for (const obj of configMaps) await applyOne(obj);
    const results = await Promise.allSettled(rendered.objects.filter((o) => o.kind !== 'ConfigMap').map(applyOne));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Deletes children this Pipeline controls that the render no longer produces (e.g. the HPA after autoscaling was removed). */
  private async prune(owner: k8s.KubernetesObject, rendered: RenderedPipeline): Promise<void> {
    const uid = owner.metadata?.uid;
    const ns = owner.metadata?.namespace;
    if (!uid) return;
    const wanted = new Set(rendered.objects.map((o) => `${o.apiVersion}/${o.kind}/${o.metadata?.name}`));
    for (const [gvk, informer] of this.deps.caches.children) {
      for (const child of informer.list(ns)) {
        const owned = (child.metadata?.ownerReferences ?? []).some((r) => r.uid === uid && r.controller);
        if (!owned || wanted.has(`${gvk}/${child.metadata?.name}`)) continue;
        const [apiVersion, kind] = [gvk.slice(0, gvk.lastIndexOf('/')), gvk.slice(gvk.lastIndexOf('/') + 1)];
        if (await this.deps.applier.delete({ ...child, apiVersion, kind })) {
          this.deps.metrics.writes.inc({ kind, operation: 'deleted' });
          this.deps.log.info(
            { pipeline: objectKey(owner), object: `${kind}/${child.metadata?.name}` },
            `Deleted ${kind} ${objectKey(child)}: no longer rendered`,
          );
        }
      }
    }
  }

  private computeStatus(
    raw: k8s.KubernetesObject,
    previous: PipelineStatus,
    generation: number,
    rendered: RenderedPipeline | undefined,
    blocker: Blocker | undefined,
    applied: boolean,
  ): { status: PipelineStatus; transitions: ReturnType<typeof mergeConditions>['transitions']; ready: boolean } {
    const ns = raw.metadata!.namespace!;
    const name = raw.metadata!.name!;
    const runtimes: NonNullable<PipelineStatus['runtimes']> = {};
    const notReady: string[] = [];
    const rollingOut: string[] = [];
    /** The first runtime whose pods say why they fail, for a specific reason (not RuntimesNotReady). */
    let failure: (RuntimeFailure & { component: string }) | undefined;
    const deployments = rendered ? rendered.objects.filter((o) => o.kind === 'Deployment') : [];
    for (const d of deployments) {
      const component = COMPONENTS.find((c) => d.metadata?.name === deploymentName(name, c));
      const live = this.deps.caches.deployments.get(d.metadata!.name!, ns);
      // With an HPA, the autoscaler owns spec.replicas, which starts at 1: the runtime is not
      // ready before it reaches the HPA's minimum.
      const hpa = rendered!.objects.find(
        (o) => o.kind === 'HorizontalPodAutoscaler' && (o as k8s.V2HorizontalPodAutoscaler).spec?.scaleTargetRef.name === d.metadata?.name,
      ) as k8s.V2HorizontalPodAutoscaler | undefined;
      const desired = Math.max(live?.spec?.replicas ?? (d as k8s.V1Deployment).spec?.replicas ?? 1, hpa?.spec?.minReplicas ?? 0);
      const ready = live?.status?.readyReplicas ?? 0;
      if (component) runtimes[component] = { ready, desired };
      if (ready < desired) {
        notReady.push(`${component ?? d.metadata?.name} ${ready}/${desired}`);
        if (component && !failure) {
          const found = this.runtimeFailure(ns, name, component, d as k8s.V1Deployment);
          if (found) failure = { ...found, component };
        }
      }
      const s = live?.status;
      const complete =
        live !== undefined &&
        (s?.observedGeneration ?? 0) >= (live.metadata?.generation ?? 0) &&
        (s?.updatedReplicas ?? 0) >= desired &&
        (s?.replicas ?? 0) <= desired &&
        (s?.availableReplicas ?? 0) >= desired;
      if (!complete) rollingOut.push(component ?? d.metadata!.name!);
    }

    const conditions: DesiredCondition[] = [];
    const og = generation;
    let ready = false;
    if (blocker) {
      conditions.push({ type: 'Ready', status: 'False', reason: blocker.reason, message: blocker.message, observedGeneration: og });
      conditions.push(
        applied && rollingOut.length > 0
          ? {
              type: 'Progressing',
              status: 'True',
              reason: 'RollingOut',
              message: `rolling out: ${rollingOut.join(', ')}`,
              observedGeneration: og,
            }
          : {
              type: 'Progressing',
              status: 'False',
              reason: blocker.reason,
              message: 'waiting until the problem is fixed',
              observedGeneration: og,
            },
      );
      conditions.push({ type: 'Degraded', status: 'True', reason: blocker.reason, message: blocker.message, observedGeneration: og });
    } else {
      ready = notReady.length === 0 && rollingOut.length === 0;
      conditions.push(
        ready
          ? { type: 'Ready', status: 'True', reason: 'Ready', message: 'every runtime is available', observedGeneration: og }
          : failure
            ? {
                type: 'Ready',
                status: 'False',
                reason: failure.reason,
                message: `${failure.component}: ${failure.message}`,
                observedGeneration: og,
              }
            : {
                type: 'Ready',
                status: 'False',
                reason: rollingOut.length > 0 ? 'RollingOut' : 'RuntimesNotReady',
                message: notReady.length > 0 ? `runtimes not ready: ${notReady.join(', ')}` : `rolling out: ${rollingOut.join(', ')}`,
                observedGeneration: og,
              },
      );
      conditions.push(
        rollingOut.length > 0
          ? {
              type: 'Progressing',
              status: 'True',
              reason: 'RollingOut',
              message: `rolling out: ${rollingOut.join(', ')}`,
              observedGeneration: og,
            }
          : {
              type: 'Progressing',
              status: 'False',
              reason: 'RolloutComplete',
              message: 'every runtime runs the current config',
              observedGeneration: og,
            },
      );
      conditions.push(
        failure
          ? {
              type: 'Degraded',
              status: 'True',
              reason: failure.reason,
              message: `${failure.component}: ${failure.message}`,
              observedGeneration: og,
            }
          : { type: 'Degraded', status: 'False', reason: 'AsExpected', message: 'no problem found', observedGeneration: og },
      );
    }
    const merged = mergeConditions(previous.conditions as Condition[] | undefined, conditions, new Date());
    const status: PipelineStatus = { observedGeneration: generation, conditions: merged.conditions };
    if (rendered) {
      status.runtimes = runtimes;
      const endpoints: NonNullable<PipelineStatus['endpoints']> = {};
      for (const svc of rendered.objects.filter((o) => o.kind === 'Service')) {
        const component = (['ingestion', 'query'] as const).find((c) => svc.metadata?.name === `${name}-${c}`);
        const port = (svc as k8s.V1Service).spec?.ports?.[0]?.port ?? 8080;
        if (component) endpoints[component] = `http://${svc.metadata!.name}.${ns}:${port}`;
      }
      status.endpoints = endpoints;
      status.configHash = rendered.configHash;
    } else {
      // Keep what the runtimes still run: the last good config stays in place until fixed.
      if (previous.runtimes) status.runtimes = previous.runtimes;
      if (previous.endpoints) status.endpoints = previous.endpoints;
      if (previous.configHash) status.configHash = previous.configHash;
    }
    return { status, transitions: merged.transitions, ready };
  }

  /**
   * Why the pods of one runtime fail, looking only at pods of the current config (an old
   * ReplicaSet's pods on their way out say nothing about this one).
   */
  private runtimeFailure(ns: string, pipeline: string, component: string, rendered: k8s.V1Deployment): RuntimeFailure | undefined {
    const hash = rendered.spec?.template.metadata?.annotations?.[CONFIG_HASH_ANNOTATION];
    const pods = this.deps.caches.pods
      .list(ns)
      .filter(
        (p) =>
          p.metadata?.labels?.['app.kubernetes.io/instance'] === pipeline &&
          p.metadata.labels['app.kubernetes.io/component'] === component &&
          p.metadata.annotations?.[CONFIG_HASH_ANNOTATION] === hash,
      );
    return diagnosePods(pods, component);
  }

  private async writeStatus(
    raw: k8s.KubernetesObject,
    previous: PipelineStatus,
    status: PipelineStatus,
    transitions: ReturnType<typeof mergeConditions>['transitions'],
  ): Promise<void> {
    const key = objectKey(raw);
    if (!sameJson(previous, status)) {
      let written: unknown;
      try {
        written = await this.deps.clients.custom.patchNamespacedCustomObjectStatus({
          group: GROUP,
          version: VERSION,
          namespace: raw.metadata!.namespace!,
          plural: KINDS.Pipeline.plural,
          name: raw.metadata!.name!,
          // JSON patch (the client's default patch type): "add" replaces /status whole.
          body: [{ op: 'add', path: '/status', value: status }],
        });
      } catch (error) {
        // Deleted while it was being reconciled (e.g. its namespace is going away): not a
        // failure — its delete event removes what it owned from the routes.
        if (!isNotFound(error)) throw error;
        this.deps.log.debug({ pipeline: key }, 'Pipeline deleted during its reconcile; status not written');
        return;
      }
      this.statusMemo.wrote(key, (written as k8s.KubernetesObject | undefined)?.metadata?.resourceVersion, status);
      this.deps.metrics.writes.inc({ kind: 'Pipeline', operation: 'status' });
    }
    for (const tr of transitions) {
      if (tr.type === 'Progressing') continue;
      const bad = (tr.type === 'Ready' && tr.to !== 'True') || (tr.type === 'Degraded' && tr.to === 'True');
      this.deps.log.info(
        { pipeline: key, condition: tr.type, from: tr.from, to: tr.to, reason: tr.reason },
        `Pipeline ${key}: ${tr.type}=${tr.to} (${tr.reason})`,
      );
      // A first Ready=False while the runtimes start is normal; only report it when it says why.
      if (tr.type === 'Degraded' && tr.from === undefined && tr.to === 'False') continue;
      // Not awaited: an Event is best effort and must not slow the reconcile (the recorder
      // logs and counts failures; close() waits for the ones in flight).
      void this.deps.events.record({
        regarding: { apiVersion: API_VERSION, kind: 'Pipeline', metadata: raw.metadata },
        type: bad && tr.reason !== 'RollingOut' && tr.reason !== 'RuntimesNotReady' ? 'Warning' : 'Normal',
        reason: tr.reason,
        note: `${tr.type} is ${tr.to}: ${tr.message}`,
        action: 'Reconcile',
      });
    }
  }

  private updateRoute(
    key: string,
    pipeline: Pipeline | undefined,
    rendered: RenderedPipeline | undefined,
    values: SecretValues | undefined,
  ): void {
    let next: PipelineRoute | null = null;
    if (pipeline && rendered?.agentRoute && values) {
      const ref = pipeline.spec.sources.http.apiKeysSecretRef;
      const apiKey = apiKeysOf(values(ref.name, ref.key))[0];
      if (apiKey) next = { pipeline: key, route: rendered.agentRoute, apiKey };
      else
        this.deps.log.warn(
          { pipeline: key },
          `Pipeline ${key}: no API key in Secret ${ref.name}/${ref.key}; the node agent gets no route for it`,
        );
    }
    const had = this.routes.has(key);
    const before = this.routes.get(key);
    this.routes.set(key, next);
    if (!had || !sameJson(before, next)) this.deps.onRouteChange();
  }
}

export function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = sortKeys(v);
    }
    return out;
  }
  return value;
}
