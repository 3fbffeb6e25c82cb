/**
 * The operator process (`sextant operator`): informers over Pipelines, Sinks,
 * RetentionPolicies, Secrets (metadata only: see kube/metadata.ts) and the children it owns; the Pipeline controller and the
 * agent-routes controller; leader election on a Lease (only the leader reconciles, every
 * replica keeps warm caches); /healthz, /readyz (caches synced) and /metrics.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import type * as k8s from '@kubernetes/client-node';
import type { Logger } from '../../runtime/src/common/index.js';
import { GROUP, KINDS, VERSION } from './api/v1alpha1.js';
import { agentRoutesReconciler, AGENT_ROUTES_KEY } from './controllers/agent-routes.js';
import { TopicEnsurer } from './controllers/kafka-topics.js';
import { PipelineController } from './controllers/pipeline.js';
import { sinkReconciler } from './controllers/sink.js';
import { Applier } from './kube/apply.js';
import { isNotFound, loadKubeConfig, makeClients, objectKey, type KubeClients } from './kube/client.js';
import { Controller } from './kube/controller.js';
import { EventRecorder } from './kube/events.js';
import { Informer, type InformerEvent } from './kube/informer.js';
import { defaultLeaseTimings, LeaderElector } from './kube/leader.js';
import { metadataListOptions, metadataWatch, slimList } from './kube/metadata.js';
import { WorkQueue } from './kube/queue.js';
import { SecretDataCache } from './kube/secret-data.js';
import { OperatorMetrics } from './metrics.js';
import {
  AGENT_ROUTE_KEYS_SECRET,
  AGENT_ROUTES_CONFIGMAP,
  referencedSecrets,
  renderAgentConfig,
  renderPipeline,
  type KubernetesObject,
  type OperatorSettings,
} from './render/index.js';

/** Children carry this label; the child informers watch only objects with it. */
export const MANAGED_SELECTOR = 'app.kubernetes.io/managed-by=sextant-operator';

export interface OperatorOptions {
  kubeconfig?: string;
  /** Where the operator runs: the Lease and the agent routes live here. */
  namespace: string;
  image: string;
  imagePullPolicy?: string;
  /** Let Pipelines collect pods of other namespaces (OperatorSettings.allowCrossNamespaceCollection). */
  allowCrossNamespaceCollection?: boolean;
  leaderElect: boolean;
  leaseName: string;
  host: string;
  port: number;
  resyncMs: number;
  workers: number;
  identity?: string;
  /** Lease timings; tests shorten them. */
  lease?: typeof defaultLeaseTimings;
  log: Logger;
  /** Called when leadership is lost: the process must exit so it cannot act as a second leader. */
  onLostLeadership: () => void;
}

export interface RunningOperator {
  url: string;
  identity: string;
  close(): Promise<void>;
}

function customList(clients: KubeClients, plural: string) {
  return async () =>
    (await clients.custom.listClusterCustomObject({
      group: GROUP,
      version: VERSION,
      plural,
    })) as k8s.KubernetesListObject<k8s.KubernetesObject>;
}

