/**
 * The operator on the real control plane (kube-apiserver + controller-manager + scheduler,
 * kwok nodes standing in for kubelets), with the real Kafka and OpenSearch of the test
 * infrastructure. The operator runs as a local process (`sextant operator --kubeconfig`).
 * The CRDs and examples/ are applied with kubectl, endpoints pointed at the test servers.
 */
// JSON read back from kubectl is walked freely; the assertions check its shape.
/* eslint-disable @typescript-eslint/no-explicit-any */
import test from 'ava';
import { Kafka, logLevel } from 'kafkajs';
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import YAML from 'yaml';
import { infraVar } from '../integration/helpers/infra-env.js';
import {
  applyCrds,
  applyDocs,
  condition,
  exampleDocs,
  pipeline,
  sinkEndpoint,
  startOperator,
  untilReady,
  type OperatorProcess,
} from '../support/operator-process.js';
import { deleteNamespace, getJson, kubectl, uniqueName, until } from '../support/kube.js';
import { CLI } from '../support/sextant-process.js';

interface Obj {
  metadata: { name: string; resourceVersion: string; annotations?: Record<string, string>; ownerReferences?: { uid: string }[] };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}

const operatorNs = uniqueName('sxop');
const leaseName = uniqueName('sextant-operator-test');
const namespaces: string[] = [operatorNs];
const IMAGE = 'registry.example/sextant:cluster-test';
let operator: OperatorProcess;

const kafka = () => new Kafka({ clientId: 'operator-test', brokers: infraVar('KAFKA_BROKERS').split(','), logLevel: logLevel.NOTHING });

async function topics(): Promise<string[]> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    return await admin.listTopics();
  } finally {
    await admin.disconnect();
  }
}

function operatorArgs(): string[] {
  return ['--kubeconfig', infraVar('KUBECONFIG'), '--namespace', operatorNs, '--lease-name', leaseName, '--resync', '1m', '--image', IMAGE];
}

/** A namespace with the example Secrets, Sinks and RetentionPolicy (and optionally the example Pipeline). */
function exampleNamespace(prefix: string, withPipeline = true): string {
  const ns = uniqueName(prefix);
  namespaces.push(ns);
  kubectl(['create', 'namespace', ns]);
  applyDocs(ns, [...exampleDocs('secrets.yaml'), ...exampleDocs('sinks.yaml'), ...exampleDocs('retention-policy.yaml')]);
  if (withPipeline) applyDocs(ns, exampleDocs('pipeline.yaml'));
  return ns;
}

function list<T = Obj>(ns: string, kind: string): T[] {
  return getJson<{ items: T[] }>(['-n', ns, 'get', kind]).items;
}

/** name → resourceVersion of every object of these kinds in ns. */
function versions(ns: string, kinds: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of getJson<{ items: (Obj & { kind: string })[] }>(['-n', ns, 'get', kinds]).items)
    out[`${item.kind}/${item.metadata.name}`] = item.metadata.resourceVersion;
  return out;
}

test.before(async () => {
  applyCrds();
  kubectl(['create', 'namespace', operatorNs]);
  operator = await startOperator(operatorArgs());
});

test.after.always(async () => {
  await operator?.stop();
  for (const ns of namespaces) deleteNamespace(ns);
  // The operator never deletes topics (they hold data); the test removes the ones it caused.
  try {
    const mine = (await topics()).filter((t) => namespaces.some((ns) => t.startsWith(`sextant.${ns}.`)));
    if (mine.length > 0) {
      const admin = kafka().admin();
      await admin.connect();
      await admin.deleteTopics({ topics: mine });
      await admin.disconnect();
    }
  } catch {
    // best effort
  }
});

