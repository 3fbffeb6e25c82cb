/**
 * The cluster-wide node-agent routing config: one ConfigMap (routes) and one Secret (API
 * keys) in the operator's namespace, rebuilt from every valid Pipeline that has
 * sources.kubernetes. Pipelines report their route to this controller after each reconcile;
 * it runs under one fixed queue key, so a burst of Pipeline reconciles becomes one rebuild.
 */
import type { Logger } from '../../../runtime/src/common/index.js';
import type { Applier } from '../kube/apply.js';
import type { ReconcileResult } from '../kube/controller.js';
import { objectKey } from '../kube/client.js';
import type { Informer } from '../kube/informer.js';
import type { OperatorMetrics } from '../metrics.js';
import type { AgentRoute, AgentRouteSpec, KubernetesObject, OperatorSettings } from '../render/index.js';
import type { PipelineRoute } from './pipeline.js';

export const AGENT_ROUTES_KEY = 'cluster/agent-routes';

export interface AgentRoutesDeps {
  pipelines: Informer<KubernetesObject>;
  routes: ReadonlyMap<string, PipelineRoute | null>;
  render: (routes: AgentRoute[], settings: OperatorSettings) => KubernetesObject[];
  settings: OperatorSettings;
  applier: Applier;
  metrics: OperatorMetrics;
  log: Logger;
}

export function agentRoutesReconciler(deps: AgentRoutesDeps) {
  return async (): Promise<ReconcileResult | void> => {
    // Right after start (or gaining leadership) some Pipelines have not been reconciled yet:
    // rendering now would drop their routes for a moment and write twice. Wait for them.
    const pending = deps.pipelines.list().filter((p) => !deps.routes.has(objectKey(p)));
    if (pending.length > 0) return { requeueAfterMs: 1_000 };
    const routes: AgentRoute[] = [];
    for (const entry of deps.routes.values()) if (entry) routes.push({ ...(entry.route as AgentRouteSpec), apiKey: entry.apiKey });
    for (const obj of deps.render(routes, deps.settings)) {
      const result = await deps.applier.apply(obj);
      if (result === 'unchanged') continue;
      deps.metrics.writes.inc({ kind: obj.kind!, operation: result });
      deps.log.info(
        { routes: routes.length },
        `${result === 'created' ? 'Created' : 'Configured'} ${obj.kind} ${objectKey(obj)} (agent routes)`,
      );
    }
  };
}
