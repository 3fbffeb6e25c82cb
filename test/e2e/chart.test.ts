/**
 * The chart end to end on the real node (test/infra `node`): `helm install` with the image
 * `make image` built, the examples applied with their endpoints pointed at the host's Kafka,
 * OpenSearch and S3 (reached by pods at the node IP, test/infra/services/node.sh), and then
 * what a user does:
 * - push logs and metrics over HTTP through the Pipeline's ingestion Service;
 * - run a pod labelled for the Pipeline that writes known lines, which the agent DaemonSet
 *   tails from the real /var/log/pods and ships;
 * - read both back through the query Service's Loki and Prometheus APIs, exactly;
 * - kill the processor's container mid-stream (the kubelet restarts it): still exact;
 * - delete the Pipeline: its runtimes, Services, config and agent route go.
 * Everything runs as pods of the kubelet; the test talks to Services at their cluster IPs
 * (kube-proxy on the host).
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import YAML from 'yaml';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { infraVar } from '../integration/helpers/infra-env.js';
import { s3ClientForS3Proxy } from '../integration/helpers/s3.js';
import { createNamespaces, deleteNamespace, getJson, helm, kubectl, until } from '../support/kube.js';
import { applyDocs, exampleDocs, REPO, untilReady } from '../support/operator-process.js';

const image = process.env['NODE_TEST_IMAGE'] ?? 'docker.io/library/sextant:dev';
const run = crypto.randomBytes(4).toString('hex');
const release = `sxe2e-${run}`;
const systemNs = `sxe2e-sys-${run}`;
const ns = `sxe2e-${run}`;
const app = `e2e-${run}`;
const bucket = `sxe2e-${run}`;
const apiKey = crypto.randomBytes(24).toString('hex');
// The agent's checkpoints and spool on the host; removed at the end.
const agentState = `/var/lib/sextant-agent-${run}`;
const HTTP_ENTRIES = 100;
const AGENT_LINES = 50;
const SAMPLES = 30;
const LONG = 420_000;

const nodeIp = () => infraVar('NODE_IP');
const portOf = (url: string) => new URL(url).port;

function placement(): { nodeSelector: Record<string, string>; tolerations: Record<string, string>[] } {
  const [key, rest] = infraVar('NODE_TAINT').split('=') as [string, string];
  const [value, effect] = rest.split(':') as [string, string];
  return { nodeSelector: { 'kubernetes.io/hostname': infraVar('NODE_NAME') }, tolerations: [{ key, operator: 'Equal', value, effect }] };
}

/** What a failure needs explained, on stderr: pods, recent events, the operator's and runtimes' logs. */
function diagnostics(): void {
  const safe = (args: string[]) => {
    try {
      return kubectl(args);
    } catch (error) {
      return String(error);
    }
  };
  console.error(
    [
      safe(['get', 'pods', '-n', systemNs, '-o', 'wide']),
      safe(['get', 'pods', '-n', ns, '-o', 'wide']),
      safe(['get', 'pipelines,sinks', '-n', ns, '-o', 'wide']),
      safe(['get', 'events', '-n', ns, '--sort-by=.lastTimestamp']).split('\n').slice(-25).join('\n'),
      safe(['get', 'events', '-n', systemNs, '--sort-by=.lastTimestamp']).split('\n').slice(-15).join('\n'),
      safe(['logs', '-n', systemNs, '-l', 'app.kubernetes.io/component=operator', '--tail=40']),
      safe(['logs', '-n', systemNs, '-l', 'app.kubernetes.io/component=agent', '--tail=20']),
      ...['ingestion', 'processor', 'query'].map((c) => safe(['logs', '-n', ns, '-l', `app.kubernetes.io/component=${c}`, '--tail=20'])),
    ].join('\n----\n'),
  );
}

let failed = false;
test.afterEach.always((t) => {
  if (!t.passed && !failed) {
    failed = true;
    diagnostics();
  }
});

