import test from 'ava';
import { evaluateInstant } from '../../query/promql/evaluate.js';
import { FakeReader } from '../../query/promql/fake-reader.js';
import { parsePromQL } from '../../query/promql/parse.js';
import type { LogSelection, StorageReader } from '../reader.js';
import { CursorError } from '../sqlite/cursor.js';
import { TieredReader } from './reader.js';

const MS = 1_000_000n;
const NOW = 1_000_000;
const WINDOW = 100_000;
const BOUNDARY_MS = NOW - WINDOW;

/**
 * 40 entries 5 s apart from NOW - 200 s, 20 series points 10 s apart. The reference holds
 * everything; hot only the window; cold everything too (S3 is written alongside), so any
 * entry read twice or from the wrong side would show.
 */
function fixture() {
  const reference = new FakeReader();
  const hot = new FakeReader();
  const cold = new FakeReader();
  for (let i = 0; i < 40; i++) {
    const ms = NOW - 200_000 + i * 5_000;
    const labels = { app: i % 2 === 0 ? 'a' : 'b', ...(i >= 30 ? { late: 'yes' } : {}) };
    for (const r of ms >= BOUNDARY_MS ? [reference, hot, cold] : [reference, cold]) r.addLog(labels, BigInt(ms) * MS + 7n, `line ${i}`);
  }
  const points = (from: number, to: number): [number, number][] => {
    const out: [number, number][] = [];
    for (let t = NOW - 200_000; t < NOW; t += 10_000) if (t >= from && t < to) out.push([t, t / 1000]);
    return out;
  };
  reference.addSeries({ __name__: 'm', job: 'x' }, points(0, NOW));
  hot.addSeries({ __name__: 'm', job: 'x' }, points(BOUNDARY_MS, NOW));
  cold.addSeries({ __name__: 'm', job: 'x' }, points(0, NOW));
  cold.addSeries({ __name__: 'old', job: 'x' }, points(0, BOUNDARY_MS));
  reference.addSeries({ __name__: 'old', job: 'x' }, points(0, BOUNDARY_MS));
  let now = NOW;
  const tiered = new TieredReader({ hot, cold, hotWindowMs: { logs: WINDOW, metrics: WINDOW }, now: () => now });
  return { reference, hot, cold, tiered, advance: (ms: number) => (now += ms) };
}

async function pages(reader: StorageReader, selection: LogSelection, between?: () => void): Promise<string[][]> {
  const out: string[][] = [];
  let cursor: string | undefined;
  for (let n = 0; n < 100; n++) {
    const page = await reader.selectLogs({ ...selection, ...(cursor ? { cursor } : {}) });
    out.push(page.entries.map((e) => e.id));
    if (!page.nextCursor) return out;
    cursor = page.nextCursor;
    between?.();
  }
  throw new Error('too many pages');
}

const ALL: Omit<LogSelection, 'direction' | 'limit'> = {
  matchers: [{ name: 'app', op: '=~', value: '.+' }],
  startNs: BigInt(NOW - 300_000) * MS,
  endNs: BigInt(NOW) * MS,
};

for (const direction of ['forward', 'backward'] as const) {
  for (const limit of [1, 7, 10, 20, 40, 100]) {
    test(`log pages across the boundary, ${direction}, limit ${limit}: the reference's order, each entry once`, async (t) => {
      const { reference, tiered, advance } = fixture();
      const want = (await pages(reference, { ...ALL, direction, limit: 1000 })).flat();
      // The clock moves between pages: the cursor keeps the boundary it was made with.
      const got = await pages(tiered, { ...ALL, direction, limit }, () => advance(30_000));
      t.deepEqual(got.flat(), want);
      t.is(want.length, 40);
      t.true(
        got.slice(0, -1).every((p) => p.length === limit),
        'every page but the last is full',
      );
    });
  }
}

