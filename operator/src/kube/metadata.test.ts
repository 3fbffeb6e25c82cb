import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as k8s from '@kubernetes/client-node';
import test from 'ava';
import { metadataListOptions, metadataWatch, PARTIAL_METADATA, PARTIAL_METADATA_LIST, slimList, slimMetadata } from './metadata.js';

const heavy = {
  apiVersion: 'meta.k8s.io/v1',
  kind: 'PartialObjectMetadata',
  metadata: {
    name: 'sh.helm.release.v1.app.v1',
    namespace: 'team-a',
    uid: 'u-1',
    resourceVersion: '42',
    creationTimestamp: '2026-01-01T00:00:00Z',
    labels: { owner: 'helm' },
    annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"data":{"password":"c2VjcmV0"}}' },
    managedFields: [{ manager: 'helm', operation: 'Update', fieldsV1: { 'f:data': {} } }],
    ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'p', uid: 'x' }],
  },
};
// As the API server sends it (JSON: timestamps are strings), seen through the client's type.
const heavyObject = heavy as unknown as k8s.KubernetesObject;

test('slimMetadata keeps identity, version and lifecycle, and drops annotations, labels, managedFields, owners', (t) => {
  t.deepEqual(slimMetadata(heavyObject), {
    apiVersion: 'meta.k8s.io/v1',
    kind: 'PartialObjectMetadata',
    metadata: {
      name: 'sh.helm.release.v1.app.v1',
      namespace: 'team-a',
      uid: 'u-1',
      resourceVersion: '42',
      creationTimestamp: '2026-01-01T00:00:00Z',
    },
  } as unknown as k8s.KubernetesObject);
  t.deepEqual(slimMetadata({ kind: 'X' }), { apiVersion: undefined, kind: 'X' });
});

test('slimList slims every item and keeps the list resourceVersion (the watch starts from it)', async (t) => {
  const list = await slimList(Promise.resolve({ metadata: { resourceVersion: '7' }, items: [heavyObject] }));
  t.is(list.metadata?.resourceVersion, '7');
  t.deepEqual(Object.keys(list.items[0]!.metadata!).sort(), ['creationTimestamp', 'name', 'namespace', 'resourceVersion', 'uid']);
  // What the API server sends for an empty metadata list.
  const empty = { metadata: { resourceVersion: '8' }, items: null } as unknown as k8s.KubernetesListObject<k8s.KubernetesObject>;
  t.deepEqual((await slimList(Promise.resolve(empty))).items, []);
});

/** A tiny API server: answers the list and one watch, recording the Accept headers it was sent. */
async function fakeApiServer(t: import('ava').ExecutionContext) {
  const accepts: { url: string; accept: string | undefined }[] = [];
  const server = http.createServer((req, res) => {
    accepts.push({ url: req.url ?? '', accept: req.headers.accept });
    res.writeHead(200, { 'content-type': 'application/json' });
    if (req.url?.includes('watch=true')) {
      res.write(`${JSON.stringify({ type: 'ADDED', object: heavy })}\n`);
      res.write(`${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, metadata: {} } })}\n`);
      res.end();
    } else res.end(JSON.stringify({ kind: 'PartialObjectMetadataList', metadata: { resourceVersion: '7' }, items: [heavy] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't0k3n' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return { kc, accepts };
}

test('the watch asks for PartialObjectMetadata and hands on slim objects; ERROR events pass unchanged', async (t) => {
  const { kc, accepts } = await fakeApiServer(t);
  const events: { phase: string; obj: unknown }[] = [];
  await new Promise<void>((resolve, reject) => {
    void metadataWatch(kc)
      .watch(
        '/api/v1/secrets',
        { resourceVersion: '7' },
        (phase, obj) => events.push({ phase, obj }),
        (err) => (err ? reject(err) : resolve()),
      )
      .catch(reject);
  });
  t.is(accepts.length, 1);
  t.is(accepts[0]!.accept, PARTIAL_METADATA);
  t.regex(accepts[0]!.url, /^\/api\/v1\/secrets\?watch=true&resourceVersion=7$/);
  t.deepEqual(
    events.map((e) => e.phase),
    ['ADDED', 'ERROR'],
  );
  t.deepEqual(events[0]!.obj, slimMetadata(heavyObject));
  t.deepEqual(events[1]!.obj, { kind: 'Status', code: 410, metadata: {} });
});

test('a generated list call with metadataListOptions asks for PartialObjectMetadataList', async (t) => {
  const { kc, accepts } = await fakeApiServer(t);
  const list = await slimList(kc.makeApiClient(k8s.CoreV1Api).listSecretForAllNamespaces({}, metadataListOptions()));
  t.is(accepts[0]!.accept, PARTIAL_METADATA_LIST);
  t.is(list.items.length, 1);
  t.is(list.items[0]!.metadata?.name, 'sh.helm.release.v1.app.v1');
  t.is(list.items[0]!.metadata?.annotations, undefined);
});
