import test from 'ava';
import type { LifecycleRule } from '@aws-sdk/client-s3';
import client from 'prom-client';
import { silentLogger } from '../common/log.js';
import { RuntimeMetrics } from '../common/metrics.js';
import { OpenSearchRetention, type IndexAdmin, type IndexInfo } from '../storage/opensearch/retention.js';
import { S3Retention, type BucketAdmin, type ListedObject } from '../storage/s3/retention.js';
import { createRetentionMetrics } from '../storage/retention-metrics.js';
import { RetentionLoop } from './retention.js';

const NOW = Date.parse('2026-11-27T03:20:00Z');
const DAY = 86_400_000;

function fakeIndices(names: string[]): IndexAdmin & { names: string[] } {
  const admin = {
    names,
    list: async (pattern: string): Promise<IndexInfo[]> =>
      admin.names.filter((n) => n.startsWith(pattern.slice(0, -1))).map((index) => ({ index, docs: 1, bytes: 5 })),
    delete: async (index: string) => {
      admin.names = admin.names.filter((n) => n !== index);
      return 'deleted' as const;
    },
  };
  return admin;
}

function fakeBucket(keys: string[]): BucketAdmin & { keys: Set<string> } {
  const bucket = {
    keys: new Set(keys),
    listPrefixes: async (prefix: string) => [
      ...new Set(
        [...bucket.keys]
          .filter((k) => k.startsWith(prefix) && k.indexOf('/', prefix.length) > 0)
          .map((k) => k.slice(0, k.indexOf('/', prefix.length) + 1)),
      ),
    ],
    listObjects: async (prefix: string): Promise<ListedObject[]> =>
      [...bucket.keys].filter((k) => k.startsWith(prefix)).map((key) => ({ key, size: 7 })),
    deleteObjects: async (ks: string[]) => {
      for (const k of ks) bucket.keys.delete(k);
      return [];
    },
    listUploads: async () => [],
    abortUpload: async () => undefined,
    getLifecycle: async (): Promise<LifecycleRule[]> => [],
    putLifecycle: async () => undefined,
  };
  return bucket;
}

test('a pass runs both tiers for each signal the policy names; metrics by tier, signal and kind', async (t) => {
  const metrics = new RuntimeMetrics();
  const m = createRetentionMetrics(metrics.registry);
  const log = silentLogger();
  const indices = fakeIndices(['p-logs-2026.11.20', 'p-logs-2026.11.27', 'p-metrics-2026.11.20', 'p-metrics-2026.11.26']);
  const bucket = fakeBucket([
    'c/logs/ns/pl/dt=2026-11-01/hour=00/p0-1-2.ndjson.gz',
    'c/logs/ns/pl/dt=2026-11-01/hour=00/p0-1-2.ndjson.gz.index.json',
    'c/logs/ns/pl/dt=2026-11-26/hour=00/p0-3-4.ndjson.gz',
    'c/logs/ns/pl/_journal/p0.json',
    'c/metrics/ns/pl/dt=2026-11-01/hour=00/p0-1-2.ndjson.gz',
  ]);
  const loop = new RetentionLoop({
    retention: { logs: { hot: DAY, cold: 10 * DAY }, metrics: { hot: 2 * DAY, cold: 0 }, interval: 60_000 },
    hot: new OpenSearchRetention(indices, 'p', m, log),
    cold: new S3Retention(bucket, { prefix: 'c', namespace: 'ns', pipeline: 'pl' }, m, log),
    metrics: m,
    log,
  });
  const summary = await loop.runOnce(NOW);
  t.deepEqual(summary, {
    hot: { indices: 2, documents: 2, bytes: 10, errors: 0 },
    cold: { objects: 1, indexObjects: 1, bytes: 14, uploads: 0, errors: 0 },
  });
  t.deepEqual(indices.names, ['p-logs-2026.11.27', 'p-metrics-2026.11.26']);
  t.deepEqual([...bucket.keys].sort(), [
    'c/logs/ns/pl/_journal/p0.json',
    'c/logs/ns/pl/dt=2026-11-26/hour=00/p0-3-4.ndjson.gz',
    'c/metrics/ns/pl/dt=2026-11-01/hour=00/p0-1-2.ndjson.gz',
  ]);
  const text = await metrics.registry.metrics();
  t.regex(text, /sextant_retention_deleted_total\{tier="hot",signal="logs",kind="indices"\} 1/);
  t.regex(text, /sextant_retention_deleted_total\{tier="hot",signal="metrics",kind="indices"\} 1/);
  t.regex(text, /sextant_retention_deleted_total\{tier="cold",signal="logs",kind="objects"\} 1/);
  t.regex(text, /sextant_retention_last_pass_timestamp_seconds\{tier="cold"\} \d+/);
});

