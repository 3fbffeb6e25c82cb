import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { STALE_NAN, isStaleNaN } from '../../model/stale.js';
import type { LogEntry } from '../../model/types.js';
import { evaluateInstant, evaluateRange } from '../../query/promql/evaluate.js';
import { parsePromQL } from '../../query/promql/parse.js';
import { SampleLimitError } from '../reader.js';
import { SqliteStore } from './store.js';

const T0 = 1795687200000000000n; // 2026-11-26T10:00:00Z
const S = 1_000_000_000n;

function entry(i: number, labels: Record<string, string>, message = `line ${i}`): LogEntry {
  return { timestampNs: T0 + BigInt(i) * S, labels, message, fields: i % 2 ? { i } : {} };
}

function tempStore() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sextant-store-'));
  return { dir, store: new SqliteStore({ dataDir: dir, sync: 'normal' }) };
}

const all = { startNs: 0n, endNs: 2n ** 62n };

test('writes are idempotent: a replayed batch is ignored as duplicates', (t) => {
  const { store } = tempStore();
  const batch = [entry(1, { app: 'a' }), entry(2, { app: 'a' }), entry(2, { app: 'b' })];
  t.deepEqual(store.writeLogs(batch), { written: 3, duplicates: 0 });
  t.deepEqual(store.writeLogs(batch), { written: 0, duplicates: 3 });
  t.is(store.counts().entries, 3);
  t.is(store.counts().streams, 2);
});

test('selectLogs merges streams in time order, both directions, with cursors', (t) => {
  const { store } = tempStore();
  const batch: LogEntry[] = [];
  for (let i = 0; i < 1000; i++) batch.push(entry(i, { app: i % 3 === 0 ? 'a' : i % 3 === 1 ? 'b' : 'c' }));
  store.writeLogs(batch);
  const forward = store.selectLogs({ matchers: [{ name: 'app', op: '=~', value: 'a|b' }], ...all, direction: 'forward', limit: 1000 });
  const expected = batch.filter((e) => e.labels.app !== 'c').map((e) => e.message);
  t.deepEqual(
    forward.entries.map((e) => e.message),
    expected,
  );
  // Pages of 100 backward, following the cursor, give exactly the reverse order, no gaps.
  const seen: string[] = [];
  let cursor: string | undefined;
  do {
    const page = store.selectLogs({
      matchers: [{ name: 'app', op: '!=', value: 'c' }],
      ...all,
      direction: 'backward',
      limit: 100,
      ...(cursor ? { cursor } : {}),
    });
    seen.push(...page.entries.map((e) => e.message));
    cursor = page.nextCursor;
  } while (cursor);
  t.deepEqual(seen, [...expected].reverse());
});

test('entries sharing a timestamp across pages and internal chunks: each read once, in write order, both directions, full-text too', (t) => {
  const { store } = tempStore();
  // 300 entries at each of two timestamps: ties longer than a chunk (256) and than a page.
  const batch: LogEntry[] = [];
  for (let i = 0; i < 600; i++)
    batch.push({ timestampNs: T0 + BigInt(i < 300 ? 1 : 2) * S, labels: { app: 'a' }, message: `tie word ${i}`, fields: {} });
  store.writeLogs(batch);
  const written = batch.map((e) => e.message);
  for (const [direction, want] of [
    ['forward', written],
    ['backward', [...written.slice(300).reverse(), ...written.slice(0, 300).reverse()]],
  ] as const) {
    for (const text of [undefined, 'word']) {
      const selection = (limit: number, cursor?: string) => ({
        matchers: [{ name: 'app', op: '=' as const, value: 'a' }],
        ...all,
        direction,
        limit,
        ...(text ? { text } : {}),
        ...(cursor ? { cursor } : {}),
      });
      const one = store.selectLogs(selection(1000));
      t.deepEqual(
        one.entries.map((e) => e.message),
        want,
        `${direction}${text ? ', full-text' : ''}: one page`,
      );
      const paged: string[] = [];
      let cursor: string | undefined;
      do {
        const page = store.selectLogs(selection(37, cursor));
        paged.push(...page.entries.map((e) => e.message));
        cursor = page.nextCursor;
      } while (cursor);
      t.deepEqual(paged, want, `${direction}${text ? ', full-text' : ''}: pages of 37`);
    }
  }
  // The range narrows to one of the two timestamps: end is exclusive, start inclusive.
  const first = store.selectLogs({
    matchers: [{ name: 'app', op: '=', value: 'a' }],
    startNs: T0,
    endNs: T0 + 2n * S,
    direction: 'backward',
    limit: 1000,
  });
  t.is(first.entries.length, 300);
});