test.before(async () => {
  createNamespaces(ns);
  const [repository, tag] = [image.slice(0, image.lastIndexOf(':')), image.slice(image.lastIndexOf(':') + 1)];
  const values = {
    image: { repository, tag, pullPolicy: 'Never' },
    operator: { ...placement(), resync: '1m' },
    agent: { ...placement(), hostPaths: { state: agentState }, config: { batch: { maxWait: '1s' } } },
  };
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sxe2e-')), 'values.yaml');
  fs.writeFileSync(file, YAML.stringify(values));
  // Helm installs the chart's crds/ when they are missing and leaves them alone when the
  // cluster tier has applied them (the same files: helm.test.ts checks it).
  try {
    helm([
      'install',
      release,
      path.join(REPO, 'helm/sextant'),
      '-n',
      systemNs,
      '--create-namespace',
      '-f',
      file,
      '--wait',
      '--timeout',
      '5m',
    ]);
  } catch (error) {
    diagnostics();
    throw error;
  }

  const s3 = s3ClientForS3Proxy({
    endpoint: infraVar('S3_ENDPOINT'),
    region: infraVar('S3_REGION'),
    forcePathStyle: true,
    credentials: { accessKeyId: infraVar('S3_ACCESS_KEY_ID'), secretAccessKey: infraVar('S3_SECRET_ACCESS_KEY') },
  });
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));

  const secret = (name: string, data: Record<string, string>) => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name },
    stringData: data,
  });
  const sinks = exampleDocs('sinks.yaml');
  for (const doc of sinks) {
    const spec = doc.spec as Record<string, Record<string, unknown>>;
    if (spec.opensearch) {
      spec.opensearch.endpoints = [`http://${nodeIp()}:${portOf(infraVar('OPENSEARCH_URL'))}`];
      spec.opensearch.indexPrefix = `e2e-${run}`;
      delete spec.opensearch.credentialsSecretRef;
    }
    if (spec.s3)
      Object.assign(spec.s3, {
        endpoint: `http://${nodeIp()}:${portOf(infraVar('S3_ENDPOINT'))}`,
        bucket,
        region: infraVar('S3_REGION'),
        // s3proxy answers 501 to the SDK's default CRC32 upload checksums (test/integration/helpers/s3.ts).
        requestChecksumCalculation: 'WHEN_REQUIRED',
      });
  }
  const pipelines = exampleDocs('pipeline.yaml');
  for (const doc of pipelines) {
    const spec = doc.spec as Record<string, Record<string, unknown>>;
    spec.kafka!.brokers = [infraVar('KAFKA_PODS_BROKERS')];
    spec.kafka!.partitions = 2;
    (spec.sources!.kubernetes as Record<string, unknown>).podSelector = { matchLabels: { app } };
    const runtime = { ...placement(), replicas: 1 };
    spec.runtimes = { ingestion: runtime, processor: runtime, query: runtime };
  }
  applyDocs(ns, [
    secret('api-keys', { keys: apiKey }),
    secret('s3-creds', { accessKeyId: infraVar('S3_ACCESS_KEY_ID'), secretAccessKey: infraVar('S3_SECRET_ACCESS_KEY') }),
    ...sinks,
    ...exampleDocs('retention-policy.yaml'),
    ...pipelines,
  ]);
});

test.after.always(() => {
  try {
    helm(['uninstall', release, '-n', systemNs, '--wait', '--timeout', '2m']);
  } catch {
    // best effort: the namespaces go below
  }
  deleteNamespace(ns);
  deleteNamespace(systemNs);
  fs.rmSync(agentState, { recursive: true, force: true });
});

function serviceUrl(name: string): string {
  const ip = kubectl(['-n', ns, 'get', 'service', name, '-o', 'jsonpath={.spec.clusterIP}']).trim();
  return `http://${ip}:8080`;
}

async function post(url: string, body: unknown): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** Entries a log query selects in the last two hours, counted by the query Service (no page limit). */
async function lokiCount(query: string): Promise<number> {
  const params = new URLSearchParams({ query: `sum(count_over_time(${query} [2h]))`, time: String(Date.now() / 1000) });
  const res = await fetch(`${serviceUrl('api-query')}/loki/api/v1/query?${params}`, { headers: { authorization: `Bearer ${apiKey}` } });
  const body = (await res.json()) as { status: string; data: { result: { value: [number, string] }[] } };
  if (body.status !== 'success') throw new Error(`${query}: ${JSON.stringify(body)}`);
  return Number(body.data.result[0]?.value[1] ?? 0);
}

/** Polls until the count is exactly `want`; more than `want` fails at once (a duplicate). */
async function untilExactly(what: string, count: () => Promise<number>, want: number): Promise<void> {
  await until(
    `${what}: exactly ${want}`,
    async () => {
      const n = await count();
      if (n > want) throw new Error(`${what}: ${n}, more than the ${want} sent`);
      if (n < want) throw new Error(`${what}: ${n} of ${want} so far`);
      return true;
    },
    LONG,
  );
}