test('concurrent runOnce calls share one pass; stop waits for it; no policy and no sink means no loop', async (t) => {
  const registry = new client.Registry();
  const m = createRetentionMetrics(registry);
  const log = silentLogger();
  let lists = 0;
  const admin: IndexAdmin = {
    list: async () => {
      lists++;
      await new Promise((r) => setTimeout(r, 20));
      return [];
    },
    delete: async () => 'deleted',
  };
  const loop = new RetentionLoop({
    retention: { logs: { hot: DAY, cold: 0 }, metrics: undefined, interval: 60_000 },
    hot: new OpenSearchRetention(admin, 'p', m, log),
    metrics: m,
    log,
  });
  const [a, b] = [loop.runOnce(NOW), loop.runOnce(NOW)];
  t.is(a, b);
  await loop.stop();
  t.is(lists, 1, 'one pass, and only logs have a hot policy to list for');
  const idle = new RetentionLoop({ retention: { logs: undefined, metrics: undefined, interval: 60_000 }, metrics: m, log });
  t.false(idle.active);
});

test('start runs passes on the interval until stop; a failing tier is counted and the loop goes on', async (t) => {
  const registry = new client.Registry();
  const m = createRetentionMetrics(registry);
  const log = silentLogger();
  let lists = 0;
  let secondPass!: () => void;
  const reachedSecond = new Promise<void>((resolve) => (secondPass = resolve));
  const admin: IndexAdmin = {
    list: async () => {
      lists++;
      if (lists === 2) secondPass();
      throw new Error('connection refused');
    },
    delete: async () => 'deleted',
  };
  const loop = new RetentionLoop({
    retention: { logs: { hot: DAY, cold: 0 }, metrics: undefined, interval: 1_000 },
    hot: new OpenSearchRetention(admin, 'p', m, log),
    metrics: m,
    log,
  });
  // The loop's timer is unref'd (it must not keep a stopping process alive); this one keeps the test's.
  const keepAlive = setInterval(() => undefined, 100);
  t.teardown(() => clearInterval(keepAlive));
  loop.start();
  await reachedSecond;
  await loop.stop();
  const after = lists;
  const errors = await registry.getSingleMetric('sextant_retention_errors_total')!.get();
  t.true(errors.values.some((v) => v.labels.operation === 'list' && v.value >= 2));
  t.is(
    await registry
      .getSingleMetric('sextant_retention_last_pass_timestamp_seconds')!
      .get()
      .then((g) => g.values.length),
    0,
    'no pass completed cleanly',
  );
  // Stopped: no timer left to run another pass (the test process would also hang on a ref'd one).
  await new Promise((r) => setTimeout(r, 1_500));
  t.is(lists, after);
});

/** An index admin whose list() blocks until released, counting its calls by pattern. */
function gatedIndices(names: string[]) {
  const calls: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let listed!: () => void;
  const firstList = new Promise<void>((r) => (listed = r));
  const admin: IndexAdmin = {
    list: async (pattern) => {
      calls.push(pattern);
      listed();
      await gate;
      return names.filter((n) => n.startsWith(pattern.slice(0, -1))).map((index) => ({ index, docs: 1, bytes: 5 }));
    },
    delete: async () => 'deleted',
  };
  return {
    admin,
    calls,
    firstList,
    open: () => release(),
  };
}

async function gauge(registry: client.Registry, name: string): Promise<number | undefined> {
  return (await registry.getSingleMetric(name)?.get())?.values[0]?.value;
}