test('time range is [start, end) and line filters apply', (t) => {
  const { store } = tempStore();
  store.writeLogs(Array.from({ length: 10 }, (_, i) => entry(i, { app: 'a' }, i % 2 ? `error ${i}` : `ok ${i}`)));
  const page = store.selectLogs({
    matchers: [{ name: 'app', op: '=', value: 'a' }],
    startNs: T0 + 2n * S,
    endNs: T0 + 8n * S,
    lineFilters: [
      { op: '|=', value: 'error' },
      { op: '!~', value: '5$' },
    ],
    direction: 'forward',
    limit: 100,
  });
  t.deepEqual(
    page.entries.map((e) => e.message),
    ['error 3', 'error 7'],
  );
  t.deepEqual(page.entries[0]!.fields, { i: 3 });
  t.deepEqual(page.entries[0]!.labels, { app: 'a' });
  t.regex(page.entries[0]!.id, /^[0-9a-f]{16}-1795687203000000000-[0-9a-f]{16}$/);
});

test('full-text search finds words across streams', (t) => {
  const { store } = tempStore();
  store.writeLogs([
    entry(1, { app: 'a' }, 'user alice logged in'),
    entry(2, { app: 'b' }, 'user bob logged out'),
    entry(3, { app: 'a' }, 'payment failed for alice'),
  ]);
  const page = store.selectLogs({
    matchers: [{ name: 'app', op: '=~', value: '.+' }],
    ...all,
    text: 'alice',
    direction: 'forward',
    limit: 10,
  });
  t.deepEqual(
    page.entries.map((e) => e.message),
    ['user alice logged in', 'payment failed for alice'],
  );
  const both = store.selectLogs({
    matchers: [{ name: 'app', op: '=~', value: '.+' }],
    ...all,
    text: 'user "logged',
    direction: 'backward',
    limit: 10,
  });
  t.deepEqual(
    both.entries.map((e) => e.message),
    ['user bob logged out', 'user alice logged in'],
    'a quote inside a term is quoted away, not FTS syntax (and punctuation is not indexed)',
  );
});

test('samples are keyed by (series, timestamp): a replay overwrites', (t) => {
  const { store } = tempStore();
  store.writeSamples([
    { name: 'up', labels: { job: 'a' }, timestampMs: 1000, value: 1 },
    { name: 'up', labels: { job: 'a' }, timestampMs: 2000, value: NaN },
    { name: 'up', labels: { job: 'b' }, timestampMs: 1000, value: 0 },
  ]);
  store.writeSamples([{ name: 'up', labels: { job: 'a' }, timestampMs: 1000, value: 5 }]);
  const series = store.selectSamples({
    matchers: [
      { name: '__name__', op: '=', value: 'up' },
      { name: 'job', op: '=', value: 'a' },
    ],
    startMs: 0,
    endMs: 5000,
  });
  t.is(series.length, 1);
  t.deepEqual(series[0]!.labels, { __name__: 'up', job: 'a' });
  t.deepEqual(series[0]!.timestampsMs, [1000, 2000]);
  t.is(series[0]!.values[0], 5);
  t.true(Number.isNaN(series[0]!.values[1]));
  t.is(store.counts().samples, 3);
});

test('a staleness marker is read back in its slot and named in staleTimestampsMs; an ordinary NaN is not', (t) => {
  const { store } = tempStore();
  store.writeSamples([
    { name: 'g', labels: {}, timestampMs: 1000, value: 1 },
    { name: 'g', labels: {}, timestampMs: 2000, value: NaN },
    { name: 'g', labels: {}, timestampMs: 3000, value: STALE_NAN },
    { name: 'g', labels: {}, timestampMs: 4000, value: 4 },
    { name: 'h', labels: {}, timestampMs: 1000, value: NaN },
  ]);
  const [g, h] = store.selectSamples({ matchers: [{ name: '__name__', op: '=~', value: 'g|h' }], startMs: 0, endMs: 5000 });
  t.deepEqual(g!.timestampsMs, [1000, 2000, 3000, 4000]);
  t.deepEqual(g!.staleTimestampsMs, [3000]);
  t.true(isStaleNaN(g!.values[2]!));
  t.false(isStaleNaN(g!.values[1]!));
  t.is(h!.staleTimestampsMs, undefined, 'no markers, no list');
});