test('the examples become a ConfigMap, Deployments, Services, PDBs, an HPA, Kafka topics and agent routes; pods run on kwok nodes; Ready', async (t) => {
  const ns = exampleNamespace('sx-ex');
  const p = await untilReady(ns, 'api');
  t.is(p.status!.observedGeneration, p.metadata.generation);
  // Each transition is one Event (kubectl describe): RollingOut once, Ready once — never twice
  // because a reconcile read the status of the cache before its own write arrived.
  const transitions = await until('the Ready Event', () => {
    const e = eventsOf(ns, 'Pipeline', 'api');
    return e.some((x) => x.reason === 'Ready') ? e : undefined;
  });
  t.is(transitions.filter((e) => e.reason === 'Ready').length, 1, JSON.stringify(transitions));
  t.true(transitions.filter((e) => e.reason === 'RollingOut').length <= 1, JSON.stringify(transitions));
  t.deepEqual(p.status!.endpoints, { ingestion: `http://api-ingestion.${ns}:8080`, query: `http://api-query.${ns}:8080` });
  t.deepEqual(p.status!.runtimes, {
    ingestion: { ready: 2, desired: 2 },
    processor: { ready: 2, desired: 2 },
    query: { ready: 1, desired: 1 },
  });
  t.is(condition(p, 'Degraded')!.status, 'False');
  t.is(condition(p, 'Progressing')!.status, 'False');
  const hash = p.status!.configHash!;
  t.regex(hash, /^[0-9a-f]{64}$/);

  // The Sinks' own status (kubectl get ssink: Ready, Reason).
  for (const sink of ['hot', 'archive']) {
    const st = await until(
      `Sink ${sink} status`,
      () =>
        getJson<{ status?: { conditions?: { type: string; status: string; reason: string }[] } }>(['-n', ns, 'get', 'sink', sink]).status,
    );
    t.like(st.conditions?.[0], { type: 'Ready', status: 'True', reason: 'Valid' });
  }

  // The runtime config, as the runtime will read it.
  const cm = getJson<Obj>(['-n', ns, 'get', 'configmap', 'api-config']);
  const config = JSON.parse(cm.data!['runtime.json']!) as Record<string, any>;
  t.deepEqual(config.pipeline, { namespace: ns, name: 'api' });
  t.deepEqual(config.kafka.brokers, infraVar('KAFKA_BROKERS').split(','));
  t.deepEqual(config.sinks.opensearch.endpoints, [sinkEndpoint('OPENSEARCH_URL')]);
  t.deepEqual(
    config.processors.map((s: object) => Object.keys(s)[0]),
    ['parse', 'redact', 'drop'],
  );
  t.is(cm.metadata.ownerReferences?.[0]?.uid, p.metadata.uid);

  const deployments = list<Obj & { spec: any; status: any }>(ns, 'deployments');
  t.deepEqual(deployments.map((d) => d.metadata.name).sort(), ['api-ingestion', 'api-processor', 'api-query']);
  for (const d of deployments) {
    t.is(d.spec.template.metadata.annotations['sextant.dev/config-hash'], hash, `${d.metadata.name} carries the config hash`);
    t.is(d.metadata.ownerReferences?.[0]?.uid, p.metadata.uid);
    const c = d.spec.template.spec.containers[0];
    t.is(c.image, IMAGE);
    t.deepEqual(c.args, [d.metadata.name.replace('api-', ''), '--config', '/etc/sextant/runtime.json']);
  }
  const services = list<Obj & { spec: any }>(ns, 'services');
  t.deepEqual(services.map((s) => s.metadata.name).sort(), ['api-ingestion', 'api-query']);
  t.true(services.every((s) => s.spec.ports[0].port === 8080));
  t.deepEqual(
    list(ns, 'poddisruptionbudgets')
      .map((x) => x.metadata.name)
      .sort(),
    ['api-ingestion', 'api-processor'],
  );
  const hpas = list<Obj & { spec: any }>(ns, 'horizontalpodautoscalers');
  t.deepEqual(
    hpas.map((h) => h.metadata.name),
    ['api-processor'],
  );
  t.is(hpas[0]!.spec.maxReplicas, 6);

  // Pods were scheduled onto kwok nodes and are Running.
  const pods = list<{ metadata: { name: string }; spec: { nodeName?: string }; status: { phase: string } }>(ns, 'pods');
  t.is(pods.length, 5);
  for (const pod of pods) {
    t.regex(pod.spec.nodeName ?? '', /^kwok-node-/);
    t.is(pod.status.phase, 'Running');
  }

  // Kafka topics, created by the operator with the Pipeline's partitions.
  const existing = await topics();
  for (const signal of ['logs', 'metrics', 'dlq']) t.true(existing.includes(`sextant.${ns}.api.${signal}`), `topic for ${signal}`);

  // The cluster-wide agent routes in the operator's namespace.
  const routes = await until('the agent route of the Pipeline', () => {
    const routesCm = getJson<Obj>(['-n', operatorNs, 'get', 'configmap', 'sextant-agent-routes']);
    const file = YAML.parse(routesCm.data!['routes.yaml']!) as {
      routes: { name: string; endpoint: string; namespaces: string[]; podMetrics?: boolean }[];
    };
    return file.routes.find((r) => r.name === `${ns}.api`);
  });
  t.is(routes.endpoint, `http://api-ingestion.${ns}.svc:8080`);
  t.deepEqual(routes.namespaces, [ns]);
  // examples/pipeline.yaml sets sources.kubernetes.podMetrics: the agent is told to scrape its annotated pods.
  t.true(routes.podMetrics);
  const keys = getJson<Obj>(['-n', operatorNs, 'get', 'secret', 'sextant-agent-route-keys']);
  t.is(Buffer.from(keys.data![`${ns}.api`]!, 'base64').toString(), 'REPLACE-ME-with-a-long-random-api-key');
});