test('a range inside one tier reads only that tier', async (t) => {
  const { hot, cold, tiered } = fixture();
  await tiered.selectLogs({ ...ALL, startNs: BigInt(BOUNDARY_MS + 1000) * MS, direction: 'forward', limit: 100 });
  t.is(cold.logSelections.length, 0);
  t.is(hot.logSelections.length, 1);
  await tiered.selectLogs({ ...ALL, endNs: BigInt(BOUNDARY_MS) * MS, direction: 'forward', limit: 100 });
  t.is(hot.logSelections.length, 1);
  t.like(cold.logSelections[0], { endNs: BigInt(BOUNDARY_MS) * MS });
});

test('line filters and matchers go to both tiers unchanged', async (t) => {
  const { reference, tiered } = fixture();
  const selection: LogSelection = {
    ...ALL,
    matchers: [{ name: 'app', op: '=', value: 'a' }],
    lineFilters: [{ op: '|~', value: '[02468]$' }],
    direction: 'backward',
    limit: 3,
  };
  t.deepEqual((await pages(tiered, selection)).flat(), (await pages(reference, { ...selection, limit: 100 })).flat());
});

test('cursors: garbage and the other direction are CursorErrors', async (t) => {
  const { tiered } = fixture();
  await t.throwsAsync(() => tiered.selectLogs({ ...ALL, direction: 'forward', limit: 5, cursor: 'nonsense' }), { instanceOf: CursorError });
  const page = await tiered.selectLogs({ ...ALL, direction: 'forward', limit: 5 });
  await t.throwsAsync(() => tiered.selectLogs({ ...ALL, direction: 'backward', limit: 5, cursor: page.nextCursor! }), {
    instanceOf: CursorError,
    message: /direction=forward/,
  });
});

test('samples: a series on both sides is merged in order; cold-only series are kept', async (t) => {
  const { reference, hot, cold, tiered } = fixture();
  const selection = { matchers: [{ name: 'job', op: '=' as const, value: 'x' }], startMs: NOW - 300_000, endMs: NOW };
  const sort = (s: Awaited<ReturnType<StorageReader['selectSamples']>>) =>
    [...s].sort((a, b) => a.labels.__name__!.localeCompare(b.labels.__name__!));
  t.deepEqual(sort(await tiered.selectSamples(selection)), sort(reference.selectSamples(selection)));
  t.like(hot.sampleSelections[0], { startMs: BOUNDARY_MS, endMs: NOW });
  t.like(cold.sampleSelections[0], { startMs: NOW - 300_000, endMs: BOUNDARY_MS - 1 });
});

test('samples: staleness markers of both tiers are kept, each once, and end the series in PromQL', async (t) => {
  const reference = new FakeReader();
  const hot = new FakeReader();
  const cold = new FakeReader();
  const s = (ms: number) => BOUNDARY_MS + ms;
  // Markers on both sides of the boundary; cold holds the hot window too (S3 is written alongside).
  const all: [number, number | 'stale'][] = [
    [s(-30_000), 1],
    [s(-20_000), 'stale'],
    [s(-10_000), 3],
    [s(0), 4],
    [s(10_000), 'stale'],
    [s(20_000), 6],
    [s(30_000), 'stale'],
  ];
  reference.addSeries({ __name__: 'g' }, all);
  cold.addSeries({ __name__: 'g' }, all);
  hot.addSeries(
    { __name__: 'g' },
    all.filter(([t]) => t >= BOUNDARY_MS),
  );
  reference.addSeries({ __name__: 'g', side: 'hot' }, [[s(5_000), 'stale']]);
  hot.addSeries({ __name__: 'g', side: 'hot' }, [[s(5_000), 'stale']]);
  const tiered = new TieredReader({ hot, cold, hotWindowMs: { logs: WINDOW, metrics: WINDOW }, now: () => NOW });
  const selection = { matchers: [{ name: '__name__', op: '=' as const, value: 'g' }], startMs: s(-60_000), endMs: NOW };
  const byLabels = (series: Awaited<ReturnType<StorageReader['selectSamples']>>) =>
    Object.fromEntries(series.map((x) => [JSON.stringify(x.labels), { t: x.timestampsMs, stale: x.staleTimestampsMs }]));
  const got = byLabels(await tiered.selectSamples(selection));
  t.deepEqual(got, byLabels(reference.selectSamples(selection)));
  t.deepEqual(got['{"__name__":"g"}']!.stale, [s(-20_000), s(10_000), s(30_000)]);
  const at = async (ms: number) => {
    const r = await evaluateInstant(parsePromQL('g{side=""}'), tiered, ms);
    return r.resultType === 'vector' ? r.samples.map((x) => x.value) : r;
  };
  t.deepEqual(await at(s(-15_000)), [], 'cold marker');
  t.deepEqual(await at(s(15_000)), [], 'hot marker');
  t.deepEqual(await at(s(25_000)), [6]);
});

