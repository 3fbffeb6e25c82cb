import test from 'ava';
import { STALE_NAN, isStaleNaN } from '../../model/stale.js';
import type { LogEntry, Sample } from '../../model/types.js';
import { evaluateInstant } from '../../query/promql/evaluate.js';
import { parsePromQL } from '../../query/promql/parse.js';
import { S3ColdReader } from './reader.js';
import { indexKey, objectKey, type ObjectLocation } from './layout.js';
import { IndexBuilder } from './object-index.js';
import { encodeLogRecord, encodeObjectBody, encodeSampleRecord, type EncodedRecord } from './records.js';
import type { ObjectStore, PutResult } from './store.js';

/** An in-memory ObjectStore that records which keys were read and listed. */
class MemoryStore implements ObjectStore {
  readonly bucket = 'test';
  readonly objects = new Map<string, Buffer>();
  readonly gets: string[] = [];
  readonly lists: string[] = [];
  down = false;
  async check(): Promise<void> {
    if (this.down) throw new Error('connection refused');
  }
  async put(key: string, body: Buffer): Promise<PutResult> {
    this.objects.set(key, body);
    return { parts: 0 };
  }
  async get(key: string): Promise<Buffer | undefined> {
    if (this.down) throw new Error('connection refused');
    this.gets.push(key);
    return this.objects.get(key);
  }
  async list(prefix: string): Promise<string[]> {
    if (this.down) throw new Error('connection refused');
    this.lists.push(prefix);
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
  async delete(key: string): Promise<void> {
    this.objects.delete(key);
  }
}

const H = 3_600_000;
const T0 = Date.parse('2026-11-26T10:00:00Z');
const where = { prefix: 'cold', namespace: 'ns', pipeline: 'p' };

async function put(store: MemoryStore, records: EncodedRecord[], loc: ObjectLocation, sidecar = true): Promise<string> {
  const key = objectKey(loc);
  const body = await encodeObjectBody(records.map((r) => r.line));
  await store.put(key, body);
  if (sidecar) {
    const b = new IndexBuilder();
    for (const r of records) b.add(r);
    const index = b.build({
      signal: loc.signal,
      key,
      topic: 't',
      partition: loc.partition,
      firstOffset: loc.firstOffset,
      lastOffset: loc.lastOffset,
      bytes: body.length,
    });
    await store.put(indexKey(key), Buffer.from(JSON.stringify(index)));
  }
  return key;
}

function entry(service: string, ms: number, message: string): LogEntry {
  return { labels: { service }, timestampNs: BigInt(ms) * 1_000_000n, message, fields: { ms } };
}

/** Hour 10: api and web; hour 11: web only; hour 12: api, plus a sidecar-less copy of hour 12 (a crashed flush). */
async function fixture() {
  const store = new MemoryStore();
  const loc = (hour: number, first: bigint, last: bigint): ObjectLocation => ({
    ...where,
    signal: 'logs',
    hourStartMs: T0 + hour * H,
    partition: 0,
    firstOffset: first,
    lastOffset: last,
  });
  const h10 = await put(store, [entry('api', T0 + 1000, 'a1'), entry('web', T0 + 2000, 'w1')].map(encodeLogRecord), loc(0, 0n, 1n));
  const h11 = await put(store, [entry('web', T0 + H + 1000, 'w2')].map(encodeLogRecord), loc(1, 2n, 2n));
  const h12records = [entry('api', T0 + 2 * H + 1000, 'a2'), entry('api', T0 + 2 * H + 2000, 'a3 ✓')].map(encodeLogRecord);
  const h12 = await put(store, h12records, loc(2, 3n, 4n));
  const copy = await put(store, h12records, loc(2, 3n, 5n), false);
  await put(store, [{ name: 'm', labels: { job: 'x' }, timestampMs: T0 + 5000, value: 1 }].map(encodeSampleRecord), {
    ...loc(0, 0n, 0n),
    signal: 'metrics',
  });
  return { store, reader: new S3ColdReader({ store, ...where }), keys: { h10, h11, h12, copy } };
}

const range = { startNs: BigInt(T0) * 1_000_000n, endNs: BigInt(T0 + 3 * H) * 1_000_000n };

test('objects whose index rules out the matchers are not read; duplicates from a rewritten flush count once', async (t) => {
  const { store, reader, keys } = await fixture();
  const page = await reader.selectLogs({
    matchers: [{ name: 'service', op: '=', value: 'api' }],
    ...range,
    direction: 'forward',
    limit: 100,
  });
  t.deepEqual(
    page.entries.map((e) => e.message),
    ['a1', 'a2', 'a3 ✓'],
  );
  const read = store.gets.filter((k) => !k.endsWith('.index.json'));
  t.false(read.includes(keys.h11), 'hour 11 holds only web: pruned by its index');
  t.true(read.includes(keys.copy), 'an object without a sidecar cannot be pruned');
  t.deepEqual(store.lists, [
    'cold/logs/ns/p/dt=2026-11-26/hour=10/',
    'cold/logs/ns/p/dt=2026-11-26/hour=11/',
    'cold/logs/ns/p/dt=2026-11-26/hour=12/',
  ]);
});

test('only the hour partitions of the range are listed; the end bound is exclusive', async (t) => {
  const { store, reader } = await fixture();
  const page = await reader.selectLogs({
    matchers: [],
    startNs: BigInt(T0 + H) * 1_000_000n,
    endNs: BigInt(T0 + 2 * H + 2000) * 1_000_000n,
    direction: 'backward',
    limit: 100,
  });
  t.deepEqual(
    page.entries.map((e) => e.message),
    ['a2', 'w2'],
  );
  t.deepEqual(store.lists, ['cold/logs/ns/p/dt=2026-11-26/hour=11/', 'cold/logs/ns/p/dt=2026-11-26/hour=12/']);
});

test('cursor paging, line filters and full-text terms', async (t) => {
  const { reader } = await fixture();
  const first = await reader.selectLogs({ matchers: [], ...range, direction: 'forward', limit: 2 });
  t.deepEqual(
    first.entries.map((e) => e.message),
    ['a1', 'w1'],
  );
  const second = await reader.selectLogs({ matchers: [], ...range, direction: 'forward', limit: 2, cursor: first.nextCursor! });
  t.deepEqual(
    second.entries.map((e) => e.message),
    ['w2', 'a2'],
  );
  const filtered = await reader.selectLogs({
    matchers: [],
    ...range,
    direction: 'forward',
    limit: 9,
    lineFilters: [{ op: '!=', value: '1' }],
  });
  t.deepEqual(
    filtered.entries.map((e) => e.message),
    ['w2', 'a2', 'a3 ✓'],
  );
  const text = await reader.selectLogs({ matchers: [], ...range, direction: 'forward', limit: 9, text: 'A3' });
  t.deepEqual(
    text.entries.map((e) => e.message),
    ['a3 ✓'],
  );
});

test('metadata from the sidecars; stats read the objects', async (t) => {
  const { store, reader } = await fixture();
  t.deepEqual(await reader.logLabelValues('service', {}), ['api', 'web']);
  t.deepEqual(await reader.logLabelValues('service', { startMs: T0 + H, endMs: T0 + H + 5000 }), ['web']);
  t.deepEqual(await reader.series({}), [{ __name__: 'm', job: 'x' }]);
  t.deepEqual(await reader.logStats({ matchers: [{ name: 'service', op: '=', value: 'api' }] }), {
    streams: 1,
    entries: 3,
    bytes: 2 + 2 + Buffer.byteLength('a3 ✓'),
  });
  t.true(store.lists.includes('cold/logs/ns/p/'), 'an unbounded query lists the pipeline prefix once');
});

test('samples: per series, ascending, inclusive bounds', async (t) => {
  const { reader } = await fixture();
  t.deepEqual(await reader.selectSamples({ matchers: [{ name: '__name__', op: '=', value: 'm' }], startMs: T0, endMs: T0 + 5000 }), [
    { labels: { __name__: 'm', job: 'x' }, timestampsMs: [T0 + 5000], values: [1] },
  ]);
  t.deepEqual(await reader.selectSamples({ matchers: [{ name: '__name__', op: '=', value: 'm' }], startMs: T0, endMs: T0 + 4999 }), []);
});

test('samples: staleness markers are named in staleTimestampsMs, once per timestamp, and end the series in PromQL', async (t) => {
  const store = new MemoryStore();
  const loc = (first: bigint, last: bigint): ObjectLocation => ({
    ...where,
    signal: 'metrics',
    hourStartMs: T0,
    partition: 0,
    firstOffset: first,
    lastOffset: last,
  });
  const g = (s: number, value: number): Sample => ({ name: 'g', labels: {}, timestampMs: T0 + s * 1000, value });
  const records = [g(1, 1), g(2, NaN), g(3, STALE_NAN), g(4, 4), g(5, STALE_NAN)].map(encodeSampleRecord);
  await put(store, records, loc(0n, 4n));
  // A crashed flush's sidecar-less copy repeats every record; another object holds 7 for 5 s.
  await put(store, records, loc(0n, 5n), false);
  await put(store, [g(5, 7)].map(encodeSampleRecord), loc(6n, 6n));
  const reader = new S3ColdReader({ store, ...where });
  const [series] = await reader.selectSamples({ matchers: [{ name: '__name__', op: '=', value: 'g' }], startMs: T0, endMs: T0 + 10_000 });
  t.deepEqual(
    series!.timestampsMs.map((ms) => (ms - T0) / 1000),
    [1, 2, 3, 4, 5],
  );
  t.true(isStaleNaN(series!.values[2]!));
  t.false(isStaleNaN(series!.values[1]!), 'an ordinary NaN is not a marker');
  // Whichever record of 5 s is kept, its flag goes with its value.
  const kept5 = series!.values[4]!;
  t.deepEqual(series!.staleTimestampsMs, isStaleNaN(kept5) ? [T0 + 3000, T0 + 5000] : [T0 + 3000]);
  const at = async (s: number) => {
    const r = await evaluateInstant(parsePromQL('g'), reader, T0 + s * 1000);
    return r.resultType === 'vector' ? r.samples.map((x) => x.value) : r;
  };
  t.deepEqual(await at(3.5), [], 'ended by the marker at 3 s, well within the lookback');
  t.deepEqual(await at(4.5), [4]);
});

test('an unreachable store is a 503-style StorageUnavailableError; ping says false', async (t) => {
  const { store, reader } = await fixture();
  store.down = true;
  const error = await t.throwsAsync(() => reader.selectLogs({ matchers: [], ...range, direction: 'forward', limit: 1 }));
  t.is((error as unknown as { status: number }).status, 503);
  t.false(await reader.ping());
});

test('a full page stops the read: later hours are not fetched; hours before the cursor are skipped', async (t) => {
  const { store, reader, keys } = await fixture();
  const newest = await reader.selectLogs({ matchers: [], ...range, direction: 'backward', limit: 1 });
  t.deepEqual(
    newest.entries.map((e) => e.message),
    ['a3 ✓'],
  );
  const read = () => store.gets.filter((k) => !k.endsWith('.index.json'));
  t.deepEqual(read().sort(), [keys.h12, keys.copy].sort(), 'only hour 12 was read');
  store.gets.length = 0;
  const next = await reader.selectLogs({ matchers: [], ...range, direction: 'backward', limit: 2, cursor: newest.nextCursor! });
  t.deepEqual(
    next.entries.map((e) => e.message),
    ['a2', 'w2'],
  );
  t.false(read().includes(keys.h10), 'hour 10 is past the full page');
});

test('ranges longer than two days are listed per day', async (t) => {
  const { store, reader } = await fixture();
  await reader.selectLogs({
    matchers: [],
    startNs: BigInt(T0 - 3 * 24 * H) * 1_000_000n,
    endNs: range.endNs,
    direction: 'forward',
    limit: 10,
  });
  t.deepEqual(store.lists, [
    'cold/logs/ns/p/dt=2026-11-23/',
    'cold/logs/ns/p/dt=2026-11-24/',
    'cold/logs/ns/p/dt=2026-11-25/',
    'cold/logs/ns/p/dt=2026-11-26/',
  ]);
});