interface EventItem {
  reason: string;
  type: string;
  note?: string;
  regarding?: { name: string; kind: string };
}

function eventsOf(ns: string, kind: string, name: string): EventItem[] {
  return getJson<{ items: EventItem[] }>(['-n', ns, 'get', 'events.events.k8s.io']).items.filter(
    (e) => e.regarding?.kind === kind && e.regarding.name === name,
  );
}

test('a Sink in use cannot be deleted under its Pipeline (finalizer, InUse, Warning Event); once let go it goes; a missing Sink is SinkNotFound; restoring it heals', async (t) => {
  const ns = exampleNamespace('sx-sink');
  const ready = await untilReady(ns, 'api');
  const readySince = condition(ready, 'Ready')!.lastTransitionTime;
  const sink = await until('Sink archive in use', () => {
    const s = getJson<{ metadata: { finalizers?: string[] }; status?: { usedBy?: string[] } }>(['-n', ns, 'get', 'sink', 'archive']);
    return s.metadata.finalizers?.includes('sextant.dev/sink-in-use') && s.status?.usedBy?.length ? s : undefined;
  });
  t.deepEqual(sink.status!.usedBy, ['api']);

  kubectl(['-n', ns, 'delete', 'sink', 'archive', '--wait=false']);
  const waiting = await until('Sink archive InUse', () => {
    const s = getJson<{
      metadata: { deletionTimestamp?: string };
      status?: { conditions?: { reason: string; status: string; message: string }[] };
    }>(['-n', ns, 'get', 'sink', 'archive']);
    const c = s.status?.conditions?.find((x) => x.reason === 'InUse');
    return s.metadata.deletionTimestamp && c ? c : undefined;
  });
  t.is(waiting.status, 'False');
  t.regex(
    waiting.message,
    /deletion waits until no Pipeline uses this Sink; used by api: delete them or point their spec\.sinks at another Sink/,
  );
  const inUse = await until('an InUse Event on the Sink', () => {
    const e = eventsOf(ns, 'Sink', 'archive').filter((x) => x.reason === 'InUse');
    return e.length > 0 ? e : undefined;
  });
  t.is(inUse[0]!.type, 'Warning');
  // The Pipeline keeps running on its Sink meanwhile.
  t.like(condition(pipeline(ns, 'api'), 'Ready'), { status: 'True' });

  // The Pipeline lets go of it: the operator drops the finalizer, the API server deletes the Sink.
  kubectl(['-n', ns, 'patch', 'pipeline', 'api', '--type', 'json', '-p', JSON.stringify([{ op: 'remove', path: '/spec/sinks/cold' }])]);
  await until('Sink archive gone', () =>
    kubectl(['-n', ns, 'get', 'sinks', '-o', 'name']).includes('sink.sextant.dev/archive') ? undefined : true,
  );

  // Asking for a Sink that does not exist: SinkNotFound, with a Warning Event.
  kubectl([
    '-n',
    ns,
    'patch',
    'pipeline',
    'api',
    '--type',
    'merge',
    '-p',
    JSON.stringify({ spec: { sinks: { cold: { sinkRef: { name: 'archive' } } } } }),
  ]);
  const broken = await untilReady(ns, 'api', 'False', 'SinkNotFound');
  t.is(condition(broken, 'Ready')!.message, `cold sink "archive" not found in namespace ${ns}`);
  t.like(condition(broken, 'Degraded'), { status: 'True', reason: 'SinkNotFound' });
  // The runtimes keep the last good config meanwhile.
  t.is(list(ns, 'deployments').length, 3);
  const events = await until('a SinkNotFound Event', () => {
    const items = eventsOf(ns, 'Pipeline', 'api').filter((e) => e.reason === 'SinkNotFound');
    return items.length > 0 ? items : undefined;
  });
  t.is(events[0]!.type, 'Warning');

  applyDocs(
    ns,
    exampleDocs('sinks.yaml').filter((d) => (d.metadata as { name: string }).name === 'archive'),
  );
  const healed = await untilReady(ns, 'api');
  t.like(condition(healed, 'Degraded'), { status: 'False' });
  t.not(condition(healed, 'Ready')!.lastTransitionTime, undefined);
  t.true(condition(healed, 'Ready')!.lastTransitionTime >= readySince);
  // One Event per transition, never two (a reconcile must not read its own stale status).
  // (Ready may already have been False, RollingOut, when the Sink went missing: count per condition.)
  const sinkNotFound = eventsOf(ns, 'Pipeline', 'api').filter((e) => e.reason === 'SinkNotFound');
  t.is(sinkNotFound.filter((e) => e.note?.startsWith('Degraded is True')).length, 1, JSON.stringify(sinkNotFound));
  t.true(sinkNotFound.filter((e) => e.note?.startsWith('Ready is False')).length <= 1, JSON.stringify(sinkNotFound));
});

