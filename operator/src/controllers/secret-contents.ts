/**
 * What a Secret must hold for the runtime pods to start and work, checked before anything is
 * applied: every key a pod reads (env from a secretKeyRef, a file of a Secret volume) exists —
 * else the pod would sit in CreateContainerConfigError while the Pipeline looked fine — and the
 * API-key Secret holds at least one key (else every request and the node agent are refused).
 * The API server cannot see into Secrets, so this is status, not a CRD rule.
 */
import type * as k8s from '@kubernetes/client-node';
import type { Pipeline } from '../api/v1alpha1.js';
import type { SecretValues } from '../kube/secret-data.js';

export interface SecretContentProblem {
  reason: 'SecretKeyNotFound' | 'NoApiKeys';
  message: string;
}

/** The (Secret, key) pairs the rendered Deployments read, sorted and unique. */
export function secretKeysRead(objects: k8s.KubernetesObject[]): { secret: string; key: string }[] {
  const pairs = new Map<string, { secret: string; key: string }>();
  const add = (secret: string | undefined, key: string | undefined) => {
    if (secret && key) pairs.set(`${secret}\u0000${key}`, { secret, key });
  };
  for (const d of objects.filter((o): o is k8s.V1Deployment => o.kind === 'Deployment')) {
    const pod = d.spec?.template.spec;
    for (const c of pod?.containers ?? [])
      for (const e of c.env ?? []) add(e.valueFrom?.secretKeyRef?.name, e.valueFrom?.secretKeyRef?.key);
    for (const v of pod?.volumes ?? []) for (const item of v.secret?.items ?? []) add(v.secret?.secretName, item.key);
  }
  return [...pairs.values()].sort((a, b) => a.secret.localeCompare(b.secret) || a.key.localeCompare(b.key));
}

/** API keys as the runtime reads them: comma- or newline-separated, blanks ignored. */
export function apiKeysOf(text: string | undefined): string[] {
  return (text ?? '')
    .split(/[,\n]/)
    .map((k) => k.trim())
    .filter(Boolean);
}

export function checkSecretContents(
  pipeline: Pipeline,
  objects: k8s.KubernetesObject[],
  values: SecretValues,
): SecretContentProblem | undefined {
  const ns = pipeline.metadata.namespace;
  const missing = secretKeysRead(objects).filter((p) => values(p.secret, p.key) === undefined);
  if (missing.length > 0)
    return {
      reason: 'SecretKeyNotFound',
      message: `${missing.map((m) => `Secret ${ns}/${m.secret} has no key "${m.key}"`).join('; ')}: the runtime pods read it (add the key, or rename the key in the reference)`,
    };
  const ref = pipeline.spec.sources.http.apiKeysSecretRef;
  if (apiKeysOf(values(ref.name, ref.key)).length === 0)
    return {
      reason: 'NoApiKeys',
      message: `Secret ${ns}/${ref.name} key "${ref.key}" holds no API key (spec.sources.http.apiKeysSecretRef): every request and the node agent would be refused; put one or more keys there, comma- or newline-separated`,
    };
  return undefined;
}
