import test from 'ava';
import type { LifecycleRule } from '@aws-sdk/client-s3';
import bunyan from 'bunyan';
import client from 'prom-client';
import { silentLogger, type Logger } from '../../common/log.js';
import { createRetentionMetrics } from '../retention-metrics.js';
import { indexKey, journalKey, objectKey, type PipelineLocation } from './layout.js';
import {
  dayOf,
  DELETE_BATCH,
  hourOf,
  LifecycleUnsupported,
  lifecycleRule,
  mergeLifecycle,
  partitionEnd,
  S3Retention,
  type BucketAdmin,
  type ListedObject,
  type ListedUpload,
} from './retention.js';

const NOW = Date.parse('2026-11-27T03:20:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const loc: PipelineLocation = { prefix: 'archive/', signal: 'logs', namespace: 'team-a', pipeline: 'api' };

/** An in-memory bucket with S3's listing semantics (sorted keys, delimiter, pages of `pageSize`). */
class FakeBucket implements BucketAdmin {
  readonly objects = new Map<string, number>();
  readonly deleteCalls: string[][] = [];
  refuse = new Set<string>();
  lifecycle: LifecycleRule[] | 'unsupported' = [];
  lifecycleGets = 0;
  lifecyclePuts: LifecycleRule[][] = [];
  uploads: ListedUpload[] = [];

  async listPrefixes(prefix: string): Promise<string[]> {
    const out = new Set<string>();
    for (const key of [...this.objects.keys()].sort()) {
      if (!key.startsWith(prefix)) continue;
      const slash = key.indexOf('/', prefix.length);
      if (slash >= 0) out.add(key.slice(0, slash + 1));
    }
    return [...out];
  }
  async listObjects(prefix: string): Promise<ListedObject[]> {
    return [...this.objects.entries()]
      .filter(([k]) => k.startsWith(prefix))
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([key, size]) => ({ key, size }));
  }
  async deleteObjects(keys: string[]): Promise<{ key: string; reason: string }[]> {
    if (keys.length > DELETE_BATCH) throw new Error(`MalformedXML: ${keys.length} keys`);
    this.deleteCalls.push(keys);
    const refused = keys.filter((k) => this.refuse.has(k));
    for (const k of keys) if (!this.refuse.has(k)) this.objects.delete(k);
    return refused.map((key) => ({ key, reason: 'AccessDenied: Access Denied' }));
  }
  async listUploads(prefix: string): Promise<ListedUpload[]> {
    return this.uploads.filter((u) => u.key.startsWith(prefix));
  }
  async abortUpload(key: string, uploadId: string): Promise<void> {
    this.uploads = this.uploads.filter((u) => u.key !== key || u.uploadId !== uploadId);
  }
  async getLifecycle(): Promise<LifecycleRule[]> {
    this.lifecycleGets++;
    if (this.lifecycle === 'unsupported') throw new LifecycleUnsupported('NotImplemented');
    return this.lifecycle;
  }
  async putLifecycle(rules: LifecycleRule[]): Promise<void> {
    this.lifecyclePuts.push(rules);
    this.lifecycle = rules;
  }
}

/** Puts one object (+ sidecar) per given hour start, of `size` bytes (sidecar 10). */
function fill(bucket: FakeBucket, l: PipelineLocation, hours: number[], partitions = 1): string[] {
  const keys: string[] = [];
  for (const h of hours) {
    for (let p = 0; p < partitions; p++) {
      const key = objectKey({ ...l, hourStartMs: h, partition: p, firstOffset: 0n, lastOffset: 9n });
      bucket.objects.set(key, 100);
      bucket.objects.set(indexKey(key), 10);
      keys.push(key);
    }
  }
  return keys;
}

async function metricValues(registry: client.Registry, name: string): Promise<Record<string, number>> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return {};
  const out: Record<string, number> = {};
  for (const v of (await metric.get()).values) out[Object.values(v.labels).join(',')] = v.value;
  return out;
}

