import test from 'ava';
import { RequestQueue } from './request-queue-fix.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

interface Queue {
  throttledUntil: number;
  pending: unknown[];
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}
const RequestQueueCtor = RequestQueue as unknown as new (options: object) => Queue;

function newQueue(): Queue {
  return new RequestQueueCtor({
    maxInFlightRequests: 1,
    requestTimeout: 1_000,
    enforceRequestTimeout: true,
    clientId: 'test',
    broker: 'b:9092',
    logger: quiet,
  });
}
test('an unthrottled queue schedules its check without a negative timeout (no TimeoutNegativeWarning)', async (t) => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.name);
  process.on('warning', onWarning);
  try {
    const queue = newQueue();
    let checks = 0;
    queue.checkPendingRequests = () => void checks++;
    queue.scheduleCheckPendingRequests();
    queue.scheduleCheckPendingRequests(); // one check is scheduled at a time
    const deadline = Date.now() + 5_000;
    while (checks === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
    t.is(checks, 1);
    t.is(queue.throttleCheckTimeoutId, null);
    t.deepEqual(warnings, []);
  } finally {
    process.off('warning', onWarning);
  }
});

test('a throttled queue with pending requests is checked when the throttle ends; unthrottled, after 10 ms', (t) => {
  const delays: number[] = [];
  const realSetTimeout = globalThis.setTimeout;
  globalThis.setTimeout = ((fn: () => void, ms: number) => {
    delays.push(ms);
    return realSetTimeout(() => {}, 0);
  }) as typeof setTimeout;
  try {
    const throttled = newQueue();
    throttled.pending.push({});
    throttled.throttledUntil = Date.now() + 60_000;
    throttled.scheduleCheckPendingRequests();
    const waiting = newQueue();
    waiting.pending.push({});
    waiting.scheduleCheckPendingRequests();
  } finally {
    globalThis.setTimeout = realSetTimeout;
  }
  t.is(delays.length, 2);
  t.true(delays[0]! > 59_000 && delays[0]! <= 60_000, `throttled delay ${delays[0]}`);
  t.is(delays[1], 10);
});