test('Secret contents: an API-key Secret without the keys key is SecretKeyNotFound, one holding no key NoApiKeys; fixing it heals', async (t) => {
  const ns = exampleNamespace('sx-keys', false);
  kubectl(['-n', ns, 'create', 'secret', 'generic', 'typo-keys', '--from-literal=key=abc']);
  const doc = structuredClone(exampleDocs('pipeline.yaml')[0]!) as { spec: any };
  doc.spec.sources.http.apiKeysSecretRef = { name: 'typo-keys' };
  applyDocs(ns, [doc]);
  const missing = await untilReady(ns, 'api', 'False', 'SecretKeyNotFound');
  t.regex(condition(missing, 'Ready')!.message, new RegExp(`Secret ${ns}/typo-keys has no key "keys"`));
  // Nothing was rolled out for it.
  t.is(list(ns, 'deployments').length, 0);
  kubectl(['-n', ns, 'patch', 'secret', 'typo-keys', '--type', 'merge', '-p', JSON.stringify({ stringData: { keys: ' , ' } })]);
  await untilReady(ns, 'api', 'False', 'NoApiKeys');
  kubectl(['-n', ns, 'patch', 'secret', 'typo-keys', '--type', 'merge', '-p', JSON.stringify({ stringData: { keys: 'a-real-key' } })]);
  await untilReady(ns, 'api');
});

test("Kafka's own refusal is in the status: replicationFactor 3 on one broker is KafkaTopicsRejected with INVALID_REPLICATION_FACTOR", async (t) => {
  const ns = exampleNamespace('sx-rf', false);
  const doc = structuredClone(exampleDocs('pipeline.yaml')[0]!) as { spec: any };
  doc.spec.kafka.replicationFactor = 3;
  applyDocs(ns, [doc]);
  const rejected = await untilReady(ns, 'api', 'False', 'KafkaTopicsRejected');
  t.regex(
    condition(rejected, 'Ready')!.message,
    /INVALID_REPLICATION_FACTOR .*spec\.kafka\.replicationFactor is 3: it must not exceed the number of brokers/,
  );
  t.like(condition(rejected, 'Degraded'), { status: 'True', reason: 'KafkaTopicsRejected' });
  kubectl(['-n', ns, 'patch', 'pipeline', 'api', '--type', 'merge', '-p', JSON.stringify({ spec: { kafka: { replicationFactor: 1 } } })]);
  await untilReady(ns, 'api');
});