function setup(log: Logger = silentLogger()) {
  const registry = new client.Registry();
  const bucket = new FakeBucket();
  const retention = new S3Retention(
    bucket,
    { prefix: 'archive/', namespace: 'team-a', pipeline: 'api' },
    createRetentionMetrics(registry),
    log,
  );
  return { registry, bucket, retention };
}

test('dayOf/hourOf parse partition segments and nothing else', (t) => {
  t.is(dayOf('dt=2026-11-26/'), Date.parse('2026-11-26T00:00:00Z'));
  t.is(dayOf('dt=2026-02-30/'), undefined);
  t.is(dayOf('_journal/'), undefined);
  t.is(hourOf('hour=23/'), 23);
  t.is(hourOf('hour=24/'), undefined);
  t.is(hourOf('hour=1/'), undefined);
});

test('sweep: whole days before the cutoff, hour by hour on the cutoff day, exact counts; newer data and the journal stay', async (t) => {
  const { registry, bucket, retention } = setup();
  const day25 = Date.parse('2026-11-25T00:00:00Z');
  const day27 = Date.parse('2026-11-27T00:00:00Z');
  fill(bucket, loc, [day25, day25 + 5 * HOUR, day25 + 23 * HOUR], 2); // 6 objects
  const day26 = fill(bucket, loc, [day27 - 2 * HOUR, day27 - HOUR]); // 22:00, 23:00 on the 26th
  const today = fill(bucket, loc, [day27, day27 + HOUR, day27 + 2 * HOUR, day27 + 3 * HOUR]);
  bucket.objects.set(journalKey(loc, 0), 50);
  const metrics = fill(bucket, { ...loc, signal: 'metrics' }, [day25]);
  const otherPipeline = fill(bucket, { ...loc, pipeline: 'web' }, [day25]);

  // cold = 2h10m → cutoff 01:10 on the 27th: hours 00:00-01:00 of the 27th ended at 01:00.
  const r = await retention.sweep('logs', 2 * HOUR + 10 * 60_000, NOW);
  t.deepEqual(r, { objects: 9, indexObjects: 9, bytes: 9 * 110, uploads: 0, errors: 0 });
  const left = [...bucket.objects.keys()];
  for (const k of [...today.slice(1), ...metrics, ...otherPipeline, journalKey(loc, 0)]) t.true(left.includes(k), k);
  for (const k of [...day26, today[0]!]) t.false(left.includes(k), k);
  t.is(left.length, 3 * 2 + 2 + 2 + 1);
  t.deepEqual(await metricValues(registry, 'sextant_retention_deleted_total'), {
    'cold,logs,objects': 9,
    'cold,logs,index_objects': 9,
    'cold,logs,bytes': 990,
  });
  // A second pass finds nothing more: idempotent.
  t.deepEqual(await retention.sweep('logs', 2 * HOUR + 10 * 60_000, NOW), { objects: 0, indexObjects: 0, bytes: 0, uploads: 0, errors: 0 });
});

test('sweep: sidecars go before their objects, in DeleteObjects batches of at most 1000', async (t) => {
  const { bucket, retention } = setup();
  const day = Date.parse('2026-11-01T00:00:00Z');
  fill(bucket, loc, [day], 700); // 1,400 keys in one hour
  const r = await retention.sweep('logs', HOUR, NOW);
  t.is(r.objects, 700);
  t.is(r.indexObjects, 700);
  t.deepEqual(
    bucket.deleteCalls.map((c) => c.length),
    [1000, 400],
  );
  t.true(bucket.deleteCalls[0]!.slice(0, 700).every((k) => k.endsWith('.index.json')));
  t.true(bucket.deleteCalls[0]!.slice(700).every((k) => k.endsWith('.ndjson.gz')));
  t.is(bucket.objects.size, 0);
});

