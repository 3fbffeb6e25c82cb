/**
 * 50 Pipelines applied at once reach Ready on the real control plane (150 Deployments, 150
 * pods on kwok nodes, 150 Kafka topics). The time is reported, not asserted: machines are
 * shared and noisy (benchmarks measure speed).
 */
import test from 'ava';
import { Kafka, logLevel } from 'kafkajs';
import { infraVar } from '../integration/helpers/infra-env.js';
import {
  applyCrds,
  applyDocs,
  exampleDocs,
  startOperator,
  type OperatorProcess,
  type PipelineObject,
} from '../support/operator-process.js';
import { createNamespaces, deleteNamespace, getJson, uniqueName, until } from '../support/kube.js';

const COUNT = 50;
const operatorNs = uniqueName('sxop-scale');
const ns = uniqueName('sx-scale');
let operator: OperatorProcess | undefined;

test.before(() => {
  applyCrds();
  createNamespaces(operatorNs, ns);
});

test.after.always(async () => {
  await operator?.stop();
  deleteNamespace(ns);
  deleteNamespace(operatorNs);
  const admin = new Kafka({
    clientId: 'operator-scale-test',
    brokers: infraVar('KAFKA_BROKERS').split(','),
    logLevel: logLevel.NOTHING,
  }).admin();
  try {
    await admin.connect();
    const mine = (await admin.listTopics()).filter((topic) => topic.startsWith(`sextant.${ns}.`));
    if (mine.length > 0) await admin.deleteTopics({ topics: mine });
  } catch {
    // best effort
  } finally {
    await admin.disconnect();
  }
});

test(`${COUNT} Pipelines reach Ready`, async (t) => {
  applyDocs(ns, [...exampleDocs('secrets.yaml'), ...exampleDocs('sinks.yaml'), ...exampleDocs('retention-policy.yaml')]);
  const base = exampleDocs('pipeline.yaml')[0]! as {
    metadata: { name: string };
    spec: Record<string, unknown> & { kafka: Record<string, unknown> };
  };
  const docs = Array.from({ length: COUNT }, (_, i) => {
    const doc = structuredClone(base);
    doc.metadata.name = `p${String(i).padStart(2, '0')}`;
    doc.spec.kafka.partitions = 1;
    doc.spec.runtimes = { ingestion: { replicas: 1 }, processor: { replicas: 1 }, query: { replicas: 1 } };
    return doc;
  });
  operator = await startOperator([
    '--kubeconfig',
    infraVar('KUBECONFIG'),
    '--namespace',
    operatorNs,
    '--lease-name',
    uniqueName('sextant-operator-scale'),
  ]);
  await until('the operator to lead', async () => ((await operator!.metric('sextant_operator_leader')) === 1 ? true : undefined));
  const started = Date.now();
  applyDocs(ns, docs);
  const readyCount = () =>
    getJson<{ items: PipelineObject[] }>(['-n', ns, 'get', 'pipelines']).items.filter(
      (p) =>
        p.status?.observedGeneration === p.metadata.generation &&
        p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    ).length;
  let last = 0;
  let childrenAt: number | undefined;
  await until(
    `${COUNT} Pipelines Ready`,
    () => {
      if (childrenAt === undefined && getJson<{ items: unknown[] }>(['-n', ns, 'get', 'deployments']).items.length === COUNT * 3)
        childrenAt = Date.now();
      last = readyCount();
      return last === COUNT ? true : undefined;
    },
    240_000,
  ).catch((error: unknown) => {
    throw new Error(`${String(error)} (${last} Ready)\n${operator!.output().slice(-3000)}`);
  });
  const seconds = (Date.now() - started) / 1000;
  t.log(`${COUNT} Pipelines (${COUNT * 3} Deployments, ${COUNT * 3} pods on kwok) Ready ${seconds.toFixed(1)} s after kubectl apply`);
  if (childrenAt !== undefined) t.log(`every Deployment existed after ${((childrenAt - started) / 1000).toFixed(1)} s`);
  const duration = await operator.metric('sextant_operator_reconcile_duration_seconds_sum', { kind: 'Pipeline' });
  const reconciles = await operator.metric('sextant_operator_reconcile_duration_seconds_count', { kind: 'Pipeline' });
  if (duration !== undefined && reconciles)
    t.log(`${reconciles} Pipeline reconciles, ${((duration / reconciles) * 1000).toFixed(0)} ms each on average`);
  const deployments = getJson<{ items: { status?: { readyReplicas?: number } }[] }>(['-n', ns, 'get', 'deployments']).items;
  t.is(deployments.length, COUNT * 3);
  t.true(deployments.every((d) => d.status?.readyReplicas === 1));
  t.is(
    await operator.metric('sextant_operator_reconcile_errors_total', { kind: 'Pipeline', reason: 'ApiError' }),
    undefined,
    // The operator's own words on what failed, so a failure here names its cause.
    `no reconcile failed:\n${operator
      .output()
      .split('\n')
      .filter((l) => l.includes('failed; retrying') || l.includes('reconcile of Pipeline'))
      .join('\n')}`,
  );
});