test('a missing Secret is SecretNotFound; an invalid Pipeline is InvalidSpec and blocks no other Pipeline', async (t) => {
  const ns = exampleNamespace('sx-bad');
  const base = exampleDocs('pipeline.yaml')[0]!;
  const clone = (name: string, edit: (spec: any) => void) => {
    const doc = structuredClone(base) as { metadata: { name: string }; spec: any };
    doc.metadata.name = name;
    edit(doc.spec);
    return doc;
  };
  applyDocs(ns, [
    clone('nosecret', (s) => (s.sources.http.apiKeysSecretRef = { name: 'no-such-secret' })),
    // A regular expression the API server cannot check but the runtime's codec rejects.
    clone('badregex', (s) => (s.processors = [{ redact: { patterns: ['token=(['] } }])),
  ]);
  // A Sink whose credentials Secret is missing says so in its own status.
  kubectl([
    '-n',
    ns,
    'patch',
    'sink',
    'archive',
    '--type',
    'merge',
    '-p',
    JSON.stringify({ spec: { s3: { credentialsSecretRef: { name: 'gone' } } } }),
  ]);
  await until('Sink archive SecretNotFound', () => {
    const c = getJson<{ status?: { conditions?: { status: string; reason: string; message: string }[] } }>([
      '-n',
      ns,
      'get',
      'sink',
      'archive',
    ]).status?.conditions?.[0];
    return c?.reason === 'SecretNotFound' && c.status === 'False' && c.message === `secret "gone" not found in namespace ${ns}`
      ? true
      : undefined;
  });
  applyDocs(
    ns,
    exampleDocs('sinks.yaml').filter((d) => (d.metadata as { name: string }).name === 'archive'),
  );
  const nosecret = await untilReady(ns, 'nosecret', 'False', 'SecretNotFound');
  t.is(condition(nosecret, 'Ready')!.message, `secret "no-such-secret" not found in namespace ${ns}`);
  const bad = await untilReady(ns, 'badregex', 'False', 'InvalidSpec');
  t.regex(condition(bad, 'Ready')!.message, /spec\.processors\[0\]\.redact\.patterns\[0\]/);
  // Neither got children; the good Pipeline beside them is Ready.
  await untilReady(ns, 'api');
  t.deepEqual(
    list(ns, 'deployments')
      .map((d) => d.metadata.name)
      .sort(),
    ['api-ingestion', 'api-processor', 'api-query'],
  );

  // Creating the Secret heals the first one (the Secret watch requeues it).
  kubectl(['-n', ns, 'create', 'secret', 'generic', 'no-such-secret', '--from-literal=keys=k1']);
  await untilReady(ns, 'nosecret');
});

test('rotating a referenced Secret rolls every Deployment (config hash) and gives the node agent the new API key', async (t) => {
  const ns = exampleNamespace('sx-rotate');
  const before = await untilReady(ns, 'api');
  const oldHash = before.status!.configHash!;
  const agentKey = () => {
    const data = getJson<Obj>(['-n', operatorNs, 'get', 'secret', 'sextant-agent-route-keys']).data?.[`${ns}.api`];
    return data === undefined ? undefined : Buffer.from(data, 'base64').toString();
  };
  await until('the example key in the agent route keys', () => (agentKey() === 'REPLACE-ME-with-a-long-random-api-key' ? true : undefined));
  const getsBefore = (await operator.metric('sextant_operator_secret_reads_total', { source: 'api' })) ?? 0;

  kubectl([
    '-n',
    ns,
    'patch',
    'secret',
    'api-keys',
    '--type',
    'merge',
    '-p',
    JSON.stringify({ stringData: { keys: 'rotated-2,rotated-1' } }),
  ]);
  const after = await until('the rotated Secret to be rolled out', () => {
    const p = pipeline(ns, 'api');
    return p.status?.configHash !== undefined && p.status.configHash !== oldHash && condition(p, 'Ready')?.status === 'True'
      ? p
      : undefined;
  });
  for (const d of list<Obj & { spec: any }>(ns, 'deployments'))
    t.is(d.spec.template.metadata.annotations['sextant.dev/config-hash'], after.status!.configHash, `${d.metadata.name} rolls`);
  await until('the rotated key in the agent route keys', () => (agentKey() === 'rotated-2' ? true : undefined));
  // The Secret cache holds metadata only: the new value came from a GET.
  t.true((await operator.metric('sextant_operator_secret_reads_total', { source: 'api' }))! > getsBefore);
});

