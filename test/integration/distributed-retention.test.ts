/**
 * Retention of the distributed tiers on the real servers (OpenSearch 2.19, s3proxy):
 *
 * 1. The enforcers in process with a controlled clock and second-level durations: hourly
 *    and daily indices, hour and day partitions in S3, each deleted exactly when its newest
 *    possible timestamp passes now − retention (to the millisecond), DeleteObjects batches
 *    of 1000 against the real server, the journal and newer data untouched, exact metrics.
 * 2. `sextant processor` with a retention section: data written through ingestion → Kafka →
 *    processor with timestamps days old, plus S3 objects in the cold layout; the processor's
 *    loop deletes exactly the expired indices and partitions, keeps the rest, and reports
 *    exact counts on /metrics. s3proxy has no lifecycle API: the fallback is logged once.
 * 3. Two processors of one pipeline: exactly one is the retention runner (it holds partition 0
 *    of the first topic in its group), the deleted counters summed over both equal what
 *    expired and the other counts nothing; after a SIGKILL of the runner the group
 *    rebalances and the survivor takes retention over, counting exactly the next expired set.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Client } from '@opensearch-project/opensearch';
import client from 'prom-client';
import { silentLogger } from '../../runtime/src/common/log.js';
import { createRetentionMetrics } from '../../runtime/src/storage/retention-metrics.js';
import { partitionIndex, type IndexPartition } from '../../runtime/src/storage/opensearch/documents.js';
import { indexAdmin, OpenSearchRetention } from '../../runtime/src/storage/opensearch/retention.js';
import { hourStart, indexKey, journalKey, objectKey, pipelinePrefix, type PipelineLocation } from '../../runtime/src/storage/s3/layout.js';
import { bucketAdmin, S3Retention } from '../../runtime/src/storage/s3/retention.js';
import { startRuntime, type RuntimeProcess } from '../support/runtime-process.js';
import { countDocs, osRequest, postJson, waitFor } from '../support/distributed.js';
import { infraVar } from './helpers/infra-env.js';
import { s3ClientForS3Proxy } from './helpers/s3.js';

const API_KEY = 'it-retention-key';
const BUCKET = 'sextant-retention-it';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const opensearchUrl = () => infraVar('OPENSEARCH_URL');

let s3: S3Client;
test.before(async () => {
  s3 = s3ClientForS3Proxy({
    endpoint: infraVar('S3_ENDPOINT'),
    region: infraVar('S3_REGION'),
    forcePathStyle: true,
    credentials: { accessKeyId: infraVar('S3_ACCESS_KEY_ID'), secretAccessKey: infraVar('S3_SECRET_ACCESS_KEY') },
  });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET })).catch((error: { name?: string }) => {
    if (error.name !== 'BucketAlreadyOwnedByYou' && error.name !== 'BucketAlreadyExists') throw error;
  });
});

async function indicesOf(prefix: string): Promise<string[]> {
  const rows = await osRequest<{ index: string }[]>('GET', `/_cat/indices/${prefix}-*?format=json&h=index&expand_wildcards=all`);
  return rows.map((r) => r.index).sort();
}

async function listKeys(prefix: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) out.set(o.Key!, o.Size ?? 0);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return out;
}

/** Puts `count` objects (gzip NDJSON) plus sidecars in the hour of `hourMs`; returns their keys and bytes. */
async function putHour(
  loc: PipelineLocation,
  hourMs: number,
  count: number,
  firstPartition = 0,
): Promise<{ keys: string[]; bytes: number }> {
  const keys: string[] = [];
  let bytes = 0;
  const jobs: (() => Promise<void>)[] = [];
  for (let i = 0; i < count; i++) {
    const key = objectKey({ ...loc, hourStartMs: hourStart(hourMs), partition: firstPartition + i, firstOffset: 0n, lastOffset: 9n });
    const body = gzipSync(`{"message":"object ${i}"}\n`);
    const sidecar = Buffer.from(JSON.stringify({ version: 1, key }));
    keys.push(key, indexKey(key));
    bytes += body.length + sidecar.length;
    jobs.push(async () => {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: indexKey(key), Body: sidecar }));
    });
  }
  for (let i = 0; i < jobs.length; i += 16) await Promise.all(jobs.slice(i, i + 16).map((j) => j()));
  return { keys, bytes };
}

