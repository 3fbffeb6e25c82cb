import test from 'ava';
import prom from 'prom-client';
import { silentLogger } from '../../common/log.js';
import { cutAfter } from '../../processor/runner/consumer.js';
import { SinkUnavailableError, type SinkRecord } from '../sink.js';
import { indexKey, parseObjectKey, rangesOverlap } from './layout.js';
import { createS3SinkMetrics } from './metrics.js';
import { parseObjectIndex } from './object-index.js';
import { decodeObject } from './records.js';
import { S3Sink } from './sink.js';
import { S3UnavailableError, type ObjectStore } from './store.js';

const H0 = 1764151200000000000n; // 2025-11-26T10:00:00Z
const HOUR_NS = 3_600_000_000_000n;
const TOPIC = 'sextant.ns.pipe.logs';

class MemoryStore implements ObjectStore {
  readonly bucket = 'mem';
  objects = new Map<string, Buffer>();
  puts: string[] = [];
  /** Fail every request while set; or fail the nth put from now. */
  down = false;
  failPutAt: number | undefined;

  async check(): Promise<void> {
    if (this.down) throw new S3UnavailableError('head_bucket', this.bucket, new Error('connect ECONNREFUSED'));
  }
  async put(key: string, body: Buffer): Promise<{ parts: number }> {
    if (this.down) throw new S3UnavailableError('put_object', key, new Error('connect ECONNREFUSED'));
    if (this.failPutAt !== undefined && this.failPutAt-- === 0) {
      this.failPutAt = undefined;
      throw new S3UnavailableError('put_object', key, new Error('socket hang up'));
    }
    this.puts.push(key);
    this.objects.set(key, body);
    return { parts: 0 };
  }
  async get(key: string): Promise<Buffer | undefined> {
    if (this.down) throw new S3UnavailableError('get_object', key, new Error('connect ECONNREFUSED'));
    return this.objects.get(key);
  }
  async list(prefix: string): Promise<string[]> {
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
  async delete(key: string): Promise<void> {
    this.objects.delete(key);
  }
  dataKeys(): string[] {
    return [...this.objects.keys()].filter((k) => k.endsWith('.ndjson.gz')).sort();
  }
}

function sink(store: MemoryStore, clock = { now: 0 }, flush = { maxBytes: 1_000_000, maxAge: 60_000, maxRecords: 10 }) {
  const registry = new prom.Registry();
  const s = new S3Sink({
    store,
    settings: { prefix: 'archive/', flush },
    pipeline: { namespace: 'ns', name: 'pipe' },
    metrics: createS3SinkMetrics(registry),
    log: silentLogger(),
    now: () => clock.now,
  });
  return { sink: s, registry, clock };
}

const logs = (from: number, to: number, hourOf: (i: number) => bigint = () => 0n): SinkRecord[] =>
  Array.from({ length: to - from + 1 }, (_, k) => {
    const i = from + k;
    return {
      kind: 'log',
      entry: { timestampNs: H0 + hourOf(i) + BigInt(i), labels: { svc: `s${i % 3}` }, message: `m${i}`, fields: { i } },
    };
  });

/** What the runner does for one batch: begin, cut at the pin, append, flush. */
async function batch(s: S3Sink, first: number, last: number, hourOf?: (i: number) => bigint) {
  const pins = await s.begin({ topic: TOPIC, partition: 0, signal: 'logs', firstOffset: BigInt(first) });
  const offsets = Array.from({ length: last - first + 1 }, (_, k) => ({ offset: String(first + k) }));
  for (const slice of cutAfter(
    offsets,
    pins.filter((p) => p >= BigInt(first) && p < BigInt(last)),
  )) {
    const [a, b] = [Number(slice[0]!.offset), Number(slice[slice.length - 1]!.offset)];
    s.append({ topic: TOPIC, partition: 0, signal: 'logs', firstOffset: BigInt(a), lastOffset: BigInt(b) }, logs(a, b, hourOf));
  }
  return { pins, outcome: await s.flush({ shutdown: false }) };
}

async function allRecords(store: MemoryStore) {
  const out = [];
  for (const key of store.dataKeys()) out.push(...(await decodeObject('logs', store.objects.get(key)!)));
  return out;
}

test('a due flush writes one object per hour of the records, each with its index, journal first', async (t) => {
  const store = new MemoryStore();
  const { sink: s, registry } = sink(store);
  await s.start();
  const { outcome } = await batch(s, 0, 9, (i) => (i % 2 === 0 ? 0n : HOUR_NS));
  t.deepEqual(outcome, { durable: [{ topic: TOPIC, partition: 0, offset: '10', signal: 'logs', records: 10 }] });
  const keys = store.dataKeys();
  t.deepEqual(keys, [
    'archive/logs/ns/pipe/dt=2025-11-26/hour=10/p0-00000000000000000000-00000000000000000009.ndjson.gz',
    'archive/logs/ns/pipe/dt=2025-11-26/hour=11/p0-00000000000000000000-00000000000000000009.ndjson.gz',
  ]);
  t.is(store.puts[0], 'archive/logs/ns/pipe/_journal/p0.json', 'the journal is written before any object');
  t.deepEqual(store.puts.slice(1), [keys[0], indexKey(keys[0]!), keys[1], indexKey(keys[1]!)]);
  for (const key of keys) {
    const records = await decodeObject('logs', store.objects.get(key)!);
    const index = parseObjectIndex(store.objects.get(indexKey(key))!.toString(), key);
    t.is(index.records, records.length);
    t.is(index.bytes, store.objects.get(key)!.length);
    t.is(index.minTimeNs, String(records.reduce((m, r) => (r.timestampNs < m ? r.timestampNs : m), records[0]!.timestampNs)));
    t.deepEqual(index.labels.svc, ['s0', 's1', 's2']);
    t.like(index, { signal: 'logs', topic: TOPIC, partition: 0, firstOffset: '0', lastOffset: '9' });
  }
  t.deepEqual(
    (await allRecords(store)).map((r) => r.message).sort(),
    logs(0, 9)
      .map((r) => (r.kind === 'log' ? r.entry.message : ''))
      .sort(),
  );
  const text = await registry.metrics();
  t.regex(text, /sextant_s3_objects_written_total\{signal="logs"\} 2/);
  t.regex(text, /sextant_s3_flushes_total\{signal="logs",reason="records"\} 1/);
  t.regex(text, /sextant_s3_buffered_records\{signal="logs"\} 0/);
});

test('nothing is written before a limit is reached; age flushes what is there', async (t) => {
  const store = new MemoryStore();
  const { sink: s, clock } = sink(store);
  const { outcome } = await batch(s, 0, 3);
  t.deepEqual(outcome, { durable: [] });
  t.is(store.puts.length, 0);
  clock.now = 60_000;
  const aged = await s.flush({ shutdown: false });
  t.is(aged.durable[0]?.offset, '4');
  t.is(store.dataKeys().length, 1);
});

test('a crash after writing, before the commit: the successor rewrites the same range and keys (no duplicates)', async (t) => {
  const store = new MemoryStore();
  // the first process flushes [0,9], then dies before committing offset 10
  const first = sink(store).sink;
  await batch(first, 0, 9);
  const before = new Map(store.objects);
  // the successor starts at the committed offset 0 and sees larger batches
  const { sink: second, registry } = sink(store);
  const { pins, outcome } = await batch(second, 0, 14);
  t.deepEqual(pins, [9n], 'the journal pins the next flush to the predecessor range');
  t.is(outcome.durable[0]?.offset, '10');
  for (const [key, body] of before) if (key.endsWith('.ndjson.gz')) t.deepEqual(store.objects.get(key), body, 'byte-identical rewrite');
  // the rest [10, 14] goes out later as its own range
  const rest = await second.flush({ shutdown: true });
  t.is(rest.durable[0]?.offset, '15');
  const records = await allRecords(store);
  t.is(records.length, 15);
  t.is(new Set(records.map((r) => r.id)).size, 15);
  const locs = store.dataKeys().map((k) => parseObjectKey(k)!);
  t.false(locs.some((a) => locs.some((b) => rangesOverlap(a, b))));
  t.regex(await registry.metrics(), /sextant_s3_flushes_total\{signal="logs",reason="recovery"\} 1/);
});

test('a failed flush keeps its range: more batches arrive, the retry writes exactly the same range', async (t) => {
  const store = new MemoryStore();
  const { sink: s, registry } = sink(store);
  await s.begin({ topic: TOPIC, partition: 0, signal: 'logs', firstOffset: 0n });
  s.append(
    { topic: TOPIC, partition: 0, signal: 'logs', firstOffset: 0n, lastOffset: 9n },
    logs(0, 9, (i) => (i < 5 ? 0n : HOUR_NS)),
  );
  store.failPutAt = 3; // journal, object, index fine; the second hour's object fails
  const failed = await s.flush({ shutdown: false });
  t.true(failed.error instanceof SinkUnavailableError);
  t.deepEqual(failed.durable, []);
  t.is(store.dataKeys().length, 1, 'one object of the range landed');
  // the next batch arrives before the retry
  t.deepEqual(await s.begin({ topic: TOPIC, partition: 0, signal: 'logs', firstOffset: 10n }), [9n]);
  s.append({ topic: TOPIC, partition: 0, signal: 'logs', firstOffset: 10n, lastOffset: 12n }, logs(10, 12));
  const retried = await s.flush({ shutdown: true });
  t.is(retried.error, undefined);
  t.deepEqual(
    retried.durable.map((d) => d.offset),
    ['10', '13'],
  );
  const locs = store.dataKeys().map((k) => parseObjectKey(k)!);
  t.false(locs.some((a) => locs.some((b) => rangesOverlap(a, b))));
  const records = await allRecords(store);
  t.is(records.length, 13);
  t.is(new Set(records.map((r) => r.id)).size, 13);
  const text = await registry.metrics();
  t.regex(text, /sextant_s3_flush_retries_total\{signal="logs"\} 1/);
  t.regex(text, /sextant_s3_request_errors_total\{operation="put_object"\} 1/);
  t.regex(text, /sextant_s3_flushes_total\{signal="logs",reason="retry"\} 1/);
});

test('S3 down: start and begin fail as SinkUnavailableError, flush reports the error and keeps the buffer', async (t) => {
  const store = new MemoryStore();
  const { sink: s } = sink(store);
  store.down = true;
  await t.throwsAsync(s.start(), { instanceOf: SinkUnavailableError, message: /bucket mem not reachable/ });
  await t.throwsAsync(s.begin({ topic: TOPIC, partition: 0, signal: 'logs', firstOffset: 0n }), { instanceOf: SinkUnavailableError });
  store.down = false;
  await s.begin({ topic: TOPIC, partition: 0, signal: 'logs', firstOffset: 0n });
  s.append({ topic: TOPIC, partition: 0, signal: 'logs', firstOffset: 0n, lastOffset: 9n }, logs(0, 9));
  store.down = true;
  const down = await s.flush({ shutdown: false });
  t.truthy(down.error);
  t.deepEqual(down.durable, []);
  store.down = false;
  const up = await s.flush({ shutdown: false });
  t.is(up.durable[0]?.offset, '10');
});

test('a flush of consumed offsets without records commits without writing', async (t) => {
  const store = new MemoryStore();
  const { sink: s } = sink(store);
  await s.begin({ topic: TOPIC, partition: 0, signal: 'logs', firstOffset: 0n });
  s.append({ topic: TOPIC, partition: 0, signal: 'logs', firstOffset: 0n, lastOffset: 4n }, []);
  const outcome = await s.flush({ shutdown: true });
  t.deepEqual(outcome.durable, [{ topic: TOPIC, partition: 0, offset: '5', signal: 'logs', records: 0 }]);
  t.is(store.puts.length, 0);
});

test('reset (rebalance) lets go of the buffers, counted; the next batch starts a new run from the journal', async (t) => {
  const store = new MemoryStore();
  const { sink: s, registry } = sink(store);
  await batch(s, 0, 3);
  s.reset('rebalance');
  t.regex(await registry.metrics(), /sextant_s3_buffer_released_records_total\{reason="rebalance"\} 4/);
  t.deepEqual(await s.flush({ shutdown: true }), { durable: [] });
  // a replay from the committed offset is accepted again
  const { outcome } = await batch(s, 0, 9);
  t.is(outcome.durable[0]?.offset, '10');
});

test('a rewind without a reset releases the buffer and starts over', async (t) => {
  const store = new MemoryStore();
  const { sink: s, registry } = sink(store);
  await batch(s, 0, 3);
  await batch(s, 0, 5);
  t.regex(await registry.metrics(), /sextant_s3_buffer_released_records_total\{reason="rewind"\} 4/);
  const out = await s.flush({ shutdown: true });
  t.is(out.durable[0]?.offset, '6');
  t.is((await allRecords(store)).length, 6);
});

test('several uncommitted flushes of a partition: the successor follows the journal chain range by range', async (t) => {
  const store = new MemoryStore();
  // the predecessor wrote [0,9] and [10,19] in one flush() (e.g. a recovery flush and the rest), then died
  const first = sink(store, { now: 0 }, { maxBytes: 1_000_000, maxAge: 60_000, maxRecords: 10 }).sink;
  await batch(first, 0, 9);
  await batch(first, 10, 19);
  const before = store.dataKeys();
  // the successor cuts bigger batches and has bigger limits
  const { sink: second } = sink(store, { now: 0 }, { maxBytes: 1_000_000, maxAge: 60_000, maxRecords: 1_000 });
  const { pins, outcome } = await batch(second, 0, 24);
  t.deepEqual(pins, [9n, 19n]);
  t.deepEqual(
    outcome.durable.map((d) => d.offset),
    ['10', '20'],
  );
  await second.flush({ shutdown: true });
  t.deepEqual(store.dataKeys().slice(0, before.length), before, 'the same keys, rewritten');
  const locs = store.dataKeys().map((k) => parseObjectKey(k)!);
  t.false(locs.some((a) => locs.some((b) => rangesOverlap(a, b))));
  const records = await allRecords(store);
  t.is(records.length, 25);
  t.is(new Set(records.map((r) => r.id)).size, 25);
});

test('cutAfter splits a batch after each pinned offset', (t) => {
  const m = (o: number) => ({ offset: String(o) });
  const batch = [m(5), m(6), m(7), m(8), m(9)];
  const cut = (pins: bigint[]) => cutAfter(batch, pins).map((s) => s.map((x) => Number(x.offset)));
  t.deepEqual(cut([]), [[5, 6, 7, 8, 9]]);
  t.deepEqual(cut([6n]), [
    [5, 6],
    [7, 8, 9],
  ]);
  t.deepEqual(cut([5n, 7n]), [[5], [6, 7], [8, 9]]);
  t.deepEqual(cut([9n]), [[5, 6, 7, 8, 9]]);
  // an offset missing from the batch (a gap) cuts nothing
  t.deepEqual(
    cutAfter([m(1), m(4)], [2n]).map((s) => s.map((x) => Number(x.offset))),
    [[1, 4]],
  );
});
