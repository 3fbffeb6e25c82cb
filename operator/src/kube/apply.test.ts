import test from 'ava';
import { isSubset } from './apply.js';

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