export async function startOperator(options: OperatorOptions): Promise<RunningOperator> {
  const { log } = options;
  const clients = makeClients(loadKubeConfig(options.kubeconfig));
  const metrics = new OperatorMetrics();
  const identity = options.identity ?? `${process.env.POD_NAME ?? os.hostname()}-${crypto.randomBytes(4).toString('hex')}`;
  const settings: OperatorSettings = {
    image: options.image,
    operatorNamespace: options.namespace,
    ...(options.imagePullPolicy ? { imagePullPolicy: options.imagePullPolicy } : {}),
    allowCrossNamespaceCollection: options.allowCrossNamespaceCollection === true,
  };

  const informerOptions = {
    resyncMs: options.resyncMs,
    log,
    onRestart: (name: string) => metrics.informerRestarts.inc({ informer: name }),
  };
  const { kc } = clients;
  const pipelines = new Informer(kc, {
    ...informerOptions,
    name: 'pipelines',
    path: `/apis/${GROUP}/${VERSION}/pipelines`,
    list: customList(clients, 'pipelines'),
  });
  const sinks = new Informer(kc, {
    ...informerOptions,
    name: 'sinks',
    path: `/apis/${GROUP}/${VERSION}/sinks`,
    list: customList(clients, 'sinks'),
  });
  const retentionPolicies = new Informer(kc, {
    ...informerOptions,
    name: 'retentionpolicies',
    path: `/apis/${GROUP}/${VERSION}/retentionpolicies`,
    list: customList(clients, KINDS.RetentionPolicy.plural),
  });
  // Every Secret of the cluster, metadata only: existence and resourceVersion are what
  // Pipelines and Sinks need to be told about; a full cache would hold every Helm release.
  const secrets = new Informer<k8s.KubernetesObject>(kc, {
    ...informerOptions,
    name: 'secrets',
    path: '/api/v1/secrets',
    list: () => slimList(clients.core.listSecretForAllNamespaces({}, metadataListOptions())),
    watch: metadataWatch(kc),
  });
  const secretData = new SecretDataCache(
    async (namespace, name) => {
      try {
        return await clients.core.readNamespacedSecret({ namespace, name });
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
    (source) => metrics.secretReads.inc({ source }),
  );
  const managed = { ...informerOptions, labelSelector: MANAGED_SELECTOR };
  // The operator's own Secret (the agent route keys, in its namespace), in full: the applier
  // compares its data to decide that an apply would change nothing.
  const managedSecrets = new Informer<k8s.V1Secret>(kc, {
    ...managed,
    name: 'managed-secrets',
    path: `/api/v1/namespaces/${options.namespace}/secrets`,
    list: () => clients.core.listNamespacedSecret({ namespace: options.namespace, labelSelector: MANAGED_SELECTOR }),
  });
  const deployments = new Informer<k8s.V1Deployment>(kc, {
    ...managed,
    name: 'deployments',
    path: '/apis/apps/v1/deployments',
    list: () => clients.apps.listDeploymentForAllNamespaces({ labelSelector: MANAGED_SELECTOR }),
  });
  const services = new Informer<k8s.V1Service>(kc, {
    ...managed,
    name: 'services',
    path: '/api/v1/services',
    list: () => clients.core.listServiceForAllNamespaces({ labelSelector: MANAGED_SELECTOR }),
  });
  const configMaps = new Informer<k8s.V1ConfigMap>(kc, {
    ...managed,
    name: 'configmaps',
    path: '/api/v1/configmaps',
    list: () => clients.core.listConfigMapForAllNamespaces({ labelSelector: MANAGED_SELECTOR }),
  });
  const pdbs = new Informer<k8s.V1PodDisruptionBudget>(kc, {
    ...managed,
    name: 'poddisruptionbudgets',
    path: '/apis/policy/v1/poddisruptionbudgets',
    list: () => clients.policy.listPodDisruptionBudgetForAllNamespaces({ labelSelector: MANAGED_SELECTOR }),
  });
  const hpas = new Informer<k8s.V2HorizontalPodAutoscaler>(kc, {
    ...managed,
    name: 'horizontalpodautoscalers',
    path: '/apis/autoscaling/v2/horizontalpodautoscalers',
    list: () => clients.autoscaling.listHorizontalPodAutoscalerForAllNamespaces({ labelSelector: MANAGED_SELECTOR }),
  });
  // Read only, for the reasons of runtimes that are not ready (controllers/runtime-failures.ts).
  const pods = new Informer<k8s.V1Pod>(kc, {
    ...managed,
    name: 'pods',
    path: '/api/v1/pods',
    list: () => clients.core.listPodForAllNamespaces({ labelSelector: MANAGED_SELECTOR }),
  });
  const children = new Map<string, Informer<k8s.KubernetesObject>>([
    ['apps/v1/Deployment', deployments as Informer<k8s.KubernetesObject>],
    ['v1/Service', services as Informer<k8s.KubernetesObject>],
    ['v1/ConfigMap', configMaps as Informer<k8s.KubernetesObject>],
    ['policy/v1/PodDisruptionBudget', pdbs as Informer<k8s.KubernetesObject>],
    ['autoscaling/v2/HorizontalPodAutoscaler', hpas as unknown as Informer<k8s.KubernetesObject>],
  ]);
  const lookupInformers = new Map<string, Informer<k8s.KubernetesObject>>([
    ...children,
    ['v1/Secret', managedSecrets as Informer<k8s.KubernetesObject>],
  ]);
  const all: Informer<k8s.KubernetesObject>[] = [
    pipelines,
    sinks,
    retentionPolicies,
    secrets,
    pods as Informer<k8s.KubernetesObject>,
    ...lookupInformers.values(),
  ];

  const applier = new Applier(clients, {
    get: (apiVersion, kind, name, namespace) => lookupInformers.get(`${apiVersion}/${kind}`)?.get(name, namespace),
  });
  const events = new EventRecorder(clients, identity, log, () => metrics.eventFailures.inc());
  const pipelineQueue = new WorkQueue('Pipeline');
  const agentQueue = new WorkQueue('AgentRoutes', undefined, { baseMs: 1_000, maxMs: 60_000 });
  // A burst of Pipeline reconciles (startup, 50 Pipelines applied at once) becomes one rebuild.
  const routesChanged = () => agentQueue.addAfter(AGENT_ROUTES_KEY, 500);
  const pipelineController = new PipelineController({
    clients,
    caches: { pipelines, sinks, retentionPolicies, secrets, deployments, pods, children },
    applier,
    secretData,
    events,
    topics: new TopicEnsurer(log),
    render: { renderPipeline, referencedSecrets },
    settings,
    metrics,
    log,
    onRouteChange: routesChanged,
  });
  const sinkQueue = new WorkQueue('Sink');
  const controllers = [
    new Controller(
      'Sink',
      sinkQueue,
      sinkReconciler({ clients, sinks, pipelines, secrets, events, metrics, log: log.child({ controller: 'sink' }) }),
      metrics,
      log.child({ controller: 'sink' }),
    ),
    new Controller('Pipeline', pipelineQueue, pipelineController.reconcile, metrics, log.child({ controller: 'pipeline' })),
    new Controller(
      'AgentRoutes',
      agentQueue,
      agentRoutesReconciler({
        pipelines,
        routes: pipelineController.routes,
        render: (routes, s) => renderAgentConfig(routes, s) as KubernetesObject[],
        settings,
        applier,
        metrics,
        log: log.child({ controller: 'agent-routes' }),
      }),
      metrics,
      log.child({ controller: 'agent-routes' }),
    ),
  ];

  // Event wiring: every event only enqueues keys (level-triggered, docs/architecture.md §6).
  pipelines.on((obj) => pipelineQueue.add(objectKey(obj)));
  // Which Pipelines use a Sink (status.usedBy, the in-use finalizer): a Pipeline that changed
  // its sinks or went away may have let go of any Sink of its namespace.
  pipelines.on((obj, event) => {
    if (event === 'resync' || !obj.metadata?.namespace) return;
    for (const sink of sinks.list(obj.metadata.namespace)) sinkQueue.add(objectKey(sink));
  });
  for (const informer of children.values())
    informer.on((obj, event) => {
      if (event === 'resync') return;
      const owner = obj.metadata?.ownerReferences?.find(
        (r) => r.controller && r.kind === 'Pipeline' && r.apiVersion === `${GROUP}/${VERSION}`,
      );
      if (owner && obj.metadata?.namespace) pipelineQueue.add(`${obj.metadata.namespace}/${owner.name}`);
    });
  // A pod belongs to its ReplicaSet, not to the Pipeline: its labels name the Pipeline.
  pods.on((obj, event) => {
    const pipeline = obj.metadata?.labels?.['app.kubernetes.io/instance'];
    if (event !== 'resync' && pipeline && obj.metadata?.namespace) pipelineQueue.add(`${obj.metadata.namespace}/${pipeline}`);
  });
  const referenced = (kind: 'Sink' | 'RetentionPolicy' | 'Secret') => (obj: k8s.KubernetesObject, event: InformerEvent) => {
    // The Pipelines' own resync covers these; a resync of every Secret in the cluster would
    // only repeat the same keys.
    if (event === 'resync' || !obj.metadata?.namespace || !obj.metadata.name) return;
    for (const key of pipelineController.pipelinesReferencing(kind, obj.metadata.namespace, obj.metadata.name)) pipelineQueue.add(key);
  };
  sinks.on(referenced('Sink'));
  sinks.on((obj) => sinkQueue.add(objectKey(obj)));
  retentionPolicies.on(referenced('RetentionPolicy'));
  secrets.on(referenced('Secret'));
  secrets.on((obj, event) => {
    if (event === 'delete' && obj.metadata?.namespace && obj.metadata.name) secretData.forget(obj.metadata.namespace, obj.metadata.name);
  });
  secrets.on((obj, event) => {
    if (event === 'resync' || !obj.metadata?.namespace) return;
    for (const sink of sinks.list(obj.metadata.namespace))
      if (JSON.stringify((sink as { spec?: unknown }).spec ?? {}).includes(`"name":"${obj.metadata.name}"`)) sinkQueue.add(objectKey(sink));
  });
  const agentObject = (name: string) => (obj: k8s.KubernetesObject, event: InformerEvent) => {
    if (event !== 'resync' && obj.metadata?.namespace === options.namespace && obj.metadata.name === name) routesChanged();
  };
  managedSecrets.on(agentObject(AGENT_ROUTE_KEYS_SECRET));
  configMaps.on(agentObject(AGENT_ROUTES_CONFIGMAP));

  // HTTP: health, readiness (every cache synced) and metrics.
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'text/plain' }).end('method not allowed\n');
    } else if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      const notSynced = all.filter((i) => !i.hasSynced()).map((i) => i.name);
      if (notSynced.length === 0) res.writeHead(200, { 'content-type': 'text/plain' }).end('ready\n');
      else res.writeHead(503, { 'content-type': 'text/plain' }).end(`not ready: caches not synced: ${notSynced.join(', ')}\n`);
    } else if (path === '/metrics') {
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        (error: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${(error as Error).message}\n`),
      );
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;

  await Promise.all(all.map((i) => i.start()));

  let running = false;
  let closing = false;
  const startControllers = async () => {
    await Promise.all(all.map((i) => i.waitForSync()));
    if (closing || running) return;
    running = true;
    log.info({ pipelines: pipelines.list().length, identity }, 'caches synced; reconciling');
    for (const c of controllers) c.start(options.workers);
    // Everything once: the leader that just took over does not know what the last one did.
    pipelines.resync();
    sinks.resync();
    agentQueue.add(AGENT_ROUTES_KEY);
  };

  let elector: LeaderElector | undefined;
  if (options.leaderElect) {
    metrics.leader.set(0);
    elector = new LeaderElector(clients, {
      namespace: options.namespace,
      name: options.leaseName,
      identity,
      ...(options.lease ?? defaultLeaseTimings),
      log,
      onStartedLeading: () => {
        metrics.leader.set(1);
        void startControllers();
      },
      onStoppedLeading: () => {
        metrics.leader.set(0);
        options.onLostLeadership();
      },
    });
    elector.start();
  } else {
    metrics.leader.set(1);
    void startControllers();
  }

  return {
    url: `http://${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}`,
    identity,
    close: async () => {
      closing = true;
      // Stop events first, then let the reconciles in flight finish, then hand over the lease:
      // a successor never runs while this replica still writes.
      await Promise.all(all.map((i) => i.stop()));
      await Promise.all(controllers.map((c) => c.stop()));
      await events.flush();
      if (elector) await elector.stop();
      metrics.leader.set(0);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
