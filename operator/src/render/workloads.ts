/**
 * The Kubernetes objects of one runtime of a Pipeline: Deployment, Service (ingestion and
 * query), PodDisruptionBudget and HorizontalPodAutoscaler.
 */
import type {
  V1Deployment,
  V1EnvVar,
  V1PodDisruptionBudget,
  V1ResourceRequirements,
  V1Service,
  V1Volume,
  V1VolumeMount,
  V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import type { Pipeline, RuntimeSettings } from '../api/v1alpha1.js';
import {
  commonLabels,
  CONFIG_DIR,
  CONFIG_HASH_ANNOTATION,
  CONFIG_KEY,
  CONFIG_PATH,
  configMapName,
  deploymentName,
  HTTP_PORT,
  ownerReference,
  RUNTIME_UID,
  selectorLabels,
  serviceName,
  type Component,
  type OperatorSettings,
} from './common.js';
import type { SecretEnv, SecretMount } from './runtime-config.js';

const WHAT: Record<Component, string> = {
  ingestion: 'HTTP ingestion API → Kafka',
  processor: 'Kafka → processor stages → sinks',
  query: 'Prometheus, Loki and native query APIs',
};

/** Requests that let a small cluster schedule all three; a memory limit so a leak cannot take the node. */
const DEFAULT_RESOURCES: V1ResourceRequirements = { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } };

function metadata(pipeline: Pipeline, name: string, component: Component) {
  return {
    name,
    namespace: pipeline.metadata.namespace,
    labels: commonLabels(pipeline.metadata.name, component),
    ownerReferences: [ownerReference(pipeline)],
  };
}

export interface WorkloadInputs {
  pipeline: Pipeline;
  component: Component;
  settings: RuntimeSettings | undefined;
  env: SecretEnv[];
  mounts: SecretMount[];
  configHash: string;
  operator: OperatorSettings;
}

export function renderDeployment(w: WorkloadInputs): V1Deployment {
  const name = w.pipeline.metadata.name;
  const env: V1EnvVar[] = w.env
    .filter((e) => e.components.includes(w.component))
    .map((e) => ({ name: e.name, valueFrom: { secretKeyRef: { name: e.secretName, key: e.key } } }));
  const mounts = w.mounts.filter((m) => m.components.includes(w.component));
  const volumes: V1Volume[] = [
    { name: 'config', configMap: { name: configMapName(name), items: [{ key: CONFIG_KEY, path: CONFIG_KEY }] } },
    // readOnlyRootFilesystem: the only writable place (kafkajs and Node write nothing else).
    { name: 'tmp', emptyDir: { sizeLimit: '256Mi' } },
    ...mounts.map((m) => ({
      name: m.volumeName,
      secret: { secretName: m.secretName, items: m.keys.map((key) => ({ key, path: key })), defaultMode: 0o440 },
    })),
  ];
  const volumeMounts: V1VolumeMount[] = [
    { name: 'config', mountPath: CONFIG_DIR, readOnly: true },
    { name: 'tmp', mountPath: '/tmp' },
    ...mounts.map((m) => ({ name: m.volumeName, mountPath: m.mountPath, readOnly: true })),
  ];
  const s = w.settings;
  const resources = s?.resources ? (s.resources as V1ResourceRequirements) : DEFAULT_RESOURCES;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      ...metadata(w.pipeline, deploymentName(name, w.component), w.component),
      annotations: { 'sextant.dev/description': WHAT[w.component] },
    },
    spec: {
      // With an HPA the autoscaler owns replicas: leaving the field out keeps server-side apply from resetting it.
      ...(s?.autoscaling ? {} : { replicas: s?.replicas ?? 1 }),
      revisionHistoryLimit: 5,
      selector: { matchLabels: selectorLabels(name, w.component) },
      // One new pod before an old one goes: a rollout never lowers capacity.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: {
          labels: commonLabels(name, w.component),
          annotations: {
            [CONFIG_HASH_ANNOTATION]: w.configHash,
            // /metrics needs no key: Prometheus' kubernetes-pods discovery and the node agent's
            // pod scraping find the runtimes by these (the chart's PodMonitor does too).
            'prometheus.io/scrape': 'true',
            'prometheus.io/port': String(HTTP_PORT),
            'prometheus.io/path': '/metrics',
          },
        },
        spec: {
          // The runtimes never call the Kubernetes API.
          automountServiceAccountToken: false,
          ...(s?.nodeSelector ? { nodeSelector: s.nodeSelector } : {}),
          ...(s?.tolerations ? { tolerations: s.tolerations } : {}),
          enableServiceLinks: false,
          terminationGracePeriodSeconds: 30,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: RUNTIME_UID,
            runAsGroup: RUNTIME_UID,
            fsGroup: RUNTIME_UID,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: w.component,
              image: w.operator.image,
              ...(w.operator.imagePullPolicy ? { imagePullPolicy: w.operator.imagePullPolicy } : {}),
              args: [w.component, '--config', CONFIG_PATH],
              // A runtime that exits on an error (a refused config: code 2) leaves its last
              // words as the termination message, which the Pipeline's status quotes.
              terminationMessagePolicy: 'FallbackToLogsOnError',
              ports: [{ name: 'http', containerPort: HTTP_PORT, protocol: 'TCP' }],
              env,
              resources,
              livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
              readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 2 },
              securityContext: {
                runAsNonRoot: true,
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
                seccompProfile: { type: 'RuntimeDefault' },
              },
              volumeMounts,
            },
          ],
          volumes,
        },
      },
    },
  };
}

export function renderService(pipeline: Pipeline, component: 'ingestion' | 'query'): V1Service {
  const name = pipeline.metadata.name;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(pipeline, serviceName(name, component), component),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(name, component),
      ports: [{ name: 'http', port: HTTP_PORT, targetPort: 'http', protocol: 'TCP' }],
    },
  };
}

/**
 * A PDB for each runtime that can run more than one pod (replicas > 1 or autoscaling), with
 * maxUnavailable 1: a drain moves pods one at a time (one Kafka rebalance at a time for the
 * processor) and, unlike minAvailable, it never blocks a drain of a single-replica runtime,
 * which is why single-replica runtimes get none.
 */
export function renderPdb(
  pipeline: Pipeline,
  component: Component,
  settings: RuntimeSettings | undefined,
): V1PodDisruptionBudget | undefined {
  const many = settings?.autoscaling !== undefined || (settings?.replicas ?? 1) > 1;
  if (!many) return undefined;
  const name = pipeline.metadata.name;
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: metadata(pipeline, deploymentName(name, component), component),
    spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(name, component) } },
  };
}

export function renderHpa(
  pipeline: Pipeline,
  component: Component,
  settings: RuntimeSettings | undefined,
): V2HorizontalPodAutoscaler | undefined {
  const a = settings?.autoscaling;
  if (a === undefined) return undefined;
  const name = pipeline.metadata.name;
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: metadata(pipeline, deploymentName(name, component), component),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: deploymentName(name, component) },
      minReplicas: a.minReplicas,
      maxReplicas: a.maxReplicas,
      metrics: [
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: a.targetCPUUtilizationPercentage } },
        },
      ],
    },
  };
}