function httpEntries(batch: string, n: number) {
  return Array.from({ length: n }, (_, i) => ({
    labels: { service: 'e2e', e2e: run, batch, level: 'info' },
    message: JSON.stringify({ msg: `${run} ${batch} http line ${i + 1}`, level: 'info' }),
  }));
}

test.serial('the Pipeline becomes Ready with every runtime running as a pod on the real node', async (t) => {
  const p = await untilReady(ns, 'api', 'True', undefined, LONG);
  t.like(p.status?.runtimes, { ingestion: { ready: 1 }, processor: { ready: 1 }, query: { ready: 1 } });
  const pods = getJson<{ items: { spec: { nodeName: string }; status: { phase: string } }[] }>(['-n', ns, 'get', 'pods']).items;
  t.true(
    pods.length >= 3 && pods.every((p) => p.spec.nodeName === infraVar('NODE_NAME') && p.status.phase === 'Running'),
    JSON.stringify(pods.map((p) => [p.spec.nodeName, p.status.phase])),
  );
});

test.serial('HTTP logs and metrics through the ingestion Service, read back exactly through the query Service', async (t) => {
  const ingest = serviceUrl('api-ingestion');
  // Ready counts pods; kube-proxy programs the Services' cluster IPs a moment later.
  for (const url of [ingest, serviceUrl('api-query')]) {
    await until(`${url}/readyz through kube-proxy`, async () => ((await fetch(`${url}/readyz`)).status === 200 ? true : undefined));
  }
  const logs = await post(`${ingest}/api/v1/logs`, { entries: httpEntries('first', HTTP_ENTRIES) });
  t.is(logs.status, 200, await logs.text());
  const now = Date.now();
  const samples = Array.from({ length: SAMPLES }, (_, i) => ({
    name: 'e2e_requests_total',
    labels: { e2e: run },
    value: i + 1,
    timestamp: now - (SAMPLES - i) * 1000,
  }));
  const metrics = await post(`${ingest}/api/v1/metrics`, { samples });
  t.is(metrics.status, 200, await metrics.text());

  await untilExactly('HTTP log entries', () => lokiCount(`{e2e="${run}", batch="first"}`), HTTP_ENTRIES);
  // The parse stage made `msg` the line.
  const first = await fetch(
    `${serviceUrl('api-query')}/loki/api/v1/query_range?${new URLSearchParams({ query: `{e2e="${run}", batch="first"} |~ "http line 7$"`, start: String(BigInt(now - 3_600_000) * 1_000_000n) })}`,
    { headers: { authorization: `Bearer ${apiKey}` } },
  );
  const lines = ((await first.json()) as { data: { result: { values: [string, string][] }[] } }).data.result.flatMap((s) =>
    s.values.map((v) => v[1]),
  );
  t.deepEqual(lines, [`${run} first http line 7`]);

  const query = `${serviceUrl('api-query')}/api/v1/query?${new URLSearchParams({ query: `count_over_time(e2e_requests_total{e2e="${run}"}[10m])`, time: String(now / 1000) })}`;
  const result = await until(
    'the samples in the query Service',
    async () => {
      const body = (await (await fetch(query, { headers: { authorization: `Bearer ${apiKey}` } })).json()) as {
        data: { result: { value: [number, string] }[] };
      };
      const v = body.data.result[0]?.value[1];
      return v === String(SAMPLES) ? v : undefined;
    },
    LONG,
  );
  t.is(result, String(SAMPLES));
});

test.serial('a pod labelled for the Pipeline: the agent tails its real CRI log file and ships every line', async (t) => {
  const code = `for (let i = 1; i <= ${AGENT_LINES}; i++) console.log(JSON.stringify({ msg: '${run} agent line ' + i, level: 'info' })); setInterval(() => {}, 1 << 30);`;
  kubectl(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'logger', namespace: ns, labels: { app } },
      spec: {
        ...placement(),
        terminationGracePeriodSeconds: 1,
        automountServiceAccountToken: false,
        containers: [{ name: 'logger', image, imagePullPolicy: 'Never', command: ['node', '-e', code] }],
      },
    }),
  );
  await untilExactly('agent lines', () => lokiCount(`{namespace="${ns}", pod="logger"} |= "${run} agent line"`), AGENT_LINES);
  t.pass();
});

