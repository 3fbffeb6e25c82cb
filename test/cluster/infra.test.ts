/**
 * Smoke tests of the local control plane (test/infra/services/kube.sh): the API server at
 * its pinned version, CRDs, the scheduler placing pods on kwok nodes where they become
 * Running, the controller-manager's garbage collection, and helm.
 */
import test from 'ava';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { infraVar } from '../integration/helpers/infra-env.js';
import { helm, kubectl, kubectlFails, until } from '../support/kube.js';

const here = path.dirname(fileURLToPath(import.meta.url));

test('the API server reports its pinned version', (t) => {
  const version = JSON.parse(kubectl(['version', '-o', 'json'])) as { serverVersion: { gitVersion: string } };
  t.is(version.serverVersion.gitVersion, infraVar('KUBE_VERSION'));
});

test('a CustomResourceDefinition and a custom resource round-trip', async (t) => {
  const crd = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: { name: widgets.smoke.sextant.dev }
spec:
  group: smoke.sextant.dev
  names: { kind: Widget, plural: widgets, singular: widget }
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: { type: object, properties: { size: { type: integer, minimum: 1 } } }
`;
  kubectl(['apply', '-f', '-'], crd);
  await until('the CRD to be established', () =>
    kubectl(['get', 'crd', 'widgets.smoke.sextant.dev', '-o', 'jsonpath={.status.conditions[?(@.type=="Established")].status}']) === 'True'
      ? true
      : undefined,
  );
  kubectl(
    ['apply', '-f', '-'],
    'apiVersion: smoke.sextant.dev/v1\nkind: Widget\nmetadata: { name: w1, namespace: default }\nspec: { size: 3 }\n',
  );
  t.is(kubectl(['get', 'widget', 'w1', '-o', 'jsonpath={.spec.size}']), '3');
  t.regex(
    kubectlFails(['apply', '-f', '-'], 'apiVersion: smoke.sextant.dev/v1\nkind: Widget\nmetadata: { name: w2 }\nspec: { size: 0 }\n'),
    /spec\.size: Invalid value: 0: spec\.size in body should be greater than or equal to 1/,
  );
  kubectl(['delete', 'crd', 'widgets.smoke.sextant.dev', '--wait=true']);
});

test('a Deployment gets Running pods on kwok nodes; deleting it garbage-collects them', async (t) => {
  const ns = `smoke-${Date.now()}`;
  kubectl(['create', 'namespace', ns]);
  t.teardown(() => {
    kubectl(['delete', 'namespace', ns, '--wait=false']);
  });
  kubectl(
    ['apply', '-n', ns, '-f', '-'],
    `
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      tolerations: [{ key: kwok.x-k8s.io/node, operator: Exists, effect: NoSchedule }]
      containers: [{ name: web, image: registry.invalid/web:1 }]
`,
  );
  const nodes = await until('2 Running pods', () => {
    const pods = JSON.parse(kubectl(['get', 'pods', '-n', ns, '-l', 'app=web', '-o', 'json'])) as {
      items: Array<{ status: { phase?: string }; spec: { nodeName?: string } }>;
    };
    const running = pods.items.filter((p) => p.status.phase === 'Running');
    return running.length === 2 ? running.map((p) => p.spec.nodeName) : undefined;
  });
  for (const node of nodes) t.regex(String(node), /^kwok-node-\d+$/);
  t.is(kubectl(['get', 'replicasets', '-n', ns, '-l', 'app=web', '-o', 'name']).trim().split('\n').length, 1);
  kubectl(['delete', 'deployment', 'web', '-n', ns, '--cascade=background']);
  await until('the ReplicaSet and pods to be garbage-collected', () =>
    kubectl(['get', 'replicasets,pods', '-n', ns, '-l', 'app=web', '-o', 'name']).trim() === '' ? true : undefined,
  );
  t.pass();
});

test('helm installs and uninstalls a chart', async (t) => {
  const release = `tiny-${Date.now() % 100000}`;
  helm(['install', release, path.join(here, 'fixtures/tiny-chart'), '--namespace', 'default', '--set', 'greeting=hi', '--wait']);
  t.is(kubectl(['get', 'configmap', `${release}-settings`, '-o', 'jsonpath={.data.greeting}']), 'hi');
  t.regex(helm(['list', '--namespace', 'default', '-o', 'json']), new RegExp(`"name":"${release}"`));
  helm(['uninstall', release, '--namespace', 'default', '--wait']);
  t.throws(() => kubectl(['get', 'configmap', `${release}-settings`]));
});