test('a replica that is not elected runs no pass until setRunner(true); the gauge says which one runs', async (t) => {
  const registry = new client.Registry();
  const m = createRetentionMetrics(registry);
  const indices = gatedIndices(['p-logs-2026.11.01', 'p-metrics-2026.11.01']);
  indices.open();
  const loop = new RetentionLoop({
    retention: { logs: { hot: DAY, cold: 0 }, metrics: { hot: DAY, cold: 0 }, interval: 3_600_000 },
    hot: new OpenSearchRetention(indices.admin, 'p', m, silentLogger()),
    metrics: m,
    log: silentLogger(),
    elected: false,
    handOverMs: 30,
  });
  const keepAlive = setInterval(() => undefined, 100);
  t.teardown(() => clearInterval(keepAlive));
  loop.start();
  t.is(await gauge(registry, 'sextant_retention_runner'), 0);
  t.false(loop.runner);
  // Elected: the first pass starts at once (this replica never ran one), one list per signal.
  loop.setRunner(true, 'holds partition 0');
  t.is(await gauge(registry, 'sextant_retention_runner'), 1);
  await indices.firstList;
  while (indices.calls.length < 2) await new Promise((r) => setTimeout(r, 5));
  t.deepEqual(indices.calls, ['p-logs-*', 'p-metrics-*']);
  // Elected again (a rebalance that left it the holder): the cadence stays, no extra pass.
  loop.setRunner(false, 'rebalancing');
  loop.setRunner(true, 'holds partition 0');
  await new Promise((r) => setTimeout(r, 50));
  t.is(indices.calls.length, 2);
  await loop.stop();
  t.is(await gauge(registry, 'sextant_retention_runner'), 1);
});

test('a pass stops before its next deletion when the role moves to another replica', async (t) => {
  const registry = new client.Registry();
  const m = createRetentionMetrics(registry);
  const lists: string[] = [];
  const deleted: string[] = [];
  const admin: IndexAdmin = {
    list: async (pattern) => {
      lists.push(pattern);
      return ['p-logs-2026.11.01', 'p-logs-2026.11.02'].map((index) => ({ index, docs: 1, bytes: 5 }));
    },
    delete: async (index) => {
      deleted.push(index);
      // The rebalance is noticed while this deletion is in flight.
      loop.setRunner(false, 'another member holds partition 0');
      return 'deleted';
    },
  };
  const loop: RetentionLoop = new RetentionLoop({
    retention: { logs: { hot: DAY, cold: 0 }, metrics: { hot: DAY, cold: 0 }, interval: 3_600_000 },
    hot: new OpenSearchRetention(admin, 'p', m, silentLogger()),
    metrics: m,
    log: silentLogger(),
  });
  const summary = await loop.runOnce(NOW);
  t.is(summary.hot.indices, 1, 'the deletion in flight is counted, the next one is not sent');
  t.deepEqual(deleted, ['p-logs-2026.11.01']);
  t.deepEqual(lists, ['p-logs-*'], 'the next signal is not touched');
  t.is(await gauge(registry, 'sextant_retention_runner'), 0);
  const counted = await registry.getSingleMetric('sextant_retention_deleted_total')!.get();
  t.deepEqual(
    counted.values.map((v) => [v.labels.kind, v.value]),
    [
      ['indices', 1],
      ['records', 1],
      ['bytes', 5],
    ],
  );
});

test('the embedded store and the processor share one label set for sextant_retention_deleted_total', async (t) => {
  const metrics = new RuntimeMetrics();
  metrics.retentionDeleted.inc({ tier: 'embedded', signal: 'logs', kind: 'records' }, 3);
  createRetentionMetrics(metrics.registry).deleted('hot', 'logs', 'records', 2);
  const text = await metrics.registry.metrics();
  t.regex(text, /sextant_retention_deleted_total\{tier="embedded",signal="logs",kind="records"\} 3/);
  t.regex(text, /sextant_retention_deleted_total\{tier="hot",signal="logs",kind="records"\} 2/);
});
