import test from 'ava';
import { silentLogger } from '../../common/log.js';
import type { RejectedRecord, Sink, SinkRecord } from '../../storage/sink.js';
import { WritePipeline, type OffsetToCommit, type RejectedItem, type Segment } from './write-pipeline.js';

/** A sink whose writes complete only when the test says so, in any order. */
class ManualSink implements Sink {
  readonly name = 'manual';
  calls: { records: SinkRecord[]; done: (rejected?: RejectedRecord[]) => void; fail: (e: Error) => void }[] = [];
  async start(): Promise<void> {}
  write(records: SinkRecord[]): Promise<RejectedRecord[]> {
    return new Promise((resolve, reject) => this.calls.push({ records, done: (r = []) => resolve(r), fail: reject }));
  }
  async close(): Promise<void> {}
}

const rec = (message: string): SinkRecord => ({ kind: 'log', entry: { timestampNs: 1n, labels: {}, message, fields: {} } });
const seg = (partition: number, lastOffset: number): Segment => ({ topic: 't', partition, signal: 'logs', lastOffset: String(lastOffset) });

async function until(cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached within 20 s');
    await new Promise((r) => setTimeout(r, 2));
  }
}

function setup(o: { maxRecords?: number; inFlight?: number; dlqFailures?: number } = {}) {
  const sink = new ManualSink();
  const commits: OffsetToCommit[][] = [];
  const dlq: RejectedItem[] = [];
  const written: number[] = [];
  let dlqFailures = o.dlqFailures ?? 0;
  let failures = 0;
  const pipeline = new WritePipeline({
    sink,
    maxRecords: o.maxRecords ?? 3,
    maxPending: 100,
    inFlight: o.inFlight ?? 2,
    backoffMs: { initial: 1, max: 5 },
    deadLetter: async (items) => {
      if (dlqFailures-- > 0) throw new Error('kafka down');
      dlq.push(...items);
    },
    commit: async (offsets) => void commits.push(offsets),
    onWritten: (_signal, count) => void written.push(count),
    onCommitted: () => undefined,
    onFailure: () => void failures++,
    onSuccess: () => undefined,
    log: silentLogger(),
  });
  return { sink, pipeline, commits, dlq, written, failures: () => failures };
}

test('records of several batches are merged up to maxRecords per write, in queue order', async (t) => {
  const { sink, pipeline } = setup({ maxRecords: 3, inFlight: 1 });
  pipeline.enqueue(seg(0, 10), [rec('a'), rec('b')]);
  pipeline.enqueue(seg(1, 20), [rec('c'), rec('d')]);
  await until(() => sink.calls.length === 1);
  t.deepEqual(
    sink.calls[0]!.records.map((r) => (r.kind === 'log' ? r.entry.message : '')),
    ['a', 'b', 'c'],
  );
  sink.calls[0]!.done();
  await until(() => sink.calls.length === 2);
  t.deepEqual(
    sink.calls[1]!.records.map((r) => (r.kind === 'log' ? r.entry.message : '')),
    ['d'],
  );
});

test('a partition commits only up to its oldest unacknowledged batch, whatever order writes finish in', async (t) => {
  const { sink, pipeline, commits } = setup({ maxRecords: 2, inFlight: 2 });
  pipeline.enqueue(seg(0, 10), [rec('a'), rec('b')]);
  pipeline.enqueue(seg(0, 12), [rec('c'), rec('d')]);
  await until(() => sink.calls.length === 2);
  sink.calls[1]!.done(); // the later batch first
  await new Promise((r) => setTimeout(r, 20));
  t.deepEqual(commits, [], 'offset 12 must wait for offset 10');
  sink.calls[0]!.done();
  await until(() => commits.length > 0);
  t.deepEqual(commits.flat().at(-1), { topic: 't', partition: 0, offset: '13' });
  await until(() => pipeline.idle());
});

test('a batch split over two writes commits after both; an empty batch commits in its turn', async (t) => {
  const { sink, pipeline, commits } = setup({ maxRecords: 2, inFlight: 2 });
  pipeline.enqueue(seg(3, 7), [rec('a'), rec('b'), rec('c')]);
  pipeline.enqueue(seg(3, 9), []); // all dropped by stages: nothing to write, still ordered
  await until(() => sink.calls.length === 2);
  sink.calls[0]!.done();
  await new Promise((r) => setTimeout(r, 20));
  t.deepEqual(commits, []);
  sink.calls[1]!.done();
  await until(() => pipeline.idle());
  t.deepEqual(commits.flat().at(-1), { topic: 't', partition: 3, offset: '10' });
});

test('a failed write is retried with backoff and nothing is committed until it succeeds', async (t) => {
  const { sink, pipeline, commits, written, failures } = setup();
  pipeline.enqueue(seg(0, 1), [rec('a')]);
  await until(() => sink.calls.length === 1);
  sink.calls[0]!.fail(new Error('down'));
  await until(() => sink.calls.length === 2);
  t.deepEqual(commits, []);
  t.is(failures(), 1);
  sink.calls[1]!.done();
  await until(() => commits.length === 1);
  t.deepEqual(written, [1]);
});

test('refused records reach the DLQ (retried) before their offsets are committed; written excludes them', async (t) => {
  const { sink, pipeline, commits, dlq, written } = setup({ dlqFailures: 2 });
  pipeline.enqueue(seg(4, 5), [rec('a'), rec('b')]);
  await until(() => sink.calls.length === 1);
  sink.calls[0]!.done([{ index: 1, reason: '400 mapper_parsing_exception' }]);
  await until(() => commits.length === 1);
  t.is(dlq.length, 1);
  t.like(dlq[0], { reason: '400 mapper_parsing_exception', segment: { partition: 4, lastOffset: '5' } });
  t.deepEqual(written, [1]);
});

test('drain: stops after the timeout with the failing write uncommitted; full() bounds the queue', async (t) => {
  const { sink, pipeline, commits } = setup({ maxRecords: 50 });
  pipeline.enqueue(
    seg(0, 99),
    Array.from({ length: 100 }, (_, i) => rec(String(i))),
  );
  t.true(pipeline.full());
  await until(() => sink.calls.length === 2);
  sink.calls[0]!.fail(new Error('down'));
  t.false(await pipeline.drain(50));
  t.deepEqual(commits, []);
  t.false(
    await pipeline.waitForRoom(
      async () => undefined,
      () => true,
    ),
    'a stopped pipeline takes nothing',
  );
});