test('sweep: keys S3 refuses are errors, not counted, and retried by the next pass; cold 0 keeps forever', async (t) => {
  const { registry, bucket, retention } = setup();
  const [key] = fill(bucket, loc, [Date.parse('2026-11-01T00:00:00Z')]);
  t.deepEqual(await retention.sweep('logs', 0, NOW), { objects: 0, indexObjects: 0, bytes: 0, uploads: 0, errors: 0 });
  t.is(bucket.objects.size, 2);
  bucket.refuse.add(key!);
  t.deepEqual(await retention.sweep('logs', HOUR, NOW), { objects: 0, indexObjects: 1, bytes: 10, uploads: 0, errors: 1 });
  t.deepEqual(await metricValues(registry, 'sextant_retention_errors_total'), { 'cold,logs,delete': 1 });
  bucket.refuse.clear();
  t.deepEqual(await retention.sweep('logs', HOUR, NOW), { objects: 1, indexObjects: 0, bytes: 100, uploads: 0, errors: 0 });
  t.is(bucket.objects.size, 0);
});

test('lifecycle rule: prefix ends in dt= so the journal is outside it; one extra day for creation-time counting', (t) => {
  t.deepEqual(lifecycleRule(loc, 90 * 86_400_000), {
    ID: 'sextant:team-a/api/logs',
    Status: 'Enabled',
    Filter: { Prefix: 'archive/logs/team-a/api/dt=' },
    Expiration: { Days: 91 },
    AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
  });
  t.is(lifecycleRule(loc, 90_000).Expiration?.Days, 2, 'under a day: the sweeper is exact, the rule a backstop');
  t.false(journalKey(loc, 0).startsWith(lifecycleRule(loc, 86_400_000).Filter!.Prefix!));
});

test('mergeLifecycle keeps other rules, replaces ours, and reports no change when there is none', (t) => {
  const foreign: LifecycleRule = { ID: 'tmp-cleanup', Status: 'Enabled', Filter: { Prefix: 'tmp/' }, Expiration: { Days: 1 } };
  const ours = lifecycleRule(loc, 7 * 86_400_000);
  t.deepEqual(mergeLifecycle([foreign], ours.ID!, ours), [foreign, ours]);
  t.is(mergeLifecycle([foreign, ours], ours.ID!, lifecycleRule(loc, 7 * 86_400_000)), undefined);
  t.deepEqual(mergeLifecycle([ours, foreign], ours.ID!, lifecycleRule(loc, 30 * 86_400_000)), [
    foreign,
    lifecycleRule(loc, 30 * 86_400_000),
  ]);
  t.deepEqual(mergeLifecycle([ours, foreign], ours.ID!, undefined), [foreign]);
  t.is(mergeLifecycle([foreign], ours.ID!, undefined), undefined);
});

test('reconcileLifecycle puts, updates and removes our rule; an unsupported server is detected once', async (t) => {
  const { registry, bucket, retention } = setup();
  const foreign: LifecycleRule = { ID: 'tmp-cleanup', Status: 'Enabled', Filter: { Prefix: 'tmp/' }, Expiration: { Days: 1 } };
  bucket.lifecycle = [foreign];
  await retention.reconcileLifecycle('logs', 7 * 86_400_000);
  await retention.reconcileLifecycle('logs', 7 * 86_400_000);
  t.is(bucket.lifecyclePuts.length, 1, 'an unchanged rule is not put again');
  t.deepEqual(bucket.lifecycle, [foreign, lifecycleRule(loc, 7 * 86_400_000)]);
  await retention.reconcileLifecycle('logs', 0);
  t.deepEqual(bucket.lifecycle, [foreign]);
  t.true(retention.lifecycle);

  const warnings: string[] = [];
  const ring = new bunyan.RingBuffer({ limit: 100 });
  const other = setup(bunyan.createLogger({ name: 't', streams: [{ level: 'warn', type: 'raw', stream: ring }] }));
  other.bucket.lifecycle = 'unsupported';
  // No cold policy for logs: nothing to warn about yet; metrics wants a rule: one warning, once.
  await other.retention.reconcileLifecycle('logs', 0);
  t.is(ring.records.length, 0);
  for (let pass = 0; pass < 3; pass++) {
    await other.retention.reconcileLifecycle('logs', 0);
    await other.retention.reconcileLifecycle('metrics', 86_400_000);
  }
  for (const r of ring.records as { msg: string }[]) warnings.push(r.msg);
  t.deepEqual(warnings, ['retention: cannot use bucket lifecycle rules; the sweeper alone enforces cold retention']);
  t.is(other.bucket.lifecycleGets, 1, 'asked once, then the sweeper alone');
  t.false(other.retention.lifecycle);
  t.deepEqual(await metricValues(other.registry, 'sextant_retention_errors_total'), {}, 'unsupported is not an error');
  t.deepEqual(await metricValues(registry, 'sextant_retention_errors_total'), {});
});