test.serial('the processor container killed mid-stream: the kubelet restarts it and every entry arrives once', async (t) => {
  const ingest = serviceUrl('api-ingestion');
  const pod = () =>
    getJson<{
      items: {
        metadata: { name: string };
        status: { containerStatuses?: { containerID?: string; restartCount: number; ready: boolean }[] };
      }[];
    }>(['-n', ns, 'get', 'pods', '-l', 'app.kubernetes.io/component=processor']).items[0]!;
  const before = pod();
  const BATCHES = 20;
  const PER_BATCH = 50;
  let killed = false;
  for (let b = 0; b < BATCHES; b++) {
    const res = await until(`batch ${b} accepted`, async () => {
      const r = await post(`${ingest}/api/v1/logs`, {
        entries: httpEntries(`kill-${b}`, PER_BATCH).map((e) => ({ ...e, labels: { ...e.labels, batch: 'kill' } })),
      });
      return r.status === 200 ? r : undefined;
    });
    t.is(res.status, 200);
    if (b === BATCHES / 2) {
      const id = before.status.containerStatuses![0]!.containerID!.replace(/^containerd:\/\//, '');
      execFileSync('ctr', [
        '--address',
        infraVar('NODE_CONTAINERD_ADDRESS'),
        '--namespace',
        'k8s.io',
        'tasks',
        'kill',
        '--signal',
        'SIGKILL',
        id,
      ]);
      killed = true;
    }
  }
  t.true(killed);
  await until(
    'the processor restarted by the kubelet',
    () => {
      const s = pod().status.containerStatuses?.[0];
      return s && s.restartCount > (before.status.containerStatuses![0]!.restartCount ?? 0) && s.ready ? s : undefined;
    },
    LONG,
  );
  await untilExactly('entries sent around the kill', () => lokiCount(`{e2e="${run}", batch="kill"}`), BATCHES * PER_BATCH);
});

test.serial("the kubelet rotates a container's log mid-stream (containerLogMaxSize): the agent still ships every line once", async (t) => {
  // ~2.5 MB at a steady pace: past NODE_LOG_MAX_SIZE (1Mi in test/node/run.sh) twice or more,
  // while the kubelet checks sizes every 10 s.
  const LINES = 6000;
  const pad = 'x'.repeat(380);
  const code = `let i = 0; const t = setInterval(() => { for (let k = 0; k < 100 && i < ${LINES}; k++) console.log(JSON.stringify({ msg: '${run} rotate line ' + (++i) + ' ${pad}', level: 'info' })); if (i >= ${LINES}) clearInterval(t); }, 330); setInterval(() => {}, 1 << 30);`;
  kubectl(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'rotating', namespace: ns, labels: { app } },
      spec: {
        ...placement(),
        terminationGracePeriodSeconds: 1,
        automountServiceAccountToken: false,
        containers: [{ name: 'rotating', image, imagePullPolicy: 'Never', command: ['node', '-e', code] }],
      },
    }),
  );
  const uid = await until('the rotating pod to run', () => {
    const p = getJson<{ metadata: { uid: string }; status: { phase?: string } }>(['-n', ns, 'get', 'pod', 'rotating']);
    return p.status.phase === 'Running' ? p.metadata.uid : undefined;
  });
  const dir = `/var/log/pods/${ns}_rotating_${uid}/rotating`;
  const rotated = await until(
    'the kubelet to rotate 0.log',
    () => {
      const files = fs.readdirSync(dir).filter((f) => f !== '0.log');
      return files.length > 0 ? files : undefined;
    },
    LONG,
  );
  t.true(rotated.length > 0);
  await untilExactly('lines across the rotation', () => lokiCount(`{namespace="${ns}", pod="rotating"} |= "${run} rotate line"`), LINES);
});

test.serial('deleting the Pipeline removes its runtimes, Services and config, and the agent route', async (t) => {
  kubectl(['-n', ns, 'delete', 'pipeline', 'api', '--wait=true', '--timeout=3m']);
  await until(
    'the runtimes, Services and ConfigMaps to go',
    () => {
      const left = kubectl([
        '-n',
        ns,
        'get',
        'deployments,services,configmaps',
        '-l',
        'app.kubernetes.io/managed-by=sextant-operator',
        '-o',
        'name',
      ]).trim();
      if (left !== '') throw new Error(`still there: ${left}`);
      return true;
    },
    LONG,
  );
  const routes = await until(
    'the agent route to go',
    () => {
      const text = kubectl([
        '-n',
        systemNs,
        'get',
        'configmap',
        'sextant-agent-routes',
        '-o',
        'jsonpath={.data.routes\\.yaml}',
        '--ignore-not-found',
      ]);
      if (text.includes(`${ns}.api`)) throw new Error(`routes still name ${ns}.api: ${text}`);
      return text;
    },
    LONG,
  );
  t.false(routes.includes(ns));
});