test('PromQL over the store: a staleness marker ends the series at once, not after the lookback', async (t) => {
  const { store } = tempStore();
  const M = 60_000;
  store.writeSamples([
    { name: 'g', labels: { job: 'a' }, timestampMs: 1 * M, value: 1 },
    { name: 'g', labels: { job: 'a' }, timestampMs: 2 * M, value: 2 },
    { name: 'g', labels: { job: 'a' }, timestampMs: 3 * M, value: STALE_NAN },
  ]);
  const at = async (ms: number) => {
    const r = await evaluateInstant(parsePromQL('g'), store, ms);
    return r.resultType === 'vector' ? r.samples.map((s) => s.value) : r;
  };
  t.deepEqual(await at(2.5 * M), [2]);
  t.deepEqual(await at(4 * M), [], 'within the 5 m lookback of the last sample, but after the marker');
  const range = await evaluateRange(parsePromQL('g'), store, 1 * M, 5 * M, M);
  t.is(range.resultType, 'matrix');
  if (range.resultType === 'matrix')
    t.deepEqual(
      range.series[0]!.points.map((p) => p.t),
      [1 * M, 2 * M],
    );
});

test('metadata: label names, values, series and time pruning', (t) => {
  const { store } = tempStore();
  store.writeLogs([entry(0, { app: 'a', env: 'prod' }), entry(100, { app: 'b' })]);
  store.writeSamples([{ name: 'up', labels: { job: 'x' }, timestampMs: 1000, value: 1 }]);
  t.deepEqual(store.logLabelNames({}), ['app', 'env']);
  t.deepEqual(store.logLabelValues('app', {}), ['a', 'b']);
  t.deepEqual(store.logLabelValues('app', { matchers: [{ name: 'env', op: '=', value: 'prod' }] }), ['a']);
  const t50 = Number(T0 / 1_000_000n) + 50_000;
  t.deepEqual(store.logLabelValues('app', { startMs: t50, endMs: t50 + 100_000 }), ['b']);
  t.deepEqual(store.metricLabelNames({}), ['__name__', 'job']);
  t.deepEqual(store.series({ matchers: [{ name: '__name__', op: '=', value: 'up' }] }), [{ __name__: 'up', job: 'x' }]);
  t.deepEqual(store.logStats({ matchers: [{ name: 'app', op: '=', value: 'a' }] }), { streams: 1, entries: 1, bytes: 6 });
});

test('the index survives a reopen', (t) => {
  const { dir, store } = tempStore();
  store.writeLogs([entry(1, { app: 'a' })]);
  store.writeSamples([{ name: 'up', labels: {}, timestampMs: 1, value: 1 }]);
  store.close();
  const again = new SqliteStore({ dataDir: dir });
  t.deepEqual(again.logLabelValues('app', {}), ['a']);
  t.deepEqual(again.writeLogs([entry(1, { app: 'a' })]), { written: 0, duplicates: 1 });
  t.deepEqual(again.counts(), { streams: 1, entries: 1, series: 1, samples: 1 });
  again.close();
});

test('a failed transaction leaves neither rows nor index entries', (t) => {
  const { store } = tempStore();
  const bad = { timestampNs: T0, labels: { app: 'new' }, message: 'x', fields: {} } as LogEntry;
  // A sample whose value cannot be bound makes the shared transaction fail after the log insert.
  t.throws(() => store.write([bad], [{ name: 'up', labels: {}, timestampMs: 1, value: {} as unknown as number }]));
  t.deepEqual(store.logLabelValues('app', {}), []);
  t.is(store.counts().entries, 0);
  t.deepEqual(store.writeLogs([bad]), { written: 1, duplicates: 0 });
});

test('metric metadata: one row per family and variant, last_seen the newest, kept in the same transaction, aged out with the samples', (t) => {
  const { store, dir } = tempStore();
  const meta = (help: string, timestampMs: number) => ({ metric: 'up', type: 'gauge' as const, help, unit: '', timestampMs });
  store.write([], [{ name: 'up', labels: {}, timestampMs: 1000, value: 1 }], [meta('old text', 1000), meta('new text', 3000)]);
  store.write([], [], [meta('old text', 2000)]); // the same variant again: its last_seen moves, no second row
  t.deepEqual(store.metricMetadata({}), {
    up: [
      { type: 'gauge', help: 'new text', unit: '' },
      { type: 'gauge', help: 'old text', unit: '' },
    ],
  });
  // A read-only reader (the query workers') sees it.
  const reader = new SqliteStore({ dataDir: dir, readOnly: true });
  t.deepEqual(Object.keys(reader.metricMetadata({ metric: 'up' })), ['up']);
  reader.close();
  store.deleteSamplesBefore(2500);
  t.deepEqual(store.metricMetadata({}), { up: [{ type: 'gauge', help: 'new text', unit: '' }] }, 'last seen before the cutoff: gone');
});

