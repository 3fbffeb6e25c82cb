/**
 * The StorageReaders of the distributed mode against the SQLite store holding the same
 * dataset, on the real servers (test/infra): OpenSearchReader, S3ColdReader and the
 * TieredReader routing between them must give the same answer for every primitive — log
 * selections with every matcher kind (pushed down or checked in process), line filters,
 * directions, limits and cursor paging; samples per series; label names/values; series; stats;
 * metric metadata (hot tier only: the S3 reader has none).
 *
 * The tiered reader's hot tier is an index set holding only the last 90 minutes, so what
 * it returns from before that can only have come from S3.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { createLogger } from '../../../runtime/src/common/log.js';
import { createOpenSearchClient, OpenSearchSink } from '../../../runtime/src/storage/opensearch/sink.js';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { OpenSearchReader, pushDown } from '../../../runtime/src/storage/opensearch/reader.js';
import { S3ColdReader } from '../../../runtime/src/storage/s3/reader.js';
import { S3ObjectStore } from '../../../runtime/src/storage/s3/store.js';
import { TieredReader } from '../../../runtime/src/storage/tiered/reader.js';
import { s3ClientForS3Proxy } from '../helpers/s3.js';
import { writeColdObjects } from './cold-objects.js';
import type { LabelMatcher, LogSelection, StorageReader, StoredLogEntry } from '../../../runtime/src/storage/reader.js';
import { SqliteStore } from '../../../runtime/src/storage/sqlite/store.js';
import { SecretReader } from '../../../runtime/src/common/secrets.js';
import type { OpenSearchSinkSettings } from '../../../runtime/src/storage/opensearch/config.js';
import { infraVar } from '../helpers/infra-env.js';
import { METRIC_TYPES, type MetricMetadata } from '../../../runtime/src/model/types.js';
import { HOUR_MS, LOG_COUNT, makeDataset, SAMPLE_POINTS } from './dataset.js';

const data = makeDataset(Date.now());
const startMs = data.baseMs - 3 * HOUR_MS;
const startNs = BigInt(startMs) * 1_000_000n;
const endNs = BigInt(data.baseMs) * 1_000_000n;
const prefix = `qs-${randomBytes(4).toString('hex')}`;
const HOT_WINDOW_MS = 90 * 60_000;
/** More families than a reader page (97), some with a second variant, received at different times. */
const METADATA: MetricMetadata[] = Array.from({ length: 150 }, (_, i) => [
  {
    metric: `family_${String(i).padStart(3, '0')}`,
    type: METRIC_TYPES[i % METRIC_TYPES.length]!,
    help: `Help ${i}.`,
    unit: i % 3 ? '' : 'seconds',
    timestampMs: data.baseMs - i,
  },
  ...(i % 10 === 0
    ? [
        {
          metric: `family_${String(i).padStart(3, '0')}`,
          type: 'gauge' as const,
          help: `Newer help ${i}.`,
          unit: '',
          timestampMs: data.baseMs + i,
        },
      ]
    : []),
]).flat();
const boundaryMs = data.baseMs - HOT_WINDOW_MS;

let sqlite: SqliteStore;
let client: ReturnType<typeof createOpenSearchClient>;
const readers: Record<'opensearch' | 's3' | 'tiered', StorageReader> = {} as never;

async function writeOpenSearch(indexPrefix: string, logs: typeof data.logs, samples: typeof data.samples): Promise<void> {
  const settings = {
    endpoints: [infraVar('OPENSEARCH_URL')],
    indexPrefix,
    indexPartition: 'daily',
    insecureSkipVerify: false,
    bulk: { maxDocs: 1000, maxBytes: 5_000_000 },
  } as OpenSearchSinkSettings;
  const sink = new OpenSearchSink(client, settings, createLogger('test', 'warn'));
  await sink.start();
  const rejected = await sink.write([
    ...logs.map((entry) => ({ kind: 'log' as const, entry })),
    ...samples.map((sample) => ({ kind: 'sample' as const, sample })),
    ...METADATA.map((metadata) => ({ kind: 'metadata' as const, metadata })),
  ]);
  if (rejected.length > 0) throw new Error(`OpenSearch rejected ${rejected.length} documents: ${rejected[0]!.reason}`);
  await client.indices.refresh({ index: `${indexPrefix}-*` });
}

