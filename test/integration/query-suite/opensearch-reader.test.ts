/**
 * OpenSearchReader against the real OpenSearch (test/infra) and the SQLite store holding the
 * same dataset: every StorageReader primitive must give the same answer — log selections
 * with every matcher kind (pushed down or checked in process), line filters, directions,
 * limits and cursor paging; samples per series; label names/values; series; stats.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { createLogger } from '../../../runtime/src/common/log.js';
import { createOpenSearchClient, OpenSearchSink } from '../../../runtime/src/storage/opensearch/sink.js';
import { OpenSearchReader, pushDown } from '../../../runtime/src/storage/opensearch/reader.js';
import type { LabelMatcher, LogSelection, StorageReader, StoredLogEntry } from '../../../runtime/src/storage/reader.js';
import { SqliteStore } from '../../../runtime/src/storage/sqlite/store.js';
import { SecretReader } from '../../../runtime/src/platform/runtime-config.js';
import { infraVar } from '../helpers/infra-env.js';
import { HOUR_MS, LOG_COUNT, makeDataset, SAMPLE_POINTS } from './dataset.js';

const data = makeDataset(Date.now());
const startMs = data.baseMs - 3 * HOUR_MS;
const startNs = BigInt(startMs) * 1_000_000n;
const endNs = BigInt(data.baseMs) * 1_000_000n;
const prefix = `qs-${randomBytes(4).toString('hex')}`;

let sqlite: SqliteStore;
let os: OpenSearchReader;
let client: ReturnType<typeof createOpenSearchClient>;

test.before(async () => {
  sqlite = new SqliteStore({ dataDir: ':memory:' });
  sqlite.write(data.logs, data.samples);
  const settings = {
    endpoints: [infraVar('OPENSEARCH_URL')],
    indexPrefix: prefix,
    insecureSkipVerify: false,
    bulk: { maxDocs: 1000, maxBytes: 5_000_000 },
    username: undefined,
    password: undefined,
    caFile: undefined,
  };
  client = createOpenSearchClient(settings, new SecretReader());
  const sink = new OpenSearchSink(client, settings, createLogger('test', 'warn'));
  await sink.start();
  const rejected = await sink.write([
    ...data.logs.map((entry) => ({ kind: 'log' as const, entry })),
    ...data.samples.map((sample) => ({ kind: 'sample' as const, sample })),
  ]);
  if (rejected.length > 0) throw new Error(`OpenSearch rejected ${rejected.length} documents: ${rejected[0]!.reason}`);
  await client.indices.refresh({ index: `${prefix}-*` });
  // Small pages so paging inside the reader (search_after, composite after_key) is exercised.
  os = new OpenSearchReader({ client, indexPrefix: prefix, pageSize: 97, bucketPageSize: 3 });
});

test.after.always(async () => {
  await client?.indices.delete({ index: `${prefix}-*` }).catch(() => undefined);
  await client?.close();
  sqlite?.close();
});

/** Every page of a selection, following cursors; the ids in order. */
async function allPages(reader: StorageReader, selection: LogSelection): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 1000; pages++) {
    const page = await reader.selectLogs({ ...selection, ...(cursor ? { cursor } : {}) });
    ids.push(...page.entries.map((e) => e.id));
    if (!page.nextCursor || page.entries.length === 0) return ids;
    cursor = page.nextCursor;
  }
  throw new Error('more than 1000 pages');
}

/** The SQLite store's entries carry its internal `seq` too; the contract's fields only. */
const strip = ({ id, timestampNs, labels, message, fields }: StoredLogEntry): StoredLogEntry => ({
  id,
  timestampNs,
  labels,
  message,
  fields,
});

const m = (name: string, op: LabelMatcher['op'], value: string): LabelMatcher => ({ name, op, value });

const SELECTIONS: Array<{ name: string; matchers: LabelMatcher[]; lineFilters?: LogSelection['lineFilters']; text?: string }> = [
  { name: 'equality', matchers: [m('service', '=', 'api')] },
  { name: 'two labels', matchers: [m('service', '=', 'web'), m('level', '=', 'error')] },
  { name: 'inequality', matchers: [m('service', '!=', 'api')] },
  { name: 'missing label is ""', matchers: [m('job', '=', '')] },
  { name: 'label present', matchers: [m('job', '!=', '')] },
  { name: 'portable regex (pushed down)', matchers: [m('service', '=~', 'ap.|d(b|x)')] },
  { name: 'regex matching "" (in process: Lucene refuses empty alternatives)', matchers: [m('job', '=~', 'nightly|')] },
  { name: 'regex matching "" (pushed down with missing labels)', matchers: [m('job', '=~', '(nightly)?')] },
  { name: 'non-portable regex (in process)', matchers: [m('service', '=~', '(?:api|web)')] },
  { name: 'negative regex (in process)', matchers: [m('service', '!~', 'a.*'), m('level', '=~', '.+')] },
  { name: 'contains', matchers: [m('level', '=~', '.+')], lineFilters: [{ op: '|=', value: 'status=500' }] },
  {
    name: 'not contains + regex',
    matchers: [m('service', '=', 'api')],
    lineFilters: [
      { op: '!=', value: 'GET' },
      { op: '|~', value: 'took=\\d{2}ms' },
    ],
  },
  { name: 'unicode line filter', matchers: [m('service', '=~', '.+')], lineFilters: [{ op: '|=', value: 'café ✓' }] },
  { name: 'nothing matches', matchers: [m('service', '=', 'nope')] },
];

