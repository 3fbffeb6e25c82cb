import test from 'ava';
import { Applier, isSubset, ownedFieldsCovered } from './apply.js';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { KubeClients } from './client.js';

test('a desired object is a subset of a live object with server defaults and metadata', (t) => {
  const desired = {
    metadata: { name: 'a', labels: { app: 'x' } },
    spec: { replicas: 2, template: { spec: { containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 8080 }] }] } } },
  };
  const live = {
    metadata: { name: 'a', labels: { app: 'x', extra: 'y' }, resourceVersion: '7', creationTimestamp: new Date() },
    spec: {
      replicas: 2,
      strategy: { type: 'RollingUpdate' },
      template: {
        spec: {
          containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 8080, protocol: 'TCP' }], terminationMessagePath: '/dev/x' }],
        },
      },
    },
  };
  t.true(isSubset(desired, live));
});

test('a changed value, a missing key or a different array length is not a subset', (t) => {
  const live = { spec: { replicas: 2, list: [1, 2], m: { a: '1' } } };
  t.false(isSubset({ spec: { replicas: 3 } }, live));
  t.false(isSubset({ spec: { other: 'x' } }, live));
  t.false(isSubset({ spec: { list: [1] } }, live));
  t.false(isSubset({ spec: { list: [1, 2, 3] } }, live));
  t.false(isSubset({ spec: { m: { a: '2' } } }, live));
  t.false(isSubset({ spec: { m: 'x' } }, live));
  t.true(isSubset({ spec: { list: [1, 2], m: { a: '1', b: undefined } } }, live));
});

test('owned fields missing from the desired object (a removed key) are a change; server defaults in list keys are not', (t) => {
  const fields = {
    'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
    'f:data': { '.': {}, 'f:a': {}, 'f:b': {} },
    'f:spec': { 'f:ports': { 'k:{"port":8080,"protocol":"TCP"}': { '.': {}, 'f:port': {} } }, 'f:list': { 'v:"x"': {} } },
  };
  const desired = { metadata: { labels: { app: 'x' } }, data: { a: '1', b: '2' }, spec: { ports: [{ port: 8080 }], list: ['x'] } };
  t.true(ownedFieldsCovered(fields, desired));
  t.false(ownedFieldsCovered(fields, { ...desired, data: { a: '1' } }), 'key b dropped');
  t.false(ownedFieldsCovered(fields, { ...desired, metadata: {} }), 'label dropped');
  t.false(ownedFieldsCovered(fields, { ...desired, spec: { ports: [{ port: 9090 }], list: ['x'] } }), 'port changed');
  t.false(ownedFieldsCovered(fields, { ...desired, spec: { ports: [{ port: 8080 }], list: ['y'] } }), 'set item gone');
  t.true(ownedFieldsCovered(undefined, desired), 'nothing owned yet');
});

test('an apply the server treats as a no-op (same resourceVersion back) is unchanged, and the next one is not sent', async (t) => {
  // The server normalised cpu "0.5" to "500m": the cache comparison cannot see the two are equal.
  const live = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'a', namespace: 'ns', resourceVersion: '42' },
    data: { cpu: '500m' },
  };
  const desired = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'ns' }, data: { cpu: '0.5' } };
  let patches = 0;
  const clients = {
    objects: {
      patch: async () => {
        patches++;
        return live;
      },
    },
  } as unknown as KubeClients;
  const applier = new Applier(clients, { get: () => live });
  t.is(await applier.apply(desired), 'unchanged');
  t.is(patches, 1);
  t.is(await applier.apply(desired), 'unchanged');
  t.is(patches, 1, 'remembered: not sent again while the object stays at that resourceVersion');
});

test('an apply that moved the resourceVersion is configured', async (t) => {
  const live = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'ns', resourceVersion: '42' }, data: { k: 'old' } };
  const clients = {
    objects: { patch: async () => ({ ...live, metadata: { ...live.metadata, resourceVersion: '43' }, data: { k: 'new' } }) },
  } as unknown as KubeClients;
  const applier = new Applier(clients, { get: () => live });
  t.is(
    await applier.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'a', namespace: 'ns' },
      data: { k: 'new' },
    } as KubernetesObject),
    'configured',
  );
});