test('sweep: abandoned multipart uploads in expired partitions are aborted; young ones and newer partitions are left', async (t) => {
  const { registry, bucket, retention } = setup();
  const old = objectKey({ ...loc, hourStartMs: Date.parse('2026-11-20T05:00:00Z'), partition: 0, firstOffset: 0n, lastOffset: 9n });
  const current = objectKey({ ...loc, hourStartMs: Date.parse('2026-11-27T03:00:00Z'), partition: 0, firstOffset: 0n, lastOffset: 9n });
  bucket.uploads = [
    { key: old, uploadId: 'abandoned', initiatedMs: NOW - 2 * HOUR },
    { key: old, uploadId: 'live', initiatedMs: NOW - 60_000 }, // late data being written right now
    { key: current, uploadId: 'current', initiatedMs: NOW - 5 * HOUR },
  ];
  const r = await retention.sweep('logs', DAY, NOW);
  t.is(r.uploads, 1);
  t.deepEqual(
    bucket.uploads.map((u) => u.uploadId),
    ['live', 'current'],
  );
  t.deepEqual(await metricValues(registry, 'sextant_retention_deleted_total'), { 'cold,logs,uploads': 1 });
});

test('partitionEnd: the end of the hour partition of a key below the pipeline prefix', (t) => {
  t.is(partitionEnd('a/logs/ns/p/', 'a/logs/ns/p/dt=2026-11-26/hour=23/p0-1-2.ndjson.gz'), Date.parse('2026-11-27T00:00:00Z'));
  t.is(partitionEnd('a/logs/ns/p/', 'a/logs/ns/p/_journal/p0.json'), undefined);
  t.is(partitionEnd('a/logs/ns/p/', 'b/logs/ns/p/dt=2026-11-26/hour=23/x'), undefined);
});

test('sweep: when proceed() turns false (the retention role moved) no further DeleteObjects batch is sent or counted', async (t) => {
  const { registry, bucket, retention } = setup();
  const day25 = Date.parse('2026-11-25T00:00:00Z');
  // One expired day of 601 objects + 601 sidecars: two batches, sidecars first.
  fill(bucket, loc, [day25], 600);
  fill(bucket, loc, [day25 + HOUR]);
  // The role moves while the first batch is in flight.
  const r = await retention.sweep('logs', DAY, NOW, () => bucket.deleteCalls.length === 0);
  t.is(bucket.deleteCalls.length, 1, 'the first batch only');
  t.deepEqual(r, { objects: 399, indexObjects: 601, bytes: 399 * 100 + 601 * 10, uploads: 0, errors: 0 });
  t.is(bucket.objects.size, 1202 - DELETE_BATCH);
  t.deepEqual(await metricValues(registry, 'sextant_retention_deleted_total'), {
    'cold,logs,objects': 399,
    'cold,logs,index_objects': 601,
    'cold,logs,bytes': 399 * 100 + 601 * 10,
  });
});