for (const s of SELECTIONS) {
  for (const direction of ['forward', 'backward'] as const) {
    test(`selectLogs ${s.name}, ${direction}: same entries, same order, same pages`, async (t) => {
      const base: LogSelection = {
        matchers: s.matchers,
        ...(s.lineFilters ? { lineFilters: s.lineFilters } : {}),
        startNs: startNs + 3_600_000_000_000n / 2n,
        endNs,
        direction,
        limit: 1000,
      };
      const a = await sqlite.selectLogs(base);
      const b = await os.selectLogs(base);
      t.deepEqual(b.entries, a.entries.map(strip));
      t.is(Boolean(b.nextCursor), Boolean(a.nextCursor));
      // Pages of 37 through cursors give the same sequence as one big page.
      const pagedA = await allPages(sqlite, { ...base, limit: 37 });
      const pagedB = await allPages(os, { ...base, limit: 37 });
      t.deepEqual(pagedB, pagedA);
      t.deepEqual(pagedA, a.entries.map((e) => e.id).slice(0, pagedA.length));
    });
  }
}

test('selectLogs: the whole range counts exactly LOG_COUNT entries; the end bound is exclusive', async (t) => {
  const all = await allPages(os, { matchers: [m('service', '=~', '.+')], startNs, endNs, direction: 'forward', limit: 500 });
  t.is(all.length, LOG_COUNT);
  t.is(new Set(all).size, LOG_COUNT);
  const last = data.logs[data.logs.length - 1]!;
  const upTo = await os.selectLogs({
    matchers: [m('service', '=~', '.+')],
    startNs,
    endNs: last.timestampNs,
    direction: 'backward',
    limit: 1,
  });
  t.is(upTo.entries[0]!.timestampNs, data.logs[data.logs.length - 2]!.timestampNs);
});

test('selectLogs with native full-text terms', async (t) => {
  const base: LogSelection = {
    matchers: [m('service', '=~', '.+')],
    startNs,
    endNs,
    direction: 'backward',
    limit: 200,
    text: 'POST status',
  };
  const a = sqlite.selectLogs(base);
  const b = await os.selectLogs(base);
  t.true(a.entries.length > 0);
  t.deepEqual(
    b.entries.map((e) => e.id),
    a.entries.map((e) => e.id),
  );
});

test('selectSamples: same series and points, ascending per series', async (t) => {
  for (const matchers of [
    [m('__name__', '=', 'http_requests_total')],
    [m('__name__', '=', 'http_requests_total'), m('code', '!=', '200')],
    [m('__name__', '=~', 'queue_.*|nope')],
    [m('service', '!~', 'api|web'), m('__name__', '=~', '.+')],
  ]) {
    const sel = { matchers, startMs: startMs + 30 * 60_000, endMs: data.baseMs - 10 * 60_000 };
    const a = sqlite.selectSamples(sel);
    const b = await os.selectSamples(sel);
    const key = (s: { labels: object }) => JSON.stringify(s.labels);
    t.deepEqual(
      [...b].sort((x, y) => key(x).localeCompare(key(y))),
      [...a].sort((x, y) => key(x).localeCompare(key(y))),
      JSON.stringify(matchers),
    );
  }
  const all = await os.selectSamples({ matchers: [m('__name__', '=', 'http_requests_total')], startMs, endMs: data.baseMs });
  t.is(all.length, 6);
  t.true(all.every((s) => s.timestampsMs.length === SAMPLE_POINTS));
});

test('metadata: label names, values, streams, series and stats agree', async (t) => {
  const queries = [
    {},
    { startMs, endMs: data.baseMs },
    { matchers: [m('service', '=', 'api')] },
    { matchers: [m('job', '!=', '')], startMs, endMs: data.baseMs },
  ];
  const sortSets = (sets: object[]) => sets.map((s) => JSON.stringify(s)).sort();
  for (const q of queries) {
    t.deepEqual(await os.logLabelNames(q), sqlite.logLabelNames(q));
    t.deepEqual(await os.logLabelValues('service', q), sqlite.logLabelValues('service', q));
    t.deepEqual(sortSets(await os.logStreams(q)), sortSets(sqlite.logStreams(q)));
    t.deepEqual(await os.logStats(q), sqlite.logStats(q));
    t.deepEqual(await os.metricLabelNames(q), sqlite.metricLabelNames(q));
    t.deepEqual(await os.metricLabelValues('__name__', q), sqlite.metricLabelValues('__name__', q));
    t.deepEqual(sortSets(await os.series(q)), sortSets(sqlite.series(q)));
  }
  t.deepEqual(await os.logLabelValues('service', {}), ['api', 'batch', 'db', 'web']);
  t.deepEqual(await os.logStats({}), sqlite.logStats({}));
  t.is((await os.logStats({})).entries, LOG_COUNT);
});

test('pushDown: exact clauses for equality and portable regexes; the rest stays in process', (t) => {
  t.deepEqual(pushDown([m('a', '=', 'x')], 'logs'), { filter: [{ term: { 'labels.a': 'x' } }], mustNot: [], exact: true });
  t.deepEqual(pushDown([m('__name__', '=', 'up')], 'metrics').filter, [{ term: { name: 'up' } }]);
  t.deepEqual(pushDown([m('a', '=', '')], 'logs').mustNot, [{ exists: { field: 'labels.a' } }]);
  t.false(pushDown([m('a', '=~', '\\d+')], 'logs').exact);
  t.false(pushDown([m('a', '=~', '(?:x)')], 'logs').exact);
  t.false(pushDown([m('a', '=~', '[^x]')], 'logs').exact);
  t.false(pushDown([m('a', '!~', 'x')], 'logs').exact);
  t.false(pushDown([m('a', '=~', 'x|')], 'logs').exact);
  t.false(pushDown([m('a', '=~', '')], 'logs').exact);
  t.true(pushDown([m('a', '=~', 'x\\|')], 'logs').exact);
  t.true(pushDown([m('a', '=~', 'x|y.*|[a-z]{2,3}')], 'logs').exact);
});