async function metricValues(registry: client.Registry, name: string): Promise<Record<string, number>> {
  const metric = registry.getSingleMetric(name);
  const out: Record<string, number> = {};
  for (const v of metric ? (await metric.get()).values : []) out[Object.values(v.labels).join(',')] = v.value;
  return out;
}

/** `name{labels} value` lines of a Prometheus text exposition, as `labels → value`. */
function scrape(text: string, name: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`).exec(line);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

const cleanups: (() => Promise<unknown>)[] = [];
test.afterEach.always(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

test.serial('enforcers on the real servers: deletion exactly when the newest possible timestamp passes now − 90 s', async (t) => {
  const id = `ret-${randomBytes(4).toString('hex')}`;
  const osClient = new Client({ node: opensearchUrl() });
  cleanups.push(
    () => osRequest('DELETE', `/${id}-*`),
    () => osClient.close(),
  );
  const H = hourStart(Date.now());
  const name = (ms: number, hourly: boolean) => {
    const iso = new Date(ms).toISOString();
    return `${id}-logs-${iso.slice(0, 4)}.${iso.slice(5, 7)}.${iso.slice(8, 10)}${hourly ? `.${iso.slice(11, 13)}` : ''}`;
  };
  // Two days back (daily), hours H-3..H (hourly); 2 documents each, another signal's index too.
  const hot = [name(H - 2 * DAY, false), name(H - 3 * HOUR, true), name(H - 2 * HOUR, true), name(H - HOUR, true), name(H, true)];
  const foreign = `${id}-metrics-${name(H - 2 * DAY, false).slice(-10)}`;
  let bulk = '';
  for (const index of [...hot, foreign]) for (let i = 0; i < 2; i++) bulk += `{"index":{"_index":"${index}"}}\n{"message":"doc ${i}"}\n`;
  const indexed = await osRequest<{ errors: boolean }>('POST', '/_bulk?refresh=true', bulk);
  t.false(indexed.errors);

  const registry = new client.Registry();
  const metrics = createRetentionMetrics(registry);
  const retention = new OpenSearchRetention(indexAdmin(osClient), id, metrics, silentLogger());
  const hotMs = 90_000;
  // now − 90 s = H − 1 h: the daily index and hours H-3, H-2 (ending at H-1h) have expired.
  t.like(await retention.enforce('logs', hotMs, H - HOUR + hotMs), { indices: 3, documents: 6, errors: 0 });
  t.deepEqual(await indicesOf(id), [foreign, hot[3], hot[4]].sort());
  // Hour H-1 ends at H: kept at H + 90 s − 1 ms, deleted at H + 90 s.
  t.like(await retention.enforce('logs', hotMs, H + hotMs - 1), { indices: 0 });
  t.like(await retention.enforce('logs', hotMs, H + hotMs), { indices: 1, documents: 2 });
  t.deepEqual(await indicesOf(id), [foreign, hot[4]].sort(), 'the current hour and the other signal stay');
  t.is(await indexAdmin(osClient).delete(hot[0]!), 'missing', 'an index another replica deleted first is told apart');
  t.is(await countDocs(id, 'logs'), 2);
  const deleted = await metricValues(registry, 'sextant_retention_deleted_total');
  t.is(deleted['hot,logs,indices'], 4);
  t.is(deleted['hot,logs,records'], 8);
  t.true(deleted['hot,logs,bytes']! > 0, 'bytes as OpenSearch reports the store size');

  // S3: hours H-3..H in the cold layout, 600 objects in hour H-3 (1,200 keys: two DeleteObjects batches).
  const loc: PipelineLocation = { prefix: `${id}/cold`, signal: 'logs', namespace: 'it', pipeline: id };
  const base = pipelinePrefix(loc);
  cleanups.push(async () => {
    const left = await listKeys(`${id}/`);
    if (left.size > 0) await bucketAdmin(s3, BUCKET).deleteObjects([...left.keys()]);
  });
  const h3 = await putHour(loc, H - 3 * HOUR, 600);
  const h2 = await putHour(loc, H - 2 * HOUR, 2);
  const h1 = await putHour(loc, H - HOUR, 2);
  const h0 = await putHour(loc, H, 2);
  const other = await putHour({ ...loc, pipeline: `${id}-other` }, H - 3 * HOUR, 1);
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: journalKey(loc, 0), Body: '{"partition":0}' }));
  // A multipart upload left in an expired hour (a crashed writer); it is young until the last pass.
  const upload = await s3.send(
    new CreateMultipartUploadCommand({
      Bucket: BUCKET,
      Key: objectKey({ ...loc, hourStartMs: hourStart(H - 3 * HOUR), partition: 99, firstOffset: 0n, lastOffset: 1n }),
    }),
  );
  const cold = new S3Retention(bucketAdmin(s3, BUCKET), { prefix: loc.prefix, namespace: 'it', pipeline: id }, metrics, silentLogger());
  const coldMs = 90_000;

  t.deepEqual(await cold.sweep('logs', coldMs, H - HOUR + coldMs), {
    objects: 602,
    indexObjects: 602,
    bytes: h3.bytes + h2.bytes,
    uploads: 0,
    errors: 0,
  });
  let left = await listKeys(base);
  t.deepEqual([...left.keys()].sort(), [...h1.keys, ...h0.keys, journalKey(loc, 0)].sort());
  t.deepEqual(await cold.sweep('logs', coldMs, H + coldMs - 1), { objects: 0, indexObjects: 0, bytes: 0, uploads: 0, errors: 0 });
  t.deepEqual(await cold.sweep('logs', coldMs, H + coldMs), { objects: 2, indexObjects: 2, bytes: h1.bytes, uploads: 0, errors: 0 });
  left = await listKeys(base);
  t.deepEqual([...left.keys()].sort(), [...h0.keys, journalKey(loc, 0)].sort(), 'the current hour and the journal stay');
  t.is((await listKeys(pipelinePrefix({ ...loc, pipeline: `${id}-other` }))).size, other.keys.length, "another pipeline's objects stay");
  const after = await metricValues(registry, 'sextant_retention_deleted_total');
  t.is(after['cold,logs,objects'], 604);
  t.is(after['cold,logs,index_objects'], 604);
  t.is(after['cold,logs,bytes'], h3.bytes + h2.bytes + h1.bytes);
  t.deepEqual(await metricValues(registry, 'sextant_retention_errors_total'), {});

  t.is((await bucketAdmin(s3, BUCKET).listUploads(base)).length, 1, 'a young upload is left alone');

  // Two hours later everything has expired; the upload is an hour old and abandoned.
  const later = Date.now() + 2 * HOUR;
  t.deepEqual(await cold.sweep('logs', coldMs, later), { objects: 2, indexObjects: 2, bytes: h0.bytes, uploads: 1, errors: 0 });
  t.deepEqual([...(await listKeys(base)).keys()], [journalKey(loc, 0)], 'only the journal is left');
  t.deepEqual(await bucketAdmin(s3, BUCKET).listUploads(base), []);
  t.truthy(upload.UploadId);
  t.is((await metricValues(registry, 'sextant_retention_deleted_total'))['cold,logs,uploads'], 1);

  await cold.reconcileLifecycle('logs', coldMs);
  t.false(cold.lifecycle, 's3proxy has no lifecycle API: detected, the sweeper alone enforces');
});

interface Runtime {
  id: string;
  dir: string;
  config: Record<string, unknown>;
  processes: RuntimeProcess[];
}

function runtimeConfig(id: string, partition: IndexPartition, retention?: unknown): Record<string, unknown> {
  return {
    pipeline: { namespace: 'it', name: id },
    http: { port: 0 },
    kafka: {
      brokers: infraVar('KAFKA_BROKERS').split(','),
      clientId: id,
      topics: { partitions: 2, replicationFactor: 1 },
      consumer: { sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000 },
    },
    sinks: {
      opensearch: { endpoints: [opensearchUrl()], indexPrefix: id, indexPartition: partition },
      s3: {
        bucket: BUCKET,
        prefix: `${id}/cold`,
        endpoint: infraVar('S3_ENDPOINT'),
        region: infraVar('S3_REGION'),
        forcePathStyle: true,
        accessKeyId: { env: 'IT_S3_ACCESS_KEY_ID' },
        secretAccessKey: { env: 'IT_S3_SECRET_ACCESS_KEY' },
        requestChecksumCalculation: 'WHEN_REQUIRED',
        flush: { maxAge: '1s' },
      },
    },
    ...(retention === undefined ? {} : { retention }),
  };
}

async function startWith(r: Runtime, component: 'ingestion' | 'processor', config: Record<string, unknown>): Promise<RuntimeProcess> {
  const file = path.join(r.dir, `${component}-${r.processes.length}.json`);
  fs.writeFileSync(file, JSON.stringify(config, null, 2));
  const p = await startRuntime(component, file, {
    SEXTANT_API_KEYS: API_KEY,
    SEXTANT_LOG_LEVEL: 'info',
    IT_S3_ACCESS_KEY_ID: infraVar('S3_ACCESS_KEY_ID'),
    IT_S3_SECRET_ACCESS_KEY: infraVar('S3_SECRET_ACCESS_KEY'),
  });
  r.processes.push(p);
  return p;
}

/** End of the hour partition a cold-tier key lives in; undefined for the journal. */
function partitionEnd(key: string): number | undefined {
  const m = /\/dt=(\d{4}-\d{2}-\d{2})\/hour=(\d{2})\//.exec(key);
  return m ? Date.parse(`${m[1]}T${m[2]}:00:00Z`) + HOUR : undefined;
}

/** A fresh pipeline id and runtime folder; its indices, objects and processes are removed after the test. */
function newRuntime(): Runtime {
  const id = `ret-${randomBytes(4).toString('hex')}`;
  const r: Runtime = { id, dir: fs.mkdtempSync(path.join(os.tmpdir(), 'sextant-retention-')), config: {}, processes: [] };
  cleanups.push(
    () => osRequest('DELETE', `/${id}-*`),
    async () => {
      const left = await listKeys(`${id}/`);
      if (left.size > 0) for (const batch of chunk([...left.keys()], 1000)) await bucketAdmin(s3, BUCKET).deleteObjects(batch);
    },
    async () => {
      for (const p of r.processes) await p.kill();
    },
  );
  return r;
}

/**
 * Both index partitions: with hourly indices, logs 2 h old are expired too (with daily ones
 * they share today's index, which must stay).
 */
const processorRetention = test.macro({
  exec: async (t, partition: IndexPartition) => {
    const r = newRuntime();
    const { id } = r;
    const policy = { logs: { hot: '5m', cold: '10m' }, metrics: { hot: '5m', cold: '10m' }, interval: '2s' };

    // Phase 1, no retention: data days old and current through ingestion → Kafka → both sinks.
    const ingestion = await startWith(r, 'ingestion', runtimeConfig(id, partition));
    let processor = await startWith(r, 'processor', runtimeConfig(id, partition));
    const twoHoursOld = partition === 'hourly' ? 15 : 0;
    const now = Date.now();
    const logAt = (ms: number, n: number, tag: string) =>
      Array.from({ length: n }, (_, i) => ({
        timestamp: String(BigInt(ms) * 1_000_000n + BigInt(i)),
        labels: { age: tag },
        message: `${tag} ${i}`,
      }));
    await postJson(
      ingestion.url,
      '/api/v1/logs',
      {
        entries: [
          ...logAt(now - 3 * DAY, 30, '3d'),
          ...logAt(now - 2 * DAY, 20, '2d'),
          ...logAt(now - 2 * HOUR, twoHoursOld, '2h'),
          ...logAt(now, 25, 'now'),
        ],
      },
      API_KEY,
    );
    const sampleAt = (ms: number, n: number, tag: string) =>
      Array.from({ length: n }, (_, i) => ({ name: 'it_up', labels: { age: tag, i: String(i) }, timestamp: ms, value: i }));
    await postJson(
      ingestion.url,
      '/api/v1/metrics',
      { samples: [...sampleAt(now - 4 * DAY, 10, '4d'), ...sampleAt(now, 15, 'now')] },
      API_KEY,
    );
    await waitFor(
      'logs and samples in OpenSearch',
      120_000,
      async () => [await countDocs(id, 'logs'), await countDocs(id, 'metrics')],
      (c) => c[0] === 75 + twoHoursOld && c[1] === 25,
    );
    // The S3 sink flushes within 1 s of age; wait for every record in the sidecars.
    const recordsInS3 = async () => {
      let n = 0;
      for (const key of (await listKeys(`${id}/cold/`)).keys()) {
        if (!key.endsWith('.index.json')) continue;
        const body = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
        n += (JSON.parse(await body.Body!.transformToString()) as { records: number }).records;
      }
      return n;
    };
    await waitFor('every record in S3', 120_000, recordsInS3, (n) => n === 100 + twoHoursOld);
    t.is(await processor.stop(), 0);

    // Objects in the cold layout beside the sink's: 26 h and 3 h old, the current hour, the journal, another pipeline.
    const logsLoc: PipelineLocation = { prefix: `${id}/cold`, signal: 'logs', namespace: 'it', pipeline: id };
    await putHour(logsLoc, now - 26 * HOUR, 2, 90);
    await putHour(logsLoc, now - 3 * HOUR, 2, 90);
    await putHour(logsLoc, now, 1, 90);
    const otherPipeline = await putHour({ ...logsLoc, pipeline: `${id}-other` }, now - 26 * HOUR, 1, 90);

    // What the policy must delete, from the listing (cold = 10 min; nothing lies near the boundary).
    const before = await listKeys(`${id}/cold/`);
    const T0 = Date.now();
    const expected = { logs: { objects: 0, index: 0, bytes: 0 }, metrics: { objects: 0, index: 0, bytes: 0 } };
    const keep: string[] = [];
    for (const [key, size] of before) {
      const end = partitionEnd(key);
      const signal = key.startsWith(`${id}/cold/logs/it/${id}/`)
        ? 'logs'
        : key.startsWith(`${id}/cold/metrics/it/${id}/`)
          ? 'metrics'
          : undefined;
      if (end === undefined || signal === undefined || end > T0 - 10 * 60_000) {
        keep.push(key);
        continue;
      }
      t.true(end <= T0 - 30 * 60_000, `${key} is far from the boundary`);
      if (key.endsWith('.index.json')) expected[signal].index++;
      else expected[signal].objects++;
      expected[signal].bytes += size;
    }
    t.true(expected.logs.objects >= 2 + 4, 'the sink wrote objects for the 3 and 2 days old logs, and ours are there');
    t.true(expected.metrics.objects >= 1);
    t.true(
      keep.some((k) => k.includes('/_journal/')),
      "the sink's journals are there and must stay",
    );
    const index = (signal: 'logs' | 'metrics', ms: number) => partitionIndex(id, signal, ms, partition);
    const keptIndices = [index('logs', now), index('metrics', now)].sort();
    const expiredLogIndices = [
      index('logs', now - 3 * DAY),
      index('logs', now - 2 * DAY),
      ...(twoHoursOld > 0 ? [index('logs', now - 2 * HOUR)] : []),
    ];
    t.deepEqual(await indicesOf(id), [...keptIndices, ...expiredLogIndices, index('metrics', now - 4 * DAY)].sort());

    // Phase 2: the same pipeline with the policy; its loop runs every 2 s.
    processor = await startWith(r, 'processor', runtimeConfig(id, partition, policy));
    await waitFor(
      'expired indices deleted',
      60_000,
      () => indicesOf(id),
      (i) => i.length === keptIndices.length,
    );
    await waitFor(
      'expired partitions deleted',
      60_000,
      async () => [...(await listKeys(`${id}/cold/`)).keys()].sort(),
      (k) => k.length === keep.length,
    );
    const scraped = async () => {
      const text = await (await fetch(`${processor.url}/metrics`)).text();
      return { deleted: scrape(text, 'sextant_retention_deleted_total'), errors: scrape(text, 'sextant_retention_errors_total') };
    };
    const want = {
      'tier="hot",signal="logs",kind="indices"': expiredLogIndices.length,
      'tier="hot",signal="logs",kind="records"': 50 + twoHoursOld,
      'tier="hot",signal="metrics",kind="indices"': 1,
      'tier="hot",signal="metrics",kind="records"': 10,
      'tier="cold",signal="logs",kind="objects"': expected.logs.objects,
      'tier="cold",signal="logs",kind="index_objects"': expected.logs.index,
      'tier="cold",signal="logs",kind="bytes"': expected.logs.bytes,
      'tier="cold",signal="metrics",kind="objects"': expected.metrics.objects,
      'tier="cold",signal="metrics",kind="index_objects"': expected.metrics.index,
      'tier="cold",signal="metrics",kind="bytes"': expected.metrics.bytes,
    };
    const withoutHotBytes = (d: Record<string, number>) =>
      Object.fromEntries(Object.entries(d).filter(([k]) => !k.includes('tier="hot"') || !k.endsWith('kind="bytes"')));
    await waitFor('retention counters', 30_000, scraped, (m) => canonical(withoutHotBytes(m.deleted)) === canonical(want));
    // Two more passes delete nothing more and count nothing twice.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const final = await scraped();
    t.deepEqual(withoutHotBytes(final.deleted), want);
    t.log(`deleted: ${JSON.stringify(final.deleted)}; kept ${keep.length} keys and indices ${keptIndices.join(', ')}`);
    t.true(final.deleted['tier="hot",signal="logs",kind="bytes"']! > 0);
    t.deepEqual(final.errors, {});

    t.deepEqual(await indicesOf(id), keptIndices, 'the current indices stay');
    t.is(await countDocs(id, 'logs'), 25);
    t.is(await countDocs(id, 'metrics'), 15);
    t.deepEqual([...(await listKeys(`${id}/cold/`)).keys()].sort(), keep.sort(), 'newer partitions, journals and the other pipeline stay');
    t.true(otherPipeline.keys.every((k) => keep.includes(k)));

    const output = processor.output();
    t.is(
      output.split('\n').filter((l) => l.includes('retention: deleted expired OpenSearch index')).length,
      expiredLogIndices.length + 1,
      'one log line per deleted index',
    );
    t.true(output.split('\n').some((l) => l.includes('retention: deleted expired S3 partition')));
    t.is(output.split('\n').filter((l) => l.includes('cannot use bucket lifecycle rules')).length, 1, 'the fallback is logged once');
    t.is(await processor.stop(), 0);
    t.is(await ingestion.stop(), 0);
  },
  title: (_, partition: IndexPartition) =>
    `sextant processor, ${partition} indices, hot 5m / cold 10m: expired indices and partitions gone, newer data intact, exact counts on /metrics`,
});

test.serial(processorRetention, 'daily');
test.serial(processorRetention, 'hourly');

/** The processor's `sextant_retention_runner` (0/1) and its deleted/errors counters, from /metrics. */
async function retentionState(
  p: RuntimeProcess,
): Promise<{ runner: number; deleted: Record<string, number>; errors: Record<string, number>; lastCold: number }> {
  const text = await (await fetch(`${p.url}/metrics`)).text();
  const runner = /^sextant_retention_runner (\S+)$/m.exec(text);
  return {
    runner: runner ? Number(runner[1]) : NaN,
    deleted: scrape(text, 'sextant_retention_deleted_total'),
    errors: scrape(text, 'sextant_retention_errors_total'),
    lastCold: scrape(text, 'sextant_retention_last_pass_timestamp_seconds')['tier="cold"'] ?? 0,
  };
}

/** Expired indices (daily, `days` back, docs each) and S3 hours (`hours` back, 1 object each) of both signals; what retention must count. */
async function expiredSet(
  id: string,
  days: number[],
  hours: number[],
  docs: number,
): Promise<{ indices: string[]; keys: string[]; want: Record<string, number> }> {
  const now = Date.now();
  const want: Record<string, number> = {};
  const add = (k: string, n: number) => (want[k] = (want[k] ?? 0) + n);
  const indices: string[] = [];
  const keys: string[] = [];
  let bulk = '';
  for (const signal of ['logs', 'metrics'] as const) {
    for (const d of days) {
      const index = partitionIndex(id, signal, now - d * DAY, 'daily');
      indices.push(index);
      for (let i = 0; i < docs; i++) bulk += `{"index":{"_index":"${index}"}}\n{"message":"expired ${i}"}\n`;
      add(`tier="hot",signal="${signal}",kind="indices"`, 1);
      add(`tier="hot",signal="${signal}",kind="records"`, docs);
    }
    for (const h of hours) {
      const put = await putHour({ prefix: `${id}/cold`, signal, namespace: 'it', pipeline: id }, now - h * HOUR, 1, 70);
      keys.push(...put.keys);
      add(`tier="cold",signal="${signal}",kind="objects"`, 1);
      add(`tier="cold",signal="${signal}",kind="index_objects"`, 1);
      add(`tier="cold",signal="${signal}",kind="bytes"`, put.bytes);
    }
  }
  const indexed = await osRequest<{ errors: boolean }>('POST', '/_bulk?refresh=true', bulk);
  if (indexed.errors) throw new Error(`bulk of the expired indices failed: ${JSON.stringify(indexed)}`);
  return { indices, keys, want };
}

/** The counters of several processors added up, hot bytes left out (OpenSearch's store size is not ours to predict). */
function summed(...deleted: Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const d of deleted) {
    for (const [k, v] of Object.entries(d)) if (!(k.includes('tier="hot"') && k.endsWith('kind="bytes"'))) out[k] = (out[k] ?? 0) + v;
  }
  return out;
}

/** `b` minus `a`, per label set (what a processor counted since `a`); zero entries left out. */
function since(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(b)) if (v - (a[k] ?? 0) !== 0) out[k] = v - (a[k] ?? 0);
  return out;
}

test.serial(
  'two processors: exactly one runs retention, the counts over both are exact; SIGKILL of the runner hands retention to the other',
  async (t) => {
    const r = newRuntime();
    const { id } = r;
    const policy = { logs: { hot: '5m', cold: '10m' }, metrics: { hot: '5m', cold: '10m' }, interval: '1s' };
    const config = runtimeConfig(id, 'daily', policy);
    const loc = (signal: 'logs' | 'metrics'): PipelineLocation => ({ prefix: `${id}/cold`, signal, namespace: 'it', pipeline: id });

    // Data that must stay: today's indices, the current hour, the journal.
    const now = Date.now();
    const kept = [partitionIndex(id, 'logs', now, 'daily'), partitionIndex(id, 'metrics', now, 'daily')].sort();
    await osRequest(
      'POST',
      '/_bulk?refresh=true',
      kept.map((index) => `{"index":{"_index":"${index}"}}\n{"message":"current"}\n`).join(''),
    );
    const keptKeys = (await putHour(loc('logs'), now, 1, 70)).keys;
    keptKeys.push(journalKey(loc('logs'), 0));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: journalKey(loc('logs'), 0), Body: '{"partition":0}' }));
    const leftOver = async () => ({ indices: await indicesOf(id), keys: [...(await listKeys(`${id}/cold/`)).keys()].sort() });
    const onlyKept = (left: { indices: string[]; keys: string[] }) =>
      canonical({ i: left.indices.length, k: left.keys.length }) === canonical({ i: kept.length, k: keptKeys.length });

    // Phase 1: 2 daily indices per signal (3 documents each) and 2 hours per signal in S3
    // expire. They exist, complete, before the processors start: the first one to join runs
    // retention alone, then hands the role over (or keeps it) when the second joins.
    const first = await expiredSet(id, [3, 2], [26, 3], 3);
    t.is(first.indices.length, 4);
    const a = await startWith(r, 'processor', config);
    const b = await startWith(r, 'processor', config);
    // Settled: both consumers joined the OpenSearch sink's group (ready) and one of them holds partition 0.
    const settle = (ps: RuntimeProcess[]) =>
      waitFor(
        'processors ready and exactly one retention runner',
        60_000,
        async () => Promise.all(ps.map(async (p) => ({ ready: (await fetch(`${p.url}/readyz`)).status, ...(await retentionState(p)) }))),
        (s) => s.every((x) => x.ready === 200) && s.reduce((n, x) => n + x.runner, 0) === 1,
      );
    const settled = await settle([a, b]);
    const [runner, other] = settled[0]!.runner === 1 ? [a, b] : [b, a];
    t.deepEqual(settled.map((s) => s.runner).sort(), [0, 1]);
    await waitFor('the first expired set deleted', 60_000, leftOver, onlyKept);
    const both = () => Promise.all([retentionState(runner), retentionState(other)]);
    await waitFor(
      'the counters of the first set',
      30_000,
      both,
      ([x, y]) => canonical(summed(x.deleted, y.deleted)) === canonical(first.want),
    );
    // Two more clean passes of the runner: nothing is counted twice, and the other replica
    // runs none (its last-pass gauge stands still).
    const [x0, y0] = await both();
    await waitFor(
      'a later retention pass',
      30_000,
      () => retentionState(runner),
      (x) => x.lastCold > x0.lastCold,
    );
    const x1 = await retentionState(runner);
    await waitFor(
      'another retention pass',
      30_000,
      () => retentionState(runner),
      (x) => x.lastCold > x1.lastCold,
    );
    const [x2, y2] = await both();
    t.deepEqual(summed(x2.deleted, y2.deleted), first.want, 'summed over both processors: exactly what expired');
    t.deepEqual([x2.runner, y2.runner], [1, 0]);
    t.is(y2.lastCold, y0.lastCold, 'the other replica ran no pass meanwhile');
    t.deepEqual([x2.errors, y2.errors], [{}, {}]);
    t.deepEqual(await leftOver(), { indices: kept, keys: [...keptKeys].sort() });
    t.log(`phase 1: runner counted ${JSON.stringify(summed(x2.deleted))}, the other ${JSON.stringify(summed(y2.deleted))}`);

    // Phase 2: the runner freezes (SIGSTOP: it deletes nothing more and stops heartbeating),
    // the second set is written complete, then the runner is SIGKILLed without leaving the
    // group. After its session timeout the group rebalances and the survivor takes over.
    runner.child.kill('SIGSTOP');
    const second = await expiredSet(id, [5, 4], [50, 5], 2);
    const before = await retentionState(other);
    if (before.runner !== 0)
      throw new Error('the survivor was elected before the second set was complete (slower than the 10 s session timeout); rerun');
    await runner.kill();
    const [taken] = await settle([other]);
    t.is(taken!.runner, 1);
    await waitFor('the second expired set deleted', 90_000, leftOver, onlyKept);
    await waitFor(
      'the survivor counted the second set',
      30_000,
      () => retentionState(other),
      (s) => canonical(summed(since(before.deleted, s.deleted))) === canonical(second.want),
    );
    const afterTakeover = (await retentionState(other)).lastCold;
    const final = await waitFor(
      'a later retention pass of the survivor',
      30_000,
      () => retentionState(other),
      (s) => s.lastCold > afterTakeover,
    );
    t.deepEqual(summed(since(before.deleted, final.deleted)), second.want, 'exactly the second set, nothing counted twice');
    t.deepEqual(final.errors, {});
    t.deepEqual(await leftOver(), { indices: kept, keys: [...keptKeys].sort() });
    t.regex(other.output(), /retention: this replica is now the retention runner/);
    t.is(await other.stop(), 0);
  },
);

const canonical = (o: Record<string, number>) => JSON.stringify(Object.entries(o).sort());

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