test('metadata: union of both tiers; stats count a stream on both sides once', async (t) => {
  const { reference, tiered } = fixture();
  for (const q of [{}, { startMs: NOW - 300_000, endMs: NOW }, { matchers: [{ name: 'late', op: '=' as const, value: 'yes' }] }]) {
    t.deepEqual(await tiered.logLabelNames(q), reference.logLabelNames(q));
    t.deepEqual(await tiered.logLabelValues('app', q), reference.logLabelValues('app', q));
    t.deepEqual(
      (await tiered.logStreams(q)).map((l) => JSON.stringify(l)).sort(),
      reference
        .logStreams(q)
        .map((l) => JSON.stringify(l))
        .sort(),
    );
    t.deepEqual(await tiered.logStats(q), reference.logStats(q));
    t.deepEqual(await tiered.metricLabelValues('__name__', q), reference.metricLabelValues('__name__', q));
    t.deepEqual((await tiered.series(q)).length, reference.series(q).length);
  }
  t.deepEqual(await tiered.logStats({}), { streams: 4, entries: 40, bytes: reference.logStats({}).bytes });
});

test('without a cold tier everything is read from the hot one', async (t) => {
  const { reference } = fixture();
  const tiered = new TieredReader({ hot: reference, hotWindowMs: { logs: 1, metrics: 1 } });
  t.deepEqual((await pages(tiered, { ...ALL, direction: 'forward', limit: 9 })).flat().length, 40);
  t.is((await tiered.series({})).length, 2);
});

/** A FakeReader with ns-precise stats, as the OpenSearch and S3 readers have. */
class NsFake extends FakeReader {
  async logStatsNs(matchers: LogSelection['matchers'], [from, to]: [bigint, bigint]) {
    const page = this.selectLogs({ matchers, startNs: from, endNs: to, direction: 'forward', limit: 1e9 });
    const streams = new Map(page.entries.map((e) => [JSON.stringify(e.labels), e.labels]));
    return {
      streams: [...streams.values()],
      entries: page.entries.length,
      bytes: page.entries.reduce((n, e) => n + Buffer.byteLength(e.message), 0),
    };
  }
}

test('stats split at the boundary nanosecond: an entry in the millisecond before the boundary is counted once', async (t) => {
  const hot = new NsFake();
  const cold = new NsFake();
  const justBefore = BigInt(BOUNDARY_MS) * MS - 1n;
  const atBoundary = BigInt(BOUNDARY_MS) * MS;
  for (const r of [cold, hot]) r.addLog({ app: 'a' }, justBefore, 'before');
  cold.addLog({ app: 'a' }, justBefore - 5n, 'older');
  cold.addLog({ app: 'a' }, BigInt(BOUNDARY_MS - 1) * MS, 'edge');
  for (const r of [cold, hot]) r.addLog({ app: 'a' }, atBoundary, 'at');
  const tiered = new TieredReader({ hot, cold, hotWindowMs: { logs: WINDOW, metrics: WINDOW }, now: () => NOW });
  t.deepEqual(await tiered.logStats({ startMs: BOUNDARY_MS - 10, endMs: NOW }), { streams: 1, entries: 4, bytes: 6 + 5 + 2 + 4 });
  t.deepEqual(await tiered.logStats({ endMs: BOUNDARY_MS - 1 }), { streams: 1, entries: 1, bytes: 4 }, 'up to the end instant itself');
});
