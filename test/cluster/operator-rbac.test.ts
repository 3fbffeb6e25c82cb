/**
 * The operator runs with exactly the RBAC that operator/README.md lists (a ServiceAccount
 * token, no admin rights) and still does everything: children, status, Events, Kafka
 * topics from Secrets, pruning, agent routes in its namespace, the leader Lease. A missing
 * permission shows up as a 403 in its log and a Pipeline that never becomes Ready.
 */
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import {
  applyCrds,
  applyDocs,
  condition,
  exampleDocs,
  startOperator,
  untilReady,
  type OperatorProcess,
} from '../support/operator-process.js';
import { createNamespaces, deleteNamespace, getJson, kubectl, uniqueName, until } from '../support/kube.js';

const operatorNs = uniqueName('sxop-rbac');
const ns = uniqueName('sx-rbac');
const roleName = uniqueName('sextant-operator-rbac-test');
const lateRoleName = uniqueName('sextant-operator-rbac-late');
let late: OperatorProcess | undefined;
let lateKubeconfig: string | undefined;
let operator: OperatorProcess | undefined;
let kubeconfigFile: string | undefined;

/** The tables of operator/README.md "RBAC (exactly what the operator calls)". */
const clusterRules = [
  { apiGroups: ['sextant.dev'], resources: ['pipelines', 'sinks', 'retentionpolicies'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['sextant.dev'], resources: ['pipelines/status', 'sinks/status'], verbs: ['patch'] },
  { apiGroups: ['sextant.dev'], resources: ['sinks'], verbs: ['patch'] },
  { apiGroups: ['sextant.dev'], resources: ['pipelines/finalizers'], verbs: ['update'] },
  { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: [''], resources: ['configmaps', 'services'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'] },
  { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'] },
  { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'] },
  { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create'] },
];
const namespaceRules = [
  { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
  { apiGroups: [''], resources: ['secrets'], resourceNames: ['sextant-agent-route-keys'], verbs: ['patch'] },
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
];

/** A ClusterRole + Role with the documented rules, bound to the ServiceAccount. */
function bindRoles(serviceAccount: string, name: string): void {
  const subject = [{ kind: 'ServiceAccount', name: serviceAccount, namespace: operatorNs }];
  const docs = [
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: name }, rules: clusterRules },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: name },
      subjects: subject,
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: name, namespace: operatorNs },
      rules: namespaceRules,
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: name, namespace: operatorNs },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: name },
      subjects: subject,
    },
  ];
  kubectl(['apply', '-f', '-'], docs.map((d) => YAML.stringify(d)).join('---\n'));
}

/** A kubeconfig with the ServiceAccount's token instead of the admin certificate. */
function tokenKubeconfig(serviceAccount: string): string {
  const admin = getJson<{
    clusters: { cluster: { server: string; 'certificate-authority'?: string; 'certificate-authority-data'?: string } }[];
  }>(['config', 'view', '--raw', '--minify']);
  const cluster = admin.clusters[0]!.cluster;
  const token = kubectl(['-n', operatorNs, 'create', 'token', serviceAccount, '--duration', '1h']).trim();
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sextant-rbac-')), 'kubeconfig');
  fs.writeFileSync(
    file,
    YAML.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'test', cluster }],
      users: [{ name: 'operator', user: { token } }],
      contexts: [{ name: 'operator', context: { cluster: 'test', user: 'operator' } }],
      'current-context': 'operator',
    }),
    { mode: 0o600 },
  );
  return file;
}

test.before(() => {
  applyCrds();
  createNamespaces(operatorNs, ns);
  kubectl(['-n', operatorNs, 'create', 'serviceaccount', 'sextant-operator']);
  bindRoles('sextant-operator', roleName);
  kubeconfigFile = tokenKubeconfig('sextant-operator');
});

test.after.always(async () => {
  await operator?.stop();
  await late?.stop();
  deleteNamespace(ns);
  deleteNamespace(operatorNs);
  try {
    kubectl(['delete', 'clusterrole,clusterrolebinding', roleName, lateRoleName, '--ignore-not-found']);
  } catch {
    // best effort
  }
  for (const f of [kubeconfigFile, lateKubeconfig]) if (f) fs.rmSync(path.dirname(f), { recursive: true, force: true });
});

