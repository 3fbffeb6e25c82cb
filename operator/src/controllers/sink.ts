/**
 * Sink status (what `kubectl get ssink` shows in its Ready and Reason columns): a Sink is
 * Ready when its spec decodes and the Secrets it references exist in its namespace. The
 * operator never connects to the backend itself — the processor reports write failures in
 * its own metrics and readiness — so Ready says "usable by a Pipeline", not "reachable".
 */
import type * as k8s from '@kubernetes/client-node';
import type { Logger } from '../../../runtime/src/common/log.js';
import { decodeResource, GROUP, KINDS, VERSION, type SinkStatus } from '../api/v1alpha1.js';
import { splitKey, type KubeClients } from '../kube/client.js';
import { mergeConditions, type Condition, type DesiredCondition } from '../kube/conditions.js';
import type { Informer } from '../kube/informer.js';
import { StatusMemo } from '../kube/status-memo.js';
import type { OperatorMetrics } from '../metrics.js';
import { sameJson } from './pipeline.js';

export interface SinkControllerDeps {
  clients: KubeClients;
  sinks: Informer<k8s.KubernetesObject>;
  /** Metadata only: a Sink needs its Secrets to exist, not their data. */
  secrets: Informer<k8s.KubernetesObject>;
  metrics: OperatorMetrics;
  log: Logger;
}

export function sinkReconciler(deps: SinkControllerDeps) {
  // The status last written, until the cache has caught up with it (no duplicate transitions).
  const memo = new StatusMemo<SinkStatus>();
  return async (key: string): Promise<void> => {
    const { namespace, name } = splitKey(key);
    const raw = deps.sinks.get(name, namespace);
    if (!raw || raw.metadata?.deletionTimestamp) {
      memo.forget(key);
      return;
    }
    const generation = raw.metadata?.generation ?? 0;
    let ready: DesiredCondition;
    const decoded = decodeResource('Sink', raw);
    if (!decoded.ok)
      ready = { type: 'Ready', status: 'False', reason: 'InvalidSpec', message: decoded.errors.join('; '), observedGeneration: generation };
    else {
      const spec = decoded.value.spec;
      const refs = [
        spec.opensearch?.credentialsSecretRef?.name,
        spec.opensearch?.tls?.caSecretRef?.name,
        spec.s3?.credentialsSecretRef?.name,
      ].filter((n): n is string => typeof n === 'string');
      const missing = [...new Set(refs)].filter((n) => !deps.secrets.get(n, namespace)).sort();
      ready =
        missing.length > 0
          ? {
              type: 'Ready',
              status: 'False',
              reason: 'SecretNotFound',
              message: `secret${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')} not found in namespace ${namespace}`,
              observedGeneration: generation,
            }
          : {
              type: 'Ready',
              status: 'True',
              reason: 'Valid',
              message: 'the spec is valid and its Secrets exist',
              observedGeneration: generation,
            };
    }
    const previous = memo.current(key, raw.metadata?.resourceVersion, (raw as { status?: SinkStatus }).status) ?? {};
    const merged = mergeConditions(previous.conditions as Condition[] | undefined, [ready], new Date());
    const status: SinkStatus = { observedGeneration: generation, conditions: merged.conditions };
    if (sameJson(previous, status)) return;
    await deps.clients.custom.patchNamespacedCustomObjectStatus({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: KINDS.Sink.plural,
      name,
      body: [{ op: 'add', path: '/status', value: status }],
    });
    memo.wrote(key, raw.metadata?.resourceVersion, status);
    deps.metrics.writes.inc({ kind: 'Sink', operation: 'status' });
    for (const tr of merged.transitions) deps.log.info({ sink: key, reason: tr.reason }, `Sink ${key}: Ready=${tr.to} (${tr.reason})`);
  };
}