test('editing a stage changes the config hash and rolls every Deployment (new ReplicaSets); removing autoscaling prunes the HPA', async (t) => {
  const ns = exampleNamespace('sx-edit');
  const before = await untilReady(ns, 'api');
  const oldHash = before.status!.configHash!;
  const oldRs = new Set(list(ns, 'replicasets').map((r) => r.metadata.name));
  t.is(oldRs.size, 3);
  kubectl([
    '-n',
    ns,
    'patch',
    'pipeline',
    'api',
    '--type',
    'json',
    '-p',
    JSON.stringify([
      { op: 'replace', path: '/spec/processors/2', value: { drop: { when: { label: 'level', equals: 'trace' } } } },
      { op: 'replace', path: '/spec/runtimes/processor', value: { replicas: 1 } },
    ]),
  ]);
  const after = await until('the new config to be rolled out', () => {
    const p = pipeline(ns, 'api');
    return p.status?.observedGeneration === p.metadata.generation &&
      p.status.configHash !== oldHash &&
      condition(p, 'Ready')?.status === 'True'
      ? p
      : undefined;
  });
  t.is(after.metadata.generation, before.metadata.generation + 1);
  const newHash = after.status!.configHash!;
  for (const d of list<Obj & { spec: any }>(ns, 'deployments'))
    t.is(d.spec.template.metadata.annotations['sextant.dev/config-hash'], newHash);
  const cm = getJson<Obj>(['-n', ns, 'get', 'configmap', 'api-config']);
  t.deepEqual(JSON.parse(cm.data!['runtime.json']!).processors[2], { drop: { when: { label: 'level', equals: 'trace' } } });
  const rs = list<Obj & { spec: { replicas: number } }>(ns, 'replicasets');
  const fresh = rs.filter((r) => !oldRs.has(r.metadata.name));
  t.is(fresh.length, 3, 'one new ReplicaSet per Deployment');
  t.true(
    rs.filter((r) => oldRs.has(r.metadata.name)).every((r) => r.spec.replicas === 0),
    'old ReplicaSets scaled to 0',
  );
  await until('the HPA to be pruned', () => (list(ns, 'horizontalpodautoscalers').length === 0 ? true : undefined));
  t.deepEqual(after.status!.runtimes!.processor, { ready: 1, desired: 1 });
});

