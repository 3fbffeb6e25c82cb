import test from 'ava';
import { ItemBackoff } from './backoff.js';
import { FakeClock } from './clock.js';
import { WorkQueue } from './queue.js';

test('duplicates merge while a key waits', async (t) => {
  const q = new WorkQueue('t', new FakeClock());
  q.add('ns/a');
  q.add('ns/b');
  q.add('ns/a');
  t.is(q.len(), 2);
  t.is(await q.get(), 'ns/a');
  t.is(await q.get(), 'ns/b');
  t.is(q.len(), 0);
});

test('a key being processed is not handed out again until done, then comes back once', async (t) => {
  const q = new WorkQueue('t', new FakeClock());
  q.add('ns/a');
  const first = await q.get();
  t.is(first, 'ns/a');
  q.add('ns/a');
  q.add('ns/a');
  t.is(q.len(), 0, 'not queued while in flight');
  let second: string | undefined;
  void q.get().then((k) => (second = k));
  await Promise.resolve();
  t.is(second, undefined, 'a second worker does not get the key in flight');
  q.done('ns/a');
  await Promise.resolve();
  t.is(second, 'ns/a');
  q.done('ns/a');
  t.is(q.len(), 0);
  t.is(q.inFlight(), 0);
});

test('a waiting worker is woken by add', async (t) => {
  const q = new WorkQueue('t', new FakeClock());
  const got = q.get();
  q.add('x/y');
  t.is(await got, 'x/y');
  t.is(q.inFlight(), 1);
});

test('addAfter fires on time and the earliest schedule wins', async (t) => {
  const clock = new FakeClock();
  const q = new WorkQueue('t', clock);
  q.addAfter('ns/a', 10_000);
  q.addAfter('ns/a', 3_000);
  q.addAfter('ns/a', 20_000);
  t.is(q.scheduled(), 1);
  clock.advance(2_999);
  t.is(q.len(), 0);
  clock.advance(1);
  t.is(q.len(), 1);
  t.is(q.scheduled(), 0);
  clock.advance(60_000);
  t.is(q.len(), 1, 'the later schedules were dropped');
  t.is(clock.pendingTimers(), 0);
});

test('per-key exponential backoff doubles up to the cap and forget resets it', (t) => {
  const b = new ItemBackoff({ baseMs: 100, maxMs: 1_000 });
  t.deepEqual(
    [1, 2, 3, 4, 5, 6].map(() => b.next('a')),
    [100, 200, 400, 800, 1_000, 1_000],
  );
  t.is(b.next('b'), 100, 'keys are independent');
  b.forget('a');
  t.is(b.next('a'), 100);
  for (let i = 0; i < 2_000; i++) b.next('c');
  t.is(b.next('c'), 1_000, 'no overflow after many failures');
});

test('addRateLimited schedules after the backoff of that key', async (t) => {
  const clock = new FakeClock();
  const q = new WorkQueue('t', clock, { baseMs: 1_000, maxMs: 8_000 });
  t.is(q.addRateLimited('ns/bad'), 1_000);
  clock.advance(1_000);
  t.is(await q.get(), 'ns/bad');
  q.done('ns/bad');
  t.is(q.addRateLimited('ns/bad'), 2_000);
  clock.advance(1_999);
  t.is(q.len(), 0);
  clock.advance(1);
  t.is(q.len(), 1);
  t.is(q.failures('ns/bad'), 2);
  q.forget('ns/bad');
  t.is(q.failures('ns/bad'), 0);
  t.is(q.addRateLimited('ns/good'), 1_000, 'another key starts at the base');
});

test('shutDown releases waiting workers, drops schedules, and drain waits for work in flight', async (t) => {
  const clock = new FakeClock();
  const q = new WorkQueue('t', clock);
  q.add('ns/a');
  const key = await q.get();
  const waiting = q.get();
  q.addAfter('ns/b', 5_000);
  q.shutDown();
  t.is(await waiting, undefined);
  t.is(clock.pendingTimers(), 0);
  q.add('ns/c');
  t.is(q.len(), 0, 'no adds after shutdown');
  let drained = false;
  const d = q.drain().then(() => (drained = true));
  await Promise.resolve();
  t.false(drained);
  q.done(key!);
  await d;
  t.true(drained);
});
