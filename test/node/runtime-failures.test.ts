/**
 * Runtime-side failures on the real node surface in the Pipeline's status with a specific
 * reason, not the generic RuntimesNotReady: the operator (a local process, as in the cluster
 * tier) renders Deployments whose pods the real kubelet runs, placed on the node by the
 * Pipeline's nodeSelector and tolerations.
 *
 * - an image tag no registry serves (this machine reaches none): ImageNotFound;
 * - a memory limit the runtime cannot start in: the kernel kills it (exit 137), the kubelet
 *   restarts it: RuntimeCrashLoop with the exit code.
 * A Secret missing its key is refused before any pod exists (SecretKeyNotFound, the cluster
 * tier); a runtime exiting 2 on a refused config is ConfigError (unit-tested in
 * operator/src/controllers/runtime-failures.test.ts: the operator validates every config it
 * renders, so only an operator/runtime version skew gets one to a pod).
 */
import test from 'ava';
import { infraVar } from '../integration/helpers/infra-env.js';
import { createNamespaces, deleteNamespace, getJson, uniqueName, until } from '../support/kube.js';
import {
  applyCrds,
  applyDocs,
  condition,
  exampleDocs,
  pipeline,
  startOperator,
  type OperatorProcess,
  type PipelineObject,
} from '../support/operator-process.js';

const image = process.env['NODE_TEST_IMAGE'] ?? 'docker.io/library/sextant:dev';
const operatorNs = uniqueName('sxnode-op');
const namespaces: string[] = [operatorNs];
let operator: OperatorProcess | undefined;

test.before(() => {
  applyCrds();
  createNamespaces(operatorNs);
});

test.after.always(async () => {
  await operator?.stop();
  for (const ns of namespaces) deleteNamespace(ns);
});

/** Every runtime on the real node, one replica each, with these resources. */
function nodeRuntimes(resources?: Record<string, unknown>): Record<string, unknown> {
  const [taintKey, rest] = infraVar('NODE_TAINT').split('=') as [string, string];
  const [taintValue, effect] = rest.split(':') as [string, string];
  const placement = {
    replicas: 1,
    nodeSelector: { 'kubernetes.io/hostname': infraVar('NODE_NAME') },
    tolerations: [{ key: taintKey, operator: 'Equal', value: taintValue, effect }],
    ...(resources ? { resources } : {}),
  };
  return { ingestion: placement, processor: placement, query: placement };
}

/** A namespace with the examples, the Pipeline's runtimes replaced by `runtimes`. */
function examplePipeline(prefix: string, runtimes: Record<string, unknown>): string {
  const ns = uniqueName(prefix);
  namespaces.push(ns);
  createNamespaces(ns);
  applyDocs(ns, [...exampleDocs('secrets.yaml'), ...exampleDocs('sinks.yaml'), ...exampleDocs('retention-policy.yaml')]);
  const docs = exampleDocs('pipeline.yaml');
  for (const doc of docs) (doc.spec as Record<string, unknown>).runtimes = runtimes;
  applyDocs(ns, docs);
  return ns;
}

async function operatorWith(args: string[]): Promise<void> {
  await operator?.stop();
  operator = await startOperator([
    ...['--kubeconfig', infraVar('KUBECONFIG'), '--namespace', operatorNs, '--lease-name', uniqueName('sxnode-lease')],
    ...['--resync', '1m', ...args],
  ]);
}

function untilReason(ns: string, reason: string, timeoutMs = 240_000): Promise<PipelineObject> {
  return until(
    `Pipeline ${ns}/api Ready=False (${reason})`,
    () => {
      const p = pipeline(ns, 'api');
      return condition(p, 'Ready')?.reason === reason ? p : undefined;
    },
    timeoutMs,
  );
}

interface EventList {
  items: { reason: string; type: string; note?: string; regarding?: { kind: string; name: string } }[];
}

function warnings(ns: string, reason: string): EventList['items'] {
  return getJson<EventList>(['-n', ns, 'get', 'events.events.k8s.io']).items.filter(
    (e) => e.regarding?.kind === 'Pipeline' && e.type === 'Warning' && e.reason === reason,
  );
}

test('an image no registry serves: Ready=False ImageNotFound naming the image, Degraded, one Warning Event', async (t) => {
  const missing = image.replace(/:[^:/]+$/, ':no-such-tag');
  await operatorWith(['--image', missing, '--image-pull-policy', 'IfNotPresent']);
  const ns = examplePipeline('sxnode-img', nodeRuntimes());
  const p = await untilReason(ns, 'ImageNotFound');
  const ready = condition(p, 'Ready')!;
  t.regex(ready.message, /^(ingestion|processor|query): pod api-\w+-[\w-]+: (ErrImagePull|ImagePullBackOff) /);
  t.true(ready.message.includes(missing), ready.message);
  t.like(condition(p, 'Degraded'), { status: 'True', reason: 'ImageNotFound' });
  const events = await until('the Warning Event', () =>
    warnings(ns, 'ImageNotFound').length > 0 ? warnings(ns, 'ImageNotFound') : undefined,
  );
  t.is(events.length, 1, JSON.stringify(events));
});

test('a memory limit the runtime cannot start in: the kernel kills it, the kubelet restarts it, RuntimeCrashLoop with exit code 137', async (t) => {
  await operatorWith(['--image', image, '--image-pull-policy', 'Never']);
  const tiny = { requests: { cpu: '50m', memory: '16Mi' }, limits: { memory: '16Mi' } };
  const ns = examplePipeline('sxnode-oom', nodeRuntimes(tiny));
  const p = await untilReason(ns, 'RuntimeCrashLoop');
  const ready = condition(p, 'Ready')!;
  t.regex(ready.message, /^(ingestion|processor|query): pod api-\w+-[\w-]+: exit code 137 after \d+ restarts: OOMKilled/);
  t.like(condition(p, 'Degraded'), { status: 'True', reason: 'RuntimeCrashLoop' });
  t.true(warnings(ns, 'RuntimeCrashLoop').length >= 1);
});