test('with only the documented RBAC the operator reconciles, prunes, reports, publishes agent routes and leads', async (t) => {
  operator = await startOperator([
    '--kubeconfig',
    kubeconfigFile!,
    '--namespace',
    operatorNs,
    '--lease-name',
    'sextant-operator',
    '--resync',
    '1m',
  ]);
  applyDocs(ns, [
    ...exampleDocs('secrets.yaml'),
    ...exampleDocs('sinks.yaml'),
    ...exampleDocs('retention-policy.yaml'),
    ...exampleDocs('pipeline.yaml'),
  ]);
  const ready = await untilReady(ns, 'api').catch((error: unknown) => {
    throw new Error(`${String(error)}\n${operator!.output().slice(-4000)}`);
  });
  t.is(condition(ready, 'Degraded')!.status, 'False');
  t.is(
    getJson<{ spec: { holderIdentity: string } }>(['-n', operatorNs, 'get', 'lease', 'sextant-operator']).spec.holderIdentity,
    operator.identity,
  );
  await until('the agent routes in the operator namespace', () =>
    getJson<{ data?: Record<string, string> }>(['-n', operatorNs, 'get', 'secret', 'sextant-agent-route-keys']).data?.[`${ns}.api`]
      ? true
      : undefined,
  );
  // Prune (delete) and an Event (create): remove autoscaling, then break a reference.
  kubectl([
    '-n',
    ns,
    'patch',
    'pipeline',
    'api',
    '--type',
    'json',
    '-p',
    JSON.stringify([{ op: 'replace', path: '/spec/runtimes/processor', value: { replicas: 1 } }]),
  ]);
  await until('the HPA to be pruned', () =>
    getJson<{ items: unknown[] }>(['-n', ns, 'get', 'horizontalpodautoscalers']).items.length === 0 ? true : undefined,
  );
  // The Sink is in use: the operator put its finalizer on it (patch on sinks), so the delete
  // only marks it, and the Sink turns InUse with a Warning Event.
  kubectl(['-n', ns, 'delete', 'sink', 'archive', '--wait=false']);
  await until('the InUse Event', () =>
    getJson<{ items: { reason: string }[] }>(['-n', ns, 'get', 'events.events.k8s.io']).items.some((e) => e.reason === 'InUse')
      ? true
      : undefined,
  );
  // Let go of it: the operator removes the finalizer (patch on sinks) and the Sink goes.
  kubectl(['-n', ns, 'patch', 'pipeline', 'api', '--type', 'json', '-p', JSON.stringify([{ op: 'remove', path: '/spec/sinks/cold' }])]);
  await until('the Sink to go', () => (kubectl(['-n', ns, 'get', 'sinks', '-o', 'name']).includes('/archive') ? undefined : true));
  // The operator watches the whole cluster, so it may still see a Pipeline of an earlier test
  // whose namespace is being deleted: the API server refuses new Events there with a 403 that
  // is about the namespace, not about our RBAC.
  const refused = operator
    .output()
    .split('\n')
    .filter((line) => /\b403\b|forbidden/i.test(line) && !/because it is being terminated/.test(line));
  t.deepEqual(refused, [], 'no request was refused by RBAC');
});

test('informers that fail (403) restart with backoff, /readyz says which caches are missing, and they recover once allowed', async (t) => {
  await operator?.stop();
  operator = undefined;
  kubectl(['-n', operatorNs, 'create', 'serviceaccount', 'sextant-operator-late']);
  lateKubeconfig = tokenKubeconfig('sextant-operator-late');
  late = await startOperator(['--kubeconfig', lateKubeconfig, '--namespace', operatorNs, '--lease-name', 'sextant-operator-late']);
  const notReady = await until('/readyz to name the caches that cannot sync', async () => {
    const res = await fetch(`${late!.url}/readyz`);
    const text = await res.text();
    return res.status === 503 && text.includes('pipelines') && text.includes('secrets') ? text : undefined;
  });
  t.regex(notReady, /^not ready: caches not synced: /);
  await until('informer restarts', async () =>
    ((await late!.metric('sextant_operator_informer_restarts_total', { informer: 'pipelines' })) ?? 0) >= 1 ? true : undefined,
  );
  t.is((await fetch(`${late.url}/healthz`)).status, 200, 'alive while not ready');
  t.is(await late.metric('sextant_operator_leader'), 0);

  bindRoles('sextant-operator-late', lateRoleName);
  // The watch backoff is at most 30 s.
  await until('/readyz to turn 200', async () => ((await fetch(`${late!.url}/readyz`)).status === 200 ? true : undefined), 90_000);
  await until('the late operator to lead', async () => ((await late!.metric('sextant_operator_leader')) === 1 ? true : undefined), 60_000);
  // It reconciles: restore the Sink the first test deleted.
  applyDocs(
    ns,
    exampleDocs('sinks.yaml').filter((d) => (d.metadata as { name: string }).name === 'archive'),
  );
  await untilReady(ns, 'api');
});
