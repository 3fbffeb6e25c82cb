/**
 * The real node (test/infra/services/node.sh): a pod of the `make image` image runs there
 * as a container of containerd/runc with runAsNonRoot and a read-only root file system, its
 * HTTP port answers on its CNI bridge address, `kubectl logs` reads it through the kubelet,
 * and the kubelet's CRI log file is where the agent reads it, /var/log/pods/<ns>_<pod>_<uid>.
 */
import test from 'ava';
import { readFileSync, readdirSync } from 'node:fs';
import { infraVar } from '../integration/helpers/infra-env.js';
import { createNamespaces, deleteNamespace, getJson, kubectl, until, uniqueName } from '../support/kube.js';

const image = process.env['NODE_TEST_IMAGE'] ?? 'docker.io/library/sextant:dev';
const LINES = 25;
const ns = uniqueName('node');

test.before(() => createNamespaces(ns));
test.after.always(() => deleteNamespace(ns));

function podYaml(name: string): string {
  const [taintKey, rest] = infraVar('NODE_TAINT').split('=') as [string, string];
  const [taintValue, effect] = rest.split(':') as [string, string];
  const lines = `for (let i = 1; i <= ${LINES}; i++) console.log('node-test line ' + i); setInterval(() => {}, 1 << 30);`;
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels: { app: name } },
    spec: {
      nodeSelector: { 'kubernetes.io/hostname': infraVar('NODE_NAME') },
      tolerations: [{ key: taintKey, value: taintValue, effect, operator: 'Equal' }],
      automountServiceAccountToken: false,
      terminationGracePeriodSeconds: 2,
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
      volumes: [{ name: 'data', emptyDir: {} }],
      containers: [
        {
          name: 'sextant',
          image,
          imagePullPolicy: 'Never',
          args: ['up', '--host', '0.0.0.0', '--data-dir', '/data'],
          ports: [{ containerPort: 8080 }],
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
          securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
        },
        {
          name: 'lines',
          image,
          imagePullPolicy: 'Never',
          command: ['node', '-e', lines],
          securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
        },
      ],
    },
  });
}

interface Pod {
  metadata: { uid: string };
  status: { phase?: string; podIP?: string; containerStatuses?: { name: string; ready: boolean; restartCount: number }[] };
}

test('a pod of the image runs on the real node; HTTP, kubectl logs and the CRI log file work', async (t) => {
  const name = 'sextant';
  kubectl(['apply', '-f', '-'], podYaml(name));
  const pod = await until(
    'the pod to run with both containers ready',
    () => {
      const p = getJson<Pod>(['get', 'pod', name, '-n', ns, '-o', 'json']);
      const ready = p.status.containerStatuses?.every((c) => c.ready) ?? false;
      return p.status.phase === 'Running' && ready ? p : undefined;
    },
    180_000,
  );
  t.true(
    pod.status.containerStatuses?.every((c) => c.restartCount === 0),
    JSON.stringify(pod.status.containerStatuses),
  );

  // the pod's bridge address is reachable from the host; the process inside is Sextant
  const ready = await until('GET /readyz on the pod IP', async () => {
    const r = await fetch(`http://${pod.status.podIP}:8080/readyz`).catch(() => undefined);
    return r?.status === 200 ? r : undefined;
  });
  t.is(ready.status, 200);

  const want = Array.from({ length: LINES }, (_, i) => `node-test line ${i + 1}`);
  const logs = await until('kubectl logs to show every line', () => {
    const out = kubectl(['logs', name, '-n', ns, '-c', 'lines']).trimEnd().split('\n');
    return out.length >= LINES ? out : undefined;
  });
  t.deepEqual(logs, want);

  // /var/log/pods/<ns>_<pod>_<uid>/<container>/0.log in the CRI format: time stream tag line
  const dir = `/var/log/pods/${ns}_${name}_${pod.metadata.uid}/lines`;
  const files = readdirSync(dir);
  t.true(files.includes('0.log'), `${dir}: ${files.join(' ')}`);
  const cri = readFileSync(`${dir}/0.log`, 'utf8').trimEnd().split('\n');
  t.is(cri.length, LINES);
  cri.forEach((line, i) => t.regex(line, new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\S+ stdout F node-test line ${i + 1}$`)));
});