test('restarting the operator changes nothing: no resourceVersion of a child or of the Pipeline moves', async (t) => {
  const ns = exampleNamespace('sx-restart');
  await untilReady(ns, 'api');
  // Settled: rollout complete (Progressing False) and the HPA scaled the processor to its minimum.
  await until('the rollout to settle', () => {
    const p = pipeline(ns, 'api');
    return condition(p, 'Progressing')?.status === 'False' && condition(p, 'Ready')?.status === 'True' ? p : undefined;
  });
  const kinds = 'pipelines,deployments,replicasets,services,configmaps,poddisruptionbudgets,horizontalpodautoscalers';
  const before = versions(ns, kinds);
  const agentBefore = versions(operatorNs, 'configmaps,secrets');
  t.true(Object.keys(before).length >= 12, JSON.stringify(before));

  t.is(await operator.stop(), 0, 'graceful exit on SIGTERM');
  operator = await startOperator(operatorArgs());
  // Wait until the new process reconciled every Pipeline in the cluster and the agent routes.
  const all = getJson<{ items: unknown[] }>(['get', 'pipelines', '--all-namespaces']).items.length;
  await until('the restarted operator to reconcile everything', async () => {
    const done = (await operator.metric('sextant_operator_reconciles_total', { kind: 'Pipeline', result: 'success' })) ?? 0;
    const failed = (await operator.metric('sextant_operator_reconciles_total', { kind: 'Pipeline', result: 'error' })) ?? 0;
    const agent = (await operator.metric('sextant_operator_reconciles_total', { kind: 'AgentRoutes', result: 'success' })) ?? 0;
    const depth = (await operator.metric('sextant_operator_queue_depth', { kind: 'Pipeline' })) ?? 1;
    return done + failed >= all && agent >= 1 && depth === 0 ? true : undefined;
  });
  t.deepEqual(versions(ns, kinds), before);
  t.deepEqual(versions(operatorNs, 'configmaps,secrets'), agentBefore);
  // Nothing reported as written either: no "Configured …" line, no write counted.
  t.notRegex(operator.output(), /"msg":"(Configured|Created) /);
  t.is((await operator.metric('sextant_operator_object_writes_total', { kind: 'Deployment', operation: 'configured' })) ?? 0, 0);
});

test('an unreachable Kafka broker turns that Pipeline Degraded (KafkaUnavailable) while the others stay Ready; fixing it heals', async (t) => {
  const ns = exampleNamespace('sx-kafka');
  await untilReady(ns, 'api');
  // A port nobody listens on: connections are refused.
  const closed = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
  const doc = structuredClone(exampleDocs('pipeline.yaml')[0]!) as { metadata: { name: string }; spec: any };
  doc.metadata.name = 'nokafka';
  doc.spec.kafka.brokers = [`127.0.0.1:${closed}`];
  applyDocs(ns, [doc]);
  const down = await untilReady(ns, 'nokafka', 'False', 'KafkaUnavailable');
  t.regex(condition(down, 'Ready')!.message, new RegExp(`127\\.0\\.0\\.1:${closed}`));
  t.like(condition(down, 'Degraded'), { status: 'True', reason: 'KafkaUnavailable' });
  t.like(condition(pipeline(ns, 'api'), 'Ready'), { status: 'True' });
  t.true(((await operator.metric('sextant_operator_reconcile_errors_total', { kind: 'Pipeline', reason: 'KafkaUnavailable' })) ?? 0) >= 1);

  kubectl([
    '-n',
    ns,
    'patch',
    'pipeline',
    'nokafka',
    '--type',
    'merge',
    '-p',
    JSON.stringify({ spec: { kafka: { brokers: infraVar('KAFKA_BROKERS').split(',') } } }),
  ]);
  await untilReady(ns, 'nokafka');
  t.true((await topics()).includes(`sextant.${ns}.nokafka.logs`));
});

test('deleting a Pipeline removes its children (owner references, garbage collector) and its agent route', async (t) => {
  const ns = exampleNamespace('sx-del');
  await untilReady(ns, 'api');
  await until('the agent route', () =>
    getJson<Obj>(['-n', operatorNs, 'get', 'secret', 'sextant-agent-route-keys']).data?.[`${ns}.api`] ? true : undefined,
  );
  kubectl(['-n', ns, 'delete', 'pipeline', 'api', '--wait=true']);
  await until('every child to be garbage-collected', () => {
    const left = getJson<{ items: Obj[] }>([
      '-n',
      ns,
      'get',
      'deployments,replicasets,pods,services,poddisruptionbudgets,horizontalpodautoscalers',
    ]).items;
    const cms = list(ns, 'configmaps').filter((c) => c.metadata.name === 'api-config');
    return left.length === 0 && cms.length === 0 ? true : undefined;
  });
  await until('the agent route to go', () =>
    getJson<Obj>(['-n', operatorNs, 'get', 'secret', 'sextant-agent-route-keys']).data?.[`${ns}.api`] ? undefined : true,
  );
  const routes = YAML.parse(getJson<Obj>(['-n', operatorNs, 'get', 'configmap', 'sextant-agent-routes']).data!['routes.yaml']!) as {
    routes: { name: string }[];
  };
  t.false(routes.routes.some((r) => r.name === `${ns}.api`));
});

test('sextant operator: --help exits 0; a bad flag exits 2 naming it', (t) => {
  const run = (args: string[]) => spawnSync(process.execPath, [CLI, 'operator', ...args], { encoding: 'utf8' });
  const help = run(['--help']);
  t.is(help.status, 0);
  t.regex(help.stdout, /--leader-elect <bool>/);
  for (const [args, message] of [
    [['--port', 'eighty'], /invalid --port "eighty": expected 0-65535/],
    [['--workers', '0'], /invalid --workers "0": expected 1-64/],
    [['--resync', '10 minutes'], /invalid --resync "10 minutes"/],
    [['--leader-elect', 'maybe'], /invalid --leader-elect "maybe": expected true or false/],
    [['--namespace', 'Not_A_Namespace'], /invalid --namespace "Not_A_Namespace"/],
    [['--no-such-flag'], /Unknown option '--no-such-flag'/],
  ] as const) {
    const r = run([...args]);
    t.is(r.status, 2, args.join(' '));
    t.regex(r.stderr, message);
  }
  const unreachable = run(['--kubeconfig', '/nonexistent/kubeconfig']);
  t.is(unreachable.status, 1);
  t.regex(unreachable.stderr, /sextant operator: cannot start: .*nonexistent/);
});
