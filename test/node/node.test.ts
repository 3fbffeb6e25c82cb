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

function placement(): Record<string, unknown> {
  const [taintKey, rest] = infraVar('NODE_TAINT').split('=') as [string, string];
  const [taintValue, effect] = rest.split(':') as [string, string];
  return {
    nodeSelector: { 'kubernetes.io/hostname': infraVar('NODE_NAME') },
    tolerations: [{ key: taintKey, value: taintValue, effect, operator: 'Equal' }],
  };
}

function podYaml(name: string): string {
  const lines = `for (let i = 1; i <= ${LINES}; i++) console.log('node-test line ' + i); setInterval(() => {}, 1 << 30);`;
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels: { app: name } },
    spec: {
      ...placement(),
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

function dnsServer(): string | undefined {
  try {
    return infraVar('NODE_DNS');
  } catch {
    return undefined;
  }
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

test('through kube-proxy and the cluster DNS: a pod reaches a Service of another pod by address and by name, and the API server at the kubernetes Service', async (t) => {
  const server = "require('http').createServer((q, r) => r.end('hello from ' + process.env.HOSTNAME)).listen(8080)";
  // the client prints what the Service answered at its address (the Service variables) and
  // at its name <service>.<namespace> (CoreDNS), and what the API server says to its token
  const client = `
    const fs = require('fs'), https = require('https'), sa = '/var/run/secrets/kubernetes.io/serviceaccount';
    (async () => {
      const r = await fetch('http://' + process.env.WEB_SERVICE_HOST + ':' + process.env.WEB_SERVICE_PORT + '/');
      console.log('service: ' + (await r.text()));
      if (process.env.CHECK_DNS) {
        const byName = await fetch('http://web.${ns}/');
        console.log('by name: ' + (await byName.text()));
      }
      https.get({ host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT, path: '/version',
        ca: fs.readFileSync(sa + '/ca.crt'), headers: { authorization: 'Bearer ' + fs.readFileSync(sa + '/token', 'utf8') } },
        (res) => { let b = ''; res.on('data', (c) => (b += c)); res.on('end', () => console.log('api: ' + res.statusCode + ' ' + JSON.parse(b).gitVersion)); });
    })().catch((e) => { console.log('error: ' + (e.cause?.message ?? e.message)); process.exit(1); });`;
  // names are checked when the node runs its cluster DNS (NODE_DNS in the env file)
  const dns = dnsServer() !== undefined;
  const container = (name: string, code: string) => ({
    name,
    image,
    imagePullPolicy: 'Never',
    command: ['node', '-e', code],
    env: dns ? [{ name: 'CHECK_DNS', value: '1' }] : [],
  });
  kubectl(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'web', namespace: ns, labels: { app: 'web' } },
          spec: { ...placement(), terminationGracePeriodSeconds: 1, containers: [container('web', server)] },
        },
        {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: 'web', namespace: ns },
          spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] },
        },
      ],
    }),
  );
  await until('the web pod to be ready', () =>
    getJson<Pod>(['get', 'pod', 'web', '-n', ns, '-o', 'json']).status.containerStatuses?.every((c) => c.ready) ? true : undefined,
  );
  await until(
    'the Service to have its endpoint',
    () =>
      kubectl(['get', 'endpointslices', '-n', ns, '-l', 'kubernetes.io/service-name=web', '-o', 'jsonpath={..addresses[0]}']).trim() ||
      undefined,
  );
  kubectl(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'client', namespace: ns },
      spec: { ...placement(), restartPolicy: 'Never', containers: [container('client', client)] },
    }),
  );
  const phase = await until('the client pod to finish', () => {
    const p = getJson<Pod>(['get', 'pod', 'client', '-n', ns, '-o', 'json']).status.phase;
    return p === 'Succeeded' || p === 'Failed' ? p : undefined;
  });
  const out = kubectl(['logs', 'client', '-n', ns]).trim().split('\n');
  t.is(phase, 'Succeeded', out.join('\n'));
  t.deepEqual(out, ['service: hello from web', ...(dns ? ['by name: hello from web'] : []), `api: 200 ${infraVar('KUBE_VERSION')}`]);
});
