import test from 'ava';
import { silentLogger } from '../../../runtime/src/common/index.js';
import { PodCache, type PodInformer, type PodObject } from './pods.js';
import { waitFor } from '../testkit/agent-process.js';

/** A fake informer: the test drives list results, events and errors. */
class FakeInformer implements PodInformer {
  private readonly handlers = new Map<string, Array<(x: never) => void>>();
  starts = 0;
  failNextStart = false;
  on(verb: string, cb: (x: never) => void): void {
    this.handlers.set(verb, [...(this.handlers.get(verb) ?? []), cb]);
  }
  emit(verb: 'add' | 'update' | 'delete', pod: PodObject): void;
  emit(verb: 'error', err: unknown): void;
  emit(verb: string, x: unknown): void {
    for (const cb of this.handlers.get(verb) ?? []) cb(x as never);
  }
  async start(): Promise<void> {
    this.starts++;
    if (this.failNextStart) {
      this.failNextStart = false;
      throw new Error('connection refused');
    }
  }
  async stop(): Promise<void> {}
}

const pod = (uid: string, labels: Record<string, string>, name = `p-${uid}`): PodObject => ({
  metadata: { uid, name, namespace: 'ns', labels },
});

test('labels by UID from add/update/delete; onChange on new pods and label changes only', async (t) => {
  const informer = new FakeInformer();
  const cache = new PodCache(informer, silentLogger());
  const changes: string[] = [];
  cache.onChange = (uid) => changes.push(uid);
  t.false(cache.ready);
  await cache.start();
  t.true(cache.ready);
  informer.emit('add', pod('u1', { app: 'api' }));
  t.deepEqual(cache.labels('u1'), { app: 'api' });
  informer.emit('update', pod('u1', { app: 'api' })); // status-only update
  informer.emit('update', pod('u1', { app: 'api', tier: 'web' }));
  t.deepEqual(cache.labels('u1'), { app: 'api', tier: 'web' });
  informer.emit('add', { metadata: { name: 'no-uid' } }); // ignored
  informer.emit('delete', pod('u1', {}));
  t.is(cache.labels('u1'), undefined);
  t.deepEqual(changes, ['u1', 'u1']);
});

test('a failed start is retried with backoff and the cache keeps what it knew on watch errors', async (t) => {
  const informer = new FakeInformer();
  informer.failNextStart = true;
  const cache = new PodCache(informer, silentLogger(), { initialMs: 5, maxMs: 20 });
  await t.throwsAsync(cache.start(), { message: 'connection refused' });
  t.false(cache.ready);
  await new Promise((r) => setTimeout(r, 50));
  t.is(informer.starts, 2);
  t.true(cache.ready);
  informer.emit('add', pod('u2', { app: 'db' }));
  informer.emit('error', new Error('watch closed'));
  t.deepEqual(cache.labels('u2'), { app: 'db' });
  await new Promise((r) => setTimeout(r, 30));
  t.is(informer.starts, 3, 'restarted after the error');
  await cache.stop();
});

test('one failure reported twice (error event and rejected start) schedules one restart', async (t) => {
  const informer = new FakeInformer();
  informer.failNextStart = true;
  const warnings: unknown[] = [];
  const log = Object.assign(silentLogger(), { warn: (...args: unknown[]) => warnings.push(args) });
  const cache = new PodCache(informer, log, { initialMs: 20, maxMs: 20 });
  const started = cache.start();
  informer.emit('error', new Error('list failed')); // the real ListWatch reports a failed list this way too
  await t.throwsAsync(started);
  await waitFor('the restart', () => cache.ready, 20_000, 10);
  await new Promise((r) => setTimeout(r, 100)); // a second, doubled restart would come 20 ms after the first
  t.is(informer.starts, 2);
  t.is(warnings.length, 1, 'counted and logged once (the backoff does not double for it)');
  t.true(cache.ready);
  await cache.stop();
});
