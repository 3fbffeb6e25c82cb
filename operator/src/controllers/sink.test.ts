import test from 'ava';
import type * as k8s from '@kubernetes/client-node';
import type { KubeClients } from '../kube/client.js';
import type { EventRecorder } from '../kube/events.js';
import type { Informer } from '../kube/informer.js';
import { OperatorMetrics } from '../metrics.js';
import { SINK_IN_USE_FINALIZER, sinkReconciler, sinkUsers } from './sink.js';

const pipeline = (name: string, hot: string, cold?: string) =>
  ({
    metadata: { name, namespace: 'team-a' },
    spec: { sinks: { hot: { sinkRef: { name: hot } }, ...(cold ? { cold: { sinkRef: { name: cold } } } : {}) } },
  }) as k8s.KubernetesObject;

test('sinkUsers: the Pipelines whose hot or cold sink it is, sorted; ones being deleted do not count', (t) => {
  const gone = { ...pipeline('old', 'hot'), metadata: { name: 'old', namespace: 'team-a', deletionTimestamp: new Date() } };
  t.deepEqual(sinkUsers([pipeline('web', 'hot', 'archive'), pipeline('api', 'other', 'hot'), pipeline('x', 'other'), gone], 'hot'), [
    'api',
    'web',
  ]);
});

/** A Sink controller over in-memory caches; records the patches it sends and the Events. */
function harness(sink: k8s.KubernetesObject, pipelines: k8s.KubernetesObject[]) {
  const patches: { finalizers?: unknown; status?: { usedBy?: string[]; conditions?: { reason: string }[] } }[] = [];
  const events: { type: string; reason: string; note: string }[] = [];
  const list = (items: k8s.KubernetesObject[]) => ({
    list: () => items,
    get: (name: string) => items.find((i) => i.metadata?.name === name),
  });
  const clients = {
    custom: {
      patchNamespacedCustomObject: async ({ body }: { body: { path: string; value: unknown }[] }) => {
        const f = body.find((op) => op.path === '/metadata/finalizers')!.value as string[];
        patches.push({ finalizers: f });
        sink.metadata!.finalizers = f;
        sink.metadata!.resourceVersion = String(Number(sink.metadata!.resourceVersion) + 1);
        return sink;
      },
      patchNamespacedCustomObjectStatus: async ({ body }: { body: { value: unknown }[] }) => {
        patches.push({ status: body[0]!.value as never });
        return sink;
      },
    },
  } as unknown as KubeClients;
  const reconcile = sinkReconciler({
    clients,
    sinks: list([sink]) as unknown as Informer<k8s.KubernetesObject>,
    pipelines: list(pipelines) as unknown as Informer<k8s.KubernetesObject>,
    secrets: list([{ metadata: { name: 'os-creds', namespace: 'team-a' } }]) as unknown as Informer<k8s.KubernetesObject>,
    events: { record: async (e: { type: string; reason: string; note: string }) => void events.push(e) } as unknown as EventRecorder,
    metrics: new OperatorMetrics(),
    log: { info: () => {}, debug: () => {}, warn: () => {} } as never,
  });
  return { reconcile, patches, events };
}

const hotSink = (): k8s.KubernetesObject =>
  ({
    apiVersion: 'sextant.dev/v1alpha1',
    kind: 'Sink',
    metadata: { name: 'hot', namespace: 'team-a', generation: 1, resourceVersion: '10' },
    spec: { opensearch: { endpoints: ['http://os:9200'], credentialsSecretRef: { name: 'os-creds' } } },
  }) as k8s.KubernetesObject;

test('a Sink in use gets the in-use finalizer and lists its users; deleting it waits with InUse and a Warning Event', async (t) => {
  const sink = hotSink();
  const pipelines = [pipeline('api', 'hot')];
  const h = harness(sink, pipelines);
  await h.reconcile('team-a/hot');
  t.deepEqual(h.patches[0], { finalizers: [SINK_IN_USE_FINALIZER] });
  t.deepEqual(h.patches[1]!.status!.usedBy, ['api']);
  t.is(h.patches[1]!.status!.conditions![0]!.reason, 'Valid');

  // kubectl delete: the API server only sets deletionTimestamp while a finalizer is there.
  (sink as { status?: unknown }).status = h.patches[1]!.status;
  sink.metadata!.deletionTimestamp = new Date();
  sink.metadata!.resourceVersion = '20';
  await h.reconcile('team-a/hot');
  const st = h.patches[2]!.status!;
  t.is(st.conditions![0]!.reason, 'InUse');
  t.is(h.events.length, 1);
  t.is(h.events[0]!.type, 'Warning');
  t.regex(h.events[0]!.note, /deletion waits until no Pipeline uses this Sink; used by api/);

  // The last user lets go: the finalizer is removed (the API server then deletes the Sink).
  pipelines.pop();
  await h.reconcile('team-a/hot');
  t.deepEqual(h.patches[3], { finalizers: [] });
});

test('a Sink nobody uses carries no finalizer (it deletes at once, operator or not)', async (t) => {
  const h = harness(hotSink(), [pipeline('api', 'other')]);
  await h.reconcile('team-a/hot');
  t.false(h.patches.some((p) => p.finalizers !== undefined));
  t.deepEqual(h.patches[0]!.status!.usedBy, []);
});
