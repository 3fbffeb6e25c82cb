import type * as k8s from '@kubernetes/client-node';
import test from 'ava';
import { SecretDataCache } from './secret-data.js';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** The "API server": Secrets by namespace/name, and a log of the GETs made. */
function store() {
  const secrets = new Map<string, k8s.V1Secret>();
  const gets: string[] = [];
  const put = (ns: string, name: string, rv: string, data: Record<string, string>) =>
    secrets.set(`${ns}/${name}`, {
      metadata: { namespace: ns, name, resourceVersion: rv },
      data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
    });
  const fetch = (ns: string, name: string) => {
    gets.push(`${ns}/${name}`);
    return Promise.resolve(secrets.get(`${ns}/${name}`));
  };
  return { secrets, gets, put, fetch };
}

test('reads decoded values; a second read at the same resourceVersion makes no request', async (t) => {
  const s = store();
  s.put('a', 'keys', '1', { 'api-keys': 'k1,k2' });
  s.put('a', 'kafka', '5', { password: 'p' });
  const reads: string[] = [];
  const cache = new SecretDataCache(s.fetch, (source) => reads.push(source));
  const v = await cache.read('a', { keys: '1', kafka: '5' });
  t.is(v('keys', 'api-keys'), 'k1,k2');
  t.is(v('kafka', 'password'), 'p');
  t.is(v('kafka', 'missing-key'), undefined);
  t.is(v('not-read', 'password'), undefined);
  t.deepEqual(s.gets.sort(), ['a/kafka', 'a/keys']);
  const again = await cache.read('a', { keys: '1' });
  t.is(again('keys', 'api-keys'), 'k1,k2');
  t.is(s.gets.length, 2, 'served from memory');
  t.deepEqual(reads.sort(), ['api', 'api', 'cache']);
});

test('a new resourceVersion reads the Secret again and returns the new value', async (t) => {
  const s = store();
  s.put('a', 'keys', '1', { k: 'old' });
  const cache = new SecretDataCache(s.fetch);
  t.is((await cache.read('a', { keys: '1' }))('keys', 'k'), 'old');
  s.put('a', 'keys', '2', { k: 'new' });
  t.is((await cache.read('a', { keys: '2' }))('keys', 'k'), 'new');
  t.is(s.gets.length, 2);
  // An empty resourceVersion never matches: it always reads.
  await cache.read('a', { keys: '' });
  t.is(s.gets.length, 3);
});

test('a Secret deleted since the informer saw it reads as absent and is not kept', async (t) => {
  const s = store();
  s.put('a', 'keys', '1', { k: 'v' });
  const cache = new SecretDataCache(s.fetch);
  await cache.read('a', { keys: '1' });
  s.secrets.delete('a/keys');
  cache.forget('a', 'keys');
  t.is(cache.size, 0);
  t.is((await cache.read('a', { keys: '1' }))('keys', 'k'), undefined);
  t.is(cache.size, 0);
});

test('namespaces are separate, and the oldest entries go beyond the limit', async (t) => {
  const s = store();
  s.put('a', 'x', '1', { k: 'in-a' });
  s.put('b', 'x', '1', { k: 'in-b' });
  s.put('c', 'x', '1', { k: 'in-c' });
  const cache = new SecretDataCache(s.fetch, undefined, 2);
  t.is((await cache.read('a', { x: '1' }))('x', 'k'), 'in-a');
  t.is((await cache.read('b', { x: '1' }))('x', 'k'), 'in-b');
  t.is((await cache.read('c', { x: '1' }))('x', 'k'), 'in-c');
  t.is(cache.size, 2);
  await cache.read('a', { x: '1' });
  t.is(s.gets.filter((g) => g === 'a/x').length, 2, 'a/x was evicted, so read again');
  await cache.read('c', { x: '1' });
  t.is(s.gets.filter((g) => g === 'c/x').length, 1, 'c/x stayed');
});

test('a failing GET (403, 5xx) propagates: the reconcile retries with backoff', async (t) => {
  const cache = new SecretDataCache(() => Promise.reject(new Error('forbidden')));
  await t.throwsAsync(cache.read('a', { keys: '1' }), { message: 'forbidden' });
});

test('reads of one Secret at the same resourceVersion in flight together share one GET', async (t) => {
  const s = store();
  s.put('a', 'keys', '1', { 'api-keys': 'k1' });
  const cache = new SecretDataCache(s.fetch);
  const all = await Promise.all(Array.from({ length: 50 }, () => cache.read('a', { keys: '1' })));
  t.true(all.every((v) => v('keys', 'api-keys') === 'k1'));
  t.is(s.gets.length, 1);
});
