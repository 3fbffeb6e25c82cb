/**
 * The node agent's routing table: which pods' logs (and, optionally, node metrics and the
 * metrics scraped from annotated pods) go to which Pipeline's ingestion Service, with which
 * API key. One cluster-wide ConfigMap
 * (`sextant-agent-routes`, key routes.yaml, read by agent-daemonset/src/config.ts
 * RoutesFileConfig) and one Secret with the keys (`sextant-agent-route-keys`), both in the
 * operator's namespace, where the agent DaemonSet mounts them: the ConfigMap as the routes
 * file, the Secret at AGENT_ROUTE_KEYS_DIR (the Helm chart must mount it there).
 */
import YAML from 'yaml';
import type { V1ConfigMap, V1Secret } from '@kubernetes/client-node';
import { parseApiKeys } from '../../../runtime/src/platform/index.js';
import type { LabelSelector, Pipeline } from '../api/v1alpha1.js';
import { HTTP_PORT, serviceName, sha256, sortKeys, type OperatorSettings } from './common.js';

export const AGENT_ROUTES_CONFIGMAP = 'sextant-agent-routes';
export const AGENT_ROUTES_KEY = 'routes.yaml';
export const AGENT_ROUTE_KEYS_SECRET = 'sextant-agent-route-keys';
export const AGENT_ROUTE_KEYS_DIR = '/etc/sextant/agent-route-keys';

/** What a Pipeline asks of the agent; the controller adds the API key it reads from the Secret. */
export interface AgentRouteSpec {
  /** routeName(): `<namespace>.<pipeline>`, unique in the cluster, valid as a Secret key and agent route name. */
  name: string;
  pipeline: { namespace: string; name: string };
  /** Base URL of the Pipeline's ingestion Service. */
  endpoint: string;
  namespaces: string[];
  podSelector?: LabelSelector;
  containers?: string[];
  logs: boolean;
  nodeMetrics: boolean;
  /** Scrape the selected pods annotated prometheus.io/scrape (agent-daemonset/src/podmetrics). */
  podMetrics: boolean;
  /** Where the controller reads the key: the Pipeline's API keys Secret (the first key is used). */
  apiKeySecretRef: { namespace: string; name: string; key: string };
}

export interface AgentRoute extends AgentRouteSpec {
  /** The value of apiKeySecretRef (comma- or newline-separated keys; the first is used). */
  apiKey: string;
}

/** The agent route of a Pipeline, or undefined when it has no sources.kubernetes (or nothing for the agent to ship). */
export function agentRouteFor(pipeline: Pipeline): AgentRouteSpec | undefined {
  const k = pipeline.spec.sources.kubernetes;
  if (k === undefined) return undefined;
  const { namespace, name } = pipeline.metadata;
  const keys = pipeline.spec.sources.http.apiKeysSecretRef;
  const logs = pipeline.spec.signals.includes('logs');
  const metrics = pipeline.spec.signals.includes('metrics');
  const nodeMetrics = k.nodeMetrics === true && metrics;
  const podMetrics = k.podMetrics === true && metrics;
  // A metrics-only Pipeline that neither reports nodes nor scrapes pods has nothing for the agent to ship.
  if (!logs && !nodeMetrics && !podMetrics) return undefined;
  return {
    name: routeName(namespace, name),
    pipeline: { namespace, name },
    endpoint: `http://${serviceName(name, 'ingestion')}.${namespace}.svc:${HTTP_PORT}`,
    namespaces: k.namespaces ?? [namespace],
    ...(k.podSelector ? { podSelector: k.podSelector } : {}),
    ...(k.containers ? { containers: k.containers } : {}),
    logs,
    nodeMetrics,
    podMetrics,
    apiKeySecretRef: { namespace, name: keys.name, key: keys.key },
  };
}

/**
 * `<namespace>.<pipeline>`: unique in the cluster (namespaces and names hold no "."), and a
 * valid agent route name and Secret key. The agent allows 63 characters (the name is its
 * spool folder), so a longer one keeps a prefix and a hash of the whole.
 */
export function routeName(namespace: string, pipeline: string): string {
  const full = `${namespace}.${pipeline}`;
  if (full.length <= 63) return full;
  return `${full.slice(0, 54).replace(/[-.]+$/, '')}-${sha256(full).slice(0, 8)}`;
}

const agentLabels = () => ({
  'app.kubernetes.io/name': 'sextant',
  'app.kubernetes.io/component': 'agent',
  'app.kubernetes.io/managed-by': 'sextant-operator',
  'app.kubernetes.io/part-of': 'sextant',
});

/**
 * The routes ConfigMap and keys Secret for every route in the cluster. Routes are sorted by
 * name, so the output does not depend on the order the controller found the Pipelines in.
 * A route whose Secret holds no key is left out (the controller reports SecretNotFound/InvalidSpec on that Pipeline).
 */
export function renderAgentConfig(routes: AgentRoute[], settings: OperatorSettings): [V1ConfigMap, V1Secret] {
  const usable = routes.filter((r) => parseApiKeys(r.apiKey).length > 0).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const file = {
    routes: usable.map((r) =>
      sortKeys({
        name: r.name,
        endpoint: r.endpoint,
        apiKey: { file: `${AGENT_ROUTE_KEYS_DIR}/${r.name}` },
        namespaces: r.namespaces,
        podSelector: r.podSelector,
        containers: r.containers,
        logs: r.logs,
        nodeMetrics: r.nodeMetrics,
        podMetrics: r.podMetrics,
      }),
    ),
  };
  const data: Record<string, string> = {};
  for (const r of usable) data[r.name] = Buffer.from(parseApiKeys(r.apiKey)[0]!, 'utf8').toString('base64');
  const header = '# Rendered by the Sextant operator from the Pipelines with sources.kubernetes; edits are overwritten.\n';
  return [
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: AGENT_ROUTES_CONFIGMAP, namespace: settings.operatorNamespace, labels: agentLabels() },
      data: { [AGENT_ROUTES_KEY]: header + YAML.stringify(file, { lineWidth: 0 }) },
    },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: { name: AGENT_ROUTE_KEYS_SECRET, namespace: settings.operatorNamespace, labels: agentLabels() },
      data,
    },
  ];
}