test('retention deletes expired entries (and their FTS terms) and samples', (t) => {
  const { store } = tempStore();
  store.writeLogs(Array.from({ length: 30 }, (_, i) => entry(i, { app: i % 2 ? 'a' : 'b' }, `word${i} common`)));
  store.writeSamples(Array.from({ length: 10 }, (_, i) => ({ name: 'up', labels: {}, timestampMs: 1000 * (i + 1), value: i })));
  t.is(store.deleteLogsBefore(T0 + 10n * S, 4), 10); // chunks of 4: several transactions
  t.is(store.deleteSamplesBefore(5000), 4);
  const left = store.selectLogs({ matchers: [{ name: 'app', op: '=~', value: '.+' }], ...all, direction: 'forward', limit: 100 });
  t.deepEqual(
    left.entries.map((e) => e.message),
    Array.from({ length: 20 }, (_, i) => `word${i + 10} common`),
  );
  const text = store.selectLogs({
    matchers: [{ name: 'app', op: '=~', value: '.+' }],
    ...all,
    text: 'common',
    direction: 'forward',
    limit: 100,
  });
  t.is(text.entries.length, 20, 'the FTS index no longer returns deleted rows');
  t.is(
    store.selectLogs({ matchers: [{ name: 'app', op: '=~', value: '.+' }], ...all, text: 'word3', direction: 'forward', limit: 100 })
      .entries.length,
    0,
  );
  t.deepEqual(
    store.selectSamples({ matchers: [{ name: '__name__', op: '=', value: 'up' }], startMs: 0, endMs: 1e9 })[0]!.timestampsMs,
    [5000, 6000, 7000, 8000, 9000, 10000],
  );
  t.is(store.deleteLogsBefore(T0 + 10n * S), 0, 'a second sweep finds nothing');
});

test('a read-only connection (the query workers) sees what the writer commits after it opened: new series, wider and narrower spans', (t) => {
  const { dir, store } = tempStore();
  const T = 1_795_687_200_000;
  store.writeSamples([{ name: 'up', labels: { job: 'a' }, timestampMs: T, value: 1 }]);
  store.writeLogs([entry(1, { app: 'a' })]);
  const reader = new SqliteStore({ dataDir: dir, readOnly: true });
  const window = (startMs: number, endMs: number) =>
    reader
      .selectSamples({ matchers: [{ name: '__name__', op: '=', value: 'up' }], startMs, endMs })
      .map((s) => [s.labels['job'], s.values]);
  t.deepEqual(window(T, T), [['a', [1]]]);

  // A new series, and a sample of the old one beyond the span its index knew.
  store.writeSamples([
    { name: 'up', labels: { job: 'b' }, timestampMs: T + 60_000, value: 2 },
    { name: 'up', labels: { job: 'a' }, timestampMs: T + 60_000, value: 3 },
  ]);
  t.deepEqual(window(T + 60_000, T + 60_000), [
    ['a', [3]],
    ['b', [2]],
  ]);
  t.deepEqual(
    reader
      .series({})
      .map((l) => l['job'])
      .sort(),
    ['a', 'b'],
  );
  store.writeLogs([entry(2, { app: 'new' })]);
  t.deepEqual(
    reader
      .selectLogs({ matchers: [{ name: 'app', op: '=', value: 'new' }], ...all, direction: 'forward', limit: 10 })
      .entries.map((e) => e.message),
    ['line 2'],
  );
  // Retention narrows spans: what it deleted is gone for the reader too.
  store.deleteSamplesBefore(T + 1);
  t.deepEqual(window(T, T + 60_000), [
    ['a', [3]],
    ['b', [2]],
  ]);
  t.throws(() => reader.writeSamples([{ name: 'up', labels: {}, timestampMs: T, value: 1 }]), { message: /readonly/ });
});

test('a read-only connection refuses a directory without a store, and :memory:', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sextant-store-'));
  t.throws(() => new SqliteStore({ dataDir: dir, readOnly: true }), { message: /unable to open|does not exist|no Sextant store/ });
  t.throws(() => new SqliteStore({ dataDir: ':memory:', readOnly: true }), { message: /needs the data directory/ });
});

test('selectSamples stops at maxSamples: exactly the budget is read, one more throws without reading the rest', (t) => {
  const { store } = tempStore();
  const samples = [];
  for (let i = 0; i < 10; i++) for (const job of ['a', 'b']) samples.push({ name: 'up', labels: { job }, timestampMs: 1000 * i, value: i });
  store.writeSamples(samples);
  const select = (maxSamples?: number) =>
    store.selectSamples({ matchers: [{ name: '__name__', op: '=', value: 'up' }], startMs: 0, endMs: 1e6, maxSamples });
  t.is(
    select(20).reduce((n, s) => n + s.values.length, 0),
    20,
  );
  t.is(
    select(undefined).reduce((n, s) => n + s.values.length, 0),
    20,
  );
  for (const budget of [19, 10, 5, 0])
    t.throws(() => select(budget), { instanceOf: SampleLimitError, message: `more than ${budget} samples selected` });
});