test.before(async () => {
  sqlite = new SqliteStore({ dataDir: ':memory:' });
  sqlite.write(data.logs, data.samples, METADATA);
  client = createOpenSearchClient(
    {
      endpoints: [infraVar('OPENSEARCH_URL')],
      indexPrefix: prefix,
      insecureSkipVerify: false,
      bulk: { maxDocs: 1000, maxBytes: 5_000_000 },
    } as never,
    new SecretReader(),
  );
  await writeOpenSearch(prefix, data.logs, data.samples);
  // The hot tier of the tiered reader: only what is younger than the hot window.
  await writeOpenSearch(
    `${prefix}-hot`,
    data.logs.filter((e) => e.timestampNs >= BigInt(boundaryMs) * 1_000_000n),
    data.samples.filter((s) => s.timestampMs >= boundaryMs),
  );
  // Small pages so paging inside the reader (search_after, composite after_key) is exercised.
  readers.opensearch = new OpenSearchReader({ client, indexPrefix: prefix, pageSize: 97, bucketPageSize: 3 });

  const s3Client = s3ClientForS3Proxy({
    endpoint: infraVar('S3_ENDPOINT'),
    region: infraVar('S3_REGION'),
    forcePathStyle: true,
    credentials: { accessKeyId: infraVar('S3_ACCESS_KEY_ID'), secretAccessKey: infraVar('S3_SECRET_ACCESS_KEY') },
  });
  await s3Client.send(new CreateBucketCommand({ Bucket: prefix }));
  const store = new S3ObjectStore(s3Client, prefix, { thresholdBytes: 64 * 1024 * 1024, partSizeBytes: 8 * 1024 * 1024 });
  const where = { prefix: 'archive/', namespace: 'qs', pipeline: 'api' };
  await writeColdObjects(store, where, data, { duplicateFirstHour: true });
  const cold = new S3ColdReader({ store, ...where });
  readers.s3 = cold;
  readers.tiered = new TieredReader({
    hot: new OpenSearchReader({ client, indexPrefix: `${prefix}-hot`, pageSize: 97 }),
    cold,
    hotWindowMs: { logs: HOT_WINDOW_MS, metrics: HOT_WINDOW_MS },
    now: () => data.baseMs,
  });
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

for (const name of ['opensearch', 's3', 'tiered'] as const) {
  const reader = () => readers[name];
  for (const s of SELECTIONS) {
    for (const direction of ['forward', 'backward'] as const) {
      test(`${name}: selectLogs ${s.name}, ${direction}: same entries, same order, same pages`, async (t) => {
        const base: LogSelection = {
          matchers: s.matchers,
          ...(s.lineFilters ? { lineFilters: s.lineFilters } : {}),
          startNs: startNs + 3_600_000_000_000n / 2n,
          endNs,
          direction,
          limit: 1000,
        };
        const a = await sqlite.selectLogs(base);
        const b = await reader().selectLogs(base);
        t.deepEqual(b.entries, a.entries.map(strip));
        t.is(Boolean(b.nextCursor), Boolean(a.nextCursor));
        // Pages of 37 through cursors give the same sequence as one big page.
        const pagedA = await allPages(sqlite, { ...base, limit: 37 });
        const pagedB = await allPages(reader(), { ...base, limit: 37 });
        t.deepEqual(pagedB, pagedA);
        t.deepEqual(pagedA, a.entries.map((e) => e.id).slice(0, pagedA.length));
      });
    }
  }

  test(`${name}: selectLogs: the whole range counts exactly LOG_COUNT entries; the end bound is exclusive`, async (t) => {
    const all = await allPages(reader(), { matchers: [m('service', '=~', '.+')], startNs, endNs, direction: 'forward', limit: 500 });
    t.is(all.length, LOG_COUNT);
    t.is(new Set(all).size, LOG_COUNT);
    const last = data.logs[data.logs.length - 1]!;
    const upTo = await reader().selectLogs({
      matchers: [m('service', '=~', '.+')],
      startNs,
      endNs: last.timestampNs,
      direction: 'backward',
      limit: 1,
    });
    t.is(upTo.entries[0]!.timestampNs, data.logs[data.logs.length - 2]!.timestampNs);
  });

  test(`${name}: selectLogs with native full-text terms`, async (t) => {
    const base: LogSelection = {
      matchers: [m('service', '=~', '.+')],
      startNs,
      endNs,
      direction: 'backward',
      limit: 200,
      text: 'POST status',
    };
    const a = sqlite.selectLogs(base);
    const b = await reader().selectLogs(base);
    t.true(a.entries.length > 0);
    t.deepEqual(
      b.entries.map((e) => e.id),
      a.entries.map((e) => e.id),
    );
  });

  test(`${name}: selectSamples: same series and points, ascending per series`, async (t) => {
    for (const matchers of [
      [m('__name__', '=', 'http_requests_total')],
      [m('__name__', '=', 'http_requests_total'), m('code', '!=', '200')],
      [m('__name__', '=~', 'queue_.*|nope')],
      [m('service', '!~', 'api|web'), m('__name__', '=~', '.+')],
    ]) {
      const sel = { matchers, startMs: startMs + 30 * 60_000, endMs: data.baseMs - 10 * 60_000 };
      const a = sqlite.selectSamples(sel);
      const b = await reader().selectSamples(sel);
      const key = (s: { labels: object }) => JSON.stringify(s.labels);
      t.deepEqual(
        [...b].sort((x, y) => key(x).localeCompare(key(y))),
        [...a].sort((x, y) => key(x).localeCompare(key(y))),
        JSON.stringify(matchers),
      );
    }
    const all = await reader().selectSamples({ matchers: [m('__name__', '=', 'http_requests_total')], startMs, endMs: data.baseMs });
    t.is(all.length, 6);
    t.true(all.every((s) => s.timestampsMs.length === SAMPLE_POINTS));
  });

  test(`${name}: metadata: label names, values, streams, series and stats agree`, async (t) => {
    const queries = [
      {},
      { startMs, endMs: data.baseMs },
      { matchers: [m('service', '=', 'api')] },
      { matchers: [m('job', '!=', '')], startMs, endMs: data.baseMs },
    ];
    const sortSets = (sets: object[]) => sets.map((s) => JSON.stringify(s)).sort();
    for (const q of queries) {
      t.deepEqual(await reader().logLabelNames(q), sqlite.logLabelNames(q));
      t.deepEqual(await reader().logLabelValues('service', q), sqlite.logLabelValues('service', q));
      t.deepEqual(sortSets(await reader().logStreams(q)), sortSets(sqlite.logStreams(q)));
      t.deepEqual(await reader().logStats(q), sqlite.logStats(q));
      t.deepEqual(await reader().metricLabelNames(q), sqlite.metricLabelNames(q));
      t.deepEqual(await reader().metricLabelValues('__name__', q), sqlite.metricLabelValues('__name__', q));
      t.deepEqual(sortSets(await reader().series(q)), sortSets(sqlite.series(q)));
    }
    t.deepEqual(await reader().logLabelValues('service', {}), ['api', 'batch', 'db', 'web']);
    t.deepEqual(await reader().logStats({}), sqlite.logStats({}));
    t.is((await reader().logStats({})).entries, LOG_COUNT);
  });
}

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

test('metric metadata: OpenSearch and the tiered reader (its hot tier) answer as SQLite, paged past one page; S3 keeps none', async (t) => {
  const queries = [
    {},
    { metric: 'family_010' },
    { metric: 'none' },
    { limit: 5 },
    { limit: 0 },
    { limitPerMetric: 1 },
    { limit: 120, limitPerMetric: 1 },
  ];
  for (const query of queries) {
    const want = sqlite.metricMetadata(query);
    t.deepEqual(await readers.opensearch.metricMetadata(query), want, `opensearch ${JSON.stringify(query)}`);
    t.deepEqual(await readers.tiered.metricMetadata(query), want, `tiered ${JSON.stringify(query)}`);
  }
  t.is(Object.keys(sqlite.metricMetadata({})).length, 150);
  t.deepEqual(
    sqlite.metricMetadata({ metric: 'family_010' }).family_010!.map((m) => m.help),
    ['Newer help 10.', 'Help 10.'],
  );
  t.deepEqual(await readers.s3.metricMetadata({}), {});
});
