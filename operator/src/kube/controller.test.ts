import test from 'ava';
import { silentLogger } from '../../../runtime/src/common/index.js';
import { OperatorMetrics } from '../metrics.js';
import { FakeClock } from './clock.js';
import { Controller, ReconcileError, type ReconcileResult } from './controller.js';
import { WorkQueue } from './queue.js';

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

async function counter(metrics: OperatorMetrics, name: string, labels: Record<string, string>): Promise<number> {
  const m = (await metrics.registry.getSingleMetric(name)!.get()).values.find((v) =>
    Object.entries(labels).every(([k, x]) => v.labels[k] === x),
  );
  return m?.value ?? 0;
}

function setup(reconcile: (key: string) => Promise<ReconcileResult | void>) {
  const clock = new FakeClock();
  const queue = new WorkQueue('Pipeline', clock, { baseMs: 1_000, maxMs: 60_000 });
  const metrics = new OperatorMetrics();
  const controller = new Controller('Pipeline', queue, reconcile, metrics, silentLogger());
  return { clock, queue, metrics, controller };
}

test('a failing key is retried with growing backoff while other keys go on; success forgets the backoff', async (t) => {
  const calls: string[] = [];
  let badFails = 3;
  const { clock, queue, metrics, controller } = setup(async (key) => {
    calls.push(key);
    if (key === 'ns/bad' && badFails-- > 0) throw new ReconcileError('Conflict', 'boom');
  });
  controller.start(1);
  queue.add('ns/bad');
  queue.add('ns/good');
  await settle();
  t.deepEqual(calls, ['ns/bad', 'ns/good'], 'the failure did not block the other key');
  t.is(queue.failures('ns/bad'), 1);
  clock.advance(999);
  await settle();
  t.is(calls.length, 2);
  clock.advance(1);
  await settle();
  t.is(calls.length, 3);
  clock.advance(2_000);
  await settle();
  t.is(calls.length, 4);
  clock.advance(4_000);
  await settle();
  t.is(calls.length, 5, 'third retry after 4 s');
  t.is(queue.failures('ns/bad'), 0, 'forgotten after the success');
  t.is(await counter(metrics, 'sextant_operator_reconcile_errors_total', { reason: 'Conflict' }), 3);
  t.is(await counter(metrics, 'sextant_operator_reconciles_total', { result: 'success' }), 2);
  await controller.stop();
});

test('retry results back off and count their reason; requeueAfter schedules the key again', async (t) => {
  let n = 0;
  const { clock, queue, metrics, controller } = setup(async () => {
    n++;
    return n === 1 ? { retry: { reason: 'KafkaUnavailable', message: 'down' } } : n === 2 ? { requeueAfterMs: 30_000 } : undefined;
  });
  controller.start(2);
  queue.add('ns/p');
  await settle();
  t.is(n, 1);
  t.is(await counter(metrics, 'sextant_operator_reconcile_errors_total', { reason: 'KafkaUnavailable' }), 1);
  clock.advance(1_000);
  await settle();
  t.is(n, 2);
  t.is(queue.failures('ns/p'), 0);
  clock.advance(29_999);
  await settle();
  t.is(n, 2);
  clock.advance(1);
  await settle();
  t.is(n, 3);
  await controller.stop();
});

test('stop waits for the reconcile in flight and takes no new key', async (t) => {
  let release!: () => void;
  const started: string[] = [];
  const { queue, controller } = setup(
    (key) =>
      new Promise<void>((resolve) => {
        started.push(key);
        release = resolve;
      }),
  );
  controller.start(1);
  queue.add('ns/a');
  await settle();
  queue.add('ns/b');
  let stopped = false;
  const stopping = controller.stop().then(() => (stopped = true));
  await settle();
  t.false(stopped);
  release();
  await stopping;
  t.deepEqual(started, ['ns/a']);
});
