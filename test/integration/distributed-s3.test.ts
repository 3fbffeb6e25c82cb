/**
 * The S3 cold tier on the real servers (Kafka 4.1, OpenSearch 2.19, s3proxy 3.0): `sextant
 * ingestion` and `sextant processor` as child processes with both sinks, and exact counts —
 * every object in the bucket decoded, every record id unique, every object's index checked
 * against its content:
 *
 * 1. 5,000 log entries + 1,500 samples spread over three hours, with the processor SIGKILLed
 *    mid-stream and restarted → exactly that many records in S3 and in OpenSearch.
 * 2. A processor's last flushes written but not committed (the group's offsets set back to
 *    where its journal says they began — the state a crash between write and commit
 *    leaves), restarted with other flush limits → the same keys are rewritten, no
 *    overlapping ranges, exact count.
 * 3. Two processors in the s3 group, one SIGKILLed: the survivor takes its partitions over.
 * 4. S3 unreachable for 60 s (a TCP gate in front of s3proxy): the processor backs off, is
 *    not ready, commits nothing for the s3 group while OpenSearch keeps up; exact count after.
 * 5. SIGTERM flushes what is buffered and commits before leaving; a poison record with both
 *    sinks is dead-lettered once; multipart uploads of a large object on the real server.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { Kafka, logLevel } from 'kafkajs';
import { parseObjectIndex, type ObjectIndex } from '../../runtime/src/storage/s3/object-index.js';
import { indexKey, journalKey, parseObjectKey, rangesOverlap, type ObjectLocation } from '../../runtime/src/storage/s3/layout.js';
import { decodeObject } from '../../runtime/src/storage/s3/records.js';
import { createS3Client, S3ObjectStore } from '../../runtime/src/storage/s3/store.js';
import { SecretReader } from '../../runtime/src/common/secrets.js';
import { startRuntime, type RuntimeProcess } from '../support/runtime-process.js';
import { countDocs, inParallelBatches, postJson, waitFor, waitForDocs, waitReady } from '../support/distributed.js';
import { TcpGate } from '../support/tcp-gate.js';
import { infraVar } from './helpers/infra-env.js';
import { s3ClientForS3Proxy } from './helpers/s3.js';

const API_KEY = 'it-s3-key';
const HOUR_MS = 3_600_000;
const brokers = () => infraVar('KAFKA_BROKERS').split(',');
const opensearch = () => infraVar('OPENSEARCH_URL');

let s3: S3Client;
test.before(() => {
  s3 = s3ClientForS3Proxy({
    endpoint: infraVar('S3_ENDPOINT'),
    region: infraVar('S3_REGION'),
    forcePathStyle: true,
    credentials: { accessKeyId: infraVar('S3_ACCESS_KEY_ID'), secretAccessKey: infraVar('S3_SECRET_ACCESS_KEY') },
  });
});

interface Setup {
  id: string;
  bucket: string;
  configFile: string;
  processes: RuntimeProcess[];
}

interface Overrides {
  s3Endpoint?: string;
  flush?: { maxAge?: string; maxRecords?: number; maxBytes?: number };
}

async function setup(overrides: Overrides = {}): Promise<Setup> {
  const id = `it-${randomBytes(4).toString('hex')}`;
  const bucket = `sextant-${id}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sextant-s3-'));
  const configFile = path.join(dir, 'runtime.json');
  writeConfig(configFile, id, bucket, overrides);
  return { id, bucket, configFile, processes: [] };
}

function writeConfig(file: string, id: string, bucket: string, overrides: Overrides): void {
  const config = {
    pipeline: { namespace: 'it', name: id },
    http: { port: 0 },
    auth: { apiKeys: { env: 'SEXTANT_API_KEYS' } },
    kafka: {
      brokers: brokers(),
      clientId: id,
      topics: { partitions: 3, replicationFactor: 1 },
      producer: { requestTimeoutMs: 3000 },
      consumer: { sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000 },
    },
    sinks: {
      opensearch: { endpoints: [opensearch()], indexPrefix: id, bulk: { maxDocs: 100, maxBytes: 1_000_000 } },
      s3: {
        bucket,
        region: infraVar('S3_REGION'),
        prefix: 'cold/',
        endpoint: overrides.s3Endpoint ?? infraVar('S3_ENDPOINT'),
        forcePathStyle: true,
        accessKeyId: { env: 'S3_ACCESS_KEY_ID' },
        secretAccessKey: { env: 'S3_SECRET_ACCESS_KEY' },
        // s3proxy answers 501 to the SDK's default CRC32 headers (test/infra/README.md)
        requestChecksumCalculation: 'WHEN_REQUIRED',
        requestTimeoutMs: 5_000,
        // Small objects: many flushes, so a SIGKILL lands between them.
        flush: { maxAge: '2s', maxRecords: 400, maxBytes: 1_000_000, ...overrides.flush },
      },
    },
  };
  fs.writeFileSync(file, JSON.stringify(config, null, 2));
}

async function start(s: Setup, component: 'ingestion' | 'processor'): Promise<RuntimeProcess> {
  const p = await startRuntime(component, s.configFile, {
    SEXTANT_API_KEYS: API_KEY,
    S3_ACCESS_KEY_ID: infraVar('S3_ACCESS_KEY_ID'),
    S3_SECRET_ACCESS_KEY: infraVar('S3_SECRET_ACCESS_KEY'),
  });
  s.processes.push(p);
  return p;
}

const BASE_MS = Date.now();

/** Entries first..first+count-1, timestamps spread over the last three hours (grouped by their own hour in S3). */
async function pushLogs(url: string, runId: string, first: number, count: number, perRequest = 100, parallel = 6): Promise<void> {
  await inParallelBatches(first, count, perRequest, parallel, async (from, to) => {
    const entries = [];
    for (let i = from; i < to; i++) {
      const ns = BigInt(BASE_MS - (i % 3) * HOUR_MS) * 1_000_000n + BigInt(i);
      // 30 streams: the key (stream fingerprint) includes the random run id, and with 7
      // streams one of the 3 partitions got none about one run in six (no journal to rewind).
      entries.push({ timestamp: String(ns), labels: { service: `svc-${i % 30}`, run: runId }, message: `entry ${i}`, fields: { n: i } });
    }
    await postJson(url, '/api/v1/logs', { entries }, API_KEY);
  });
}

async function pushSamples(url: string, first: number, count: number): Promise<void> {
  for (let start = first; start < first + count; start += 250) {
    const samples = [];
    for (let i = start; i < Math.min(start + 250, first + count); i++) {
      samples.push({ name: 'it_s3_requests_total', labels: { n: String(i % 5) }, timestamp: BASE_MS - (i % 3) * HOUR_MS + i, value: i });
    }
    await postJson(url, '/api/v1/metrics', { samples }, API_KEY);
  }
}

async function listKeys(bucket: string, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) keys.push(o.Key!);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

async function getBytes(bucket: string, key: string): Promise<Uint8Array> {
  const answer = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return answer.Body!.transformToByteArray();
}

interface ColdTier {
  objects: { key: string; loc: ObjectLocation; index: ObjectIndex }[];
  logs: { id: string; message: string; labels: Record<string, string>; timestampNs: bigint }[];
  samples: { id: string; value: number }[];
}

/**
 * Reads every object of the bucket, checks each against its index (count, time range, streams,
 * labels, key, offsets, hour) and returns all records.
 */
async function readColdTier(
  t: { is: (a: unknown, b: unknown, m?: string) => void; deepEqual: (a: unknown, b: unknown, m?: string) => void },
  bucket: string,
): Promise<ColdTier> {
  const keys = await listKeys(bucket, 'cold/');
  const out: ColdTier = { objects: [], logs: [], samples: [] };
  for (const key of keys.filter((k) => k.endsWith('.ndjson.gz'))) {
    const loc = parseObjectKey(key)!;
    const body = await getBytes(bucket, key);
    const index = parseObjectIndex(Buffer.from(await getBytes(bucket, indexKey(key))).toString(), indexKey(key));
    const records = loc.signal === 'logs' ? await decodeObject('logs', body) : await decodeObject('metrics', body);
    const times = records.map((r) => ('timestampNs' in r ? r.timestampNs : BigInt(r.timestampMs) * 1_000_000n));
    const min = times.reduce((a, b) => (b < a ? b : a));
    const max = times.reduce((a, b) => (b > a ? b : a));
    const streams = new Set(records.map((r) => ('stream' in r ? r.stream : r.series)));
    t.deepEqual(
      [
        index.key,
        index.signal,
        index.records,
        index.bytes,
        index.minTimeNs,
        index.maxTimeNs,
        index.streamCount,
        index.firstOffset,
        index.lastOffset,
        index.partition,
      ],
      [
        key,
        loc.signal,
        records.length,
        body.length,
        String(min),
        String(max),
        streams.size,
        String(loc.firstOffset),
        String(loc.lastOffset),
        loc.partition,
      ],
      `index of ${key}`,
    );
    t.deepEqual(index.streams!.map((s) => s.fingerprint).sort(), [...streams].sort(), `streams of ${key}`);
    t.is(Math.floor(Number(min / 1_000_000n) / HOUR_MS) * HOUR_MS, loc.hourStartMs, `records of ${key} belong to its hour`);
    t.is(Math.floor(Number(max / 1_000_000n) / HOUR_MS) * HOUR_MS, loc.hourStartMs, `records of ${key} belong to its hour`);
    out.objects.push({ key, loc, index });
    for (const r of records) {
      if ('message' in r) out.logs.push({ id: r.id, message: r.message, labels: r.labels, timestampNs: r.timestampNs });
      else out.samples.push({ id: r.id, value: r.value });
    }
  }
  return out;
}

function overlapping(objects: ColdTier['objects']): string[] {
  const bad: string[] = [];
  for (const a of objects) for (const b of objects) if (a.key < b.key && rangesOverlap(a.loc, b.loc)) bad.push(`${a.key} ~ ${b.key}`);
  return bad;
}

/** Committed offsets of a consumer group minus the topics' end offsets: 0 when it consumed everything. */
async function groupLag(kafka: Kafka, groupId: string, topics: string[]): Promise<{ lag: number; committed: Record<string, string> }> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    let lag = 0;
    const committed: Record<string, string> = {};
    for (const topic of topics) {
      const ends = await admin.fetchTopicOffsets(topic);
      const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
      for (const end of ends) {
        const c = offsets!.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
        committed[`${topic}/${end.partition}`] = c;
        lag += Number(end.high) - Math.max(0, Number(c));
      }
    }
    return { lag, committed };
  } finally {
    await admin.disconnect();
  }
}

const kafkaAdmin = (id: string) => new Kafka({ clientId: `${id}-test`, brokers: brokers(), logLevel: logLevel.NOTHING });

const setups: Setup[] = [];
test.afterEach.always(async () => {
  for (const s of setups.splice(0)) {
    for (const p of s.processes) await p.kill();
    await fetch(`${opensearch()}/${s.id}-*`, { method: 'DELETE' }).catch(() => undefined);
  }
});

test.serial(
  '5,000 entries + 1,500 samples → exactly that many in S3 and OpenSearch, with the processor SIGKILLed mid-stream',
  async (t) => {
    const N = 5_000;
    const M = 1_500;
    const s = await setup();
    setups.push(s);
    const ingestion = await start(s, 'ingestion');
    await waitReady(ingestion.url, 60_000);
    let processor = await start(s, 'processor');
    await waitReady(processor.url, 60_000);

    await pushLogs(ingestion.url, s.id, 0, N / 2);
    await pushSamples(ingestion.url, 0, M / 2);
    // Kill as soon as S3 holds something: the processor is between flushes, with a buffer in hand.
    await waitFor(
      'the first S3 object',
      60_000,
      async () => (await listKeys(s.bucket, 'cold/logs/')).filter((k) => k.endsWith('.ndjson.gz')).length,
      (n) => n > 0,
    );
    await processor.kill();
    t.log(`SIGKILL with ${(await listKeys(s.bucket, 'cold/')).length} keys in the bucket`);

    await pushLogs(ingestion.url, s.id, N / 2, N / 2);
    await pushSamples(ingestion.url, M / 2, M / 2);
    processor = await start(s, 'processor');
    const kafka = kafkaAdmin(s.id);
    const topics = [`sextant.it.${s.id}.logs`, `sextant.it.${s.id}.metrics`];
    await waitFor(
      's3 group caught up',
      120_000,
      async () => (await groupLag(kafka, `sextant.it.${s.id}.s3`, topics)).lag,
      (lag) => lag === 0,
    );

    const cold = await readColdTier(t, s.bucket);
    t.is(cold.logs.length, N, 'exactly N log records in S3');
    t.is(new Set(cold.logs.map((r) => r.id)).size, N, 'no duplicates by record id');
    t.deepEqual(cold.logs.map((r) => r.message).sort(), Array.from({ length: N }, (_, i) => `entry ${i}`).sort());
    t.true(cold.logs.every((r) => r.labels.run === s.id));
    t.is(cold.samples.length, M, 'exactly M samples in S3');
    t.is(new Set(cold.samples.map((r) => r.id)).size, M);
    t.deepEqual(overlapping(cold.objects), [], 'no two flushes cover overlapping offset ranges');
    const hours = new Set(cold.objects.map((o) => o.loc.hourStartMs));
    t.true(hours.size >= 3, 'records are filed under the hours of their own timestamps');
    t.log(`${cold.objects.length} objects over ${hours.size} hours`);

    t.is(await waitForDocs(s.id, 'logs', N, 120_000), N);
    t.is(await waitForDocs(s.id, 'metrics', M, 60_000), M);
    const metrics = await (await fetch(`${processor.url}/metrics`)).text();
    t.regex(metrics, /sextant_s3_objects_written_total\{signal="logs"\} [1-9]/);
    t.log(`after the restart: ${metrics.match(/^sextant_s3_flushes_total\{.*$/gm)?.join(', ')}`);
    t.regex(metrics, /sextant_sink_records_written_total\{sink="s3",signal="logs"\} [1-9]/);
    t.is(await processor.stop(), 0);
    t.is(await ingestion.stop(), 0);
  },
);

test.serial('flushes written but not committed (a crash between write and commit) are rewritten under the same keys', async (t) => {
  const N = 3_000;
  const s = await setup({ flush: { maxAge: '1s', maxRecords: 200 } });
  setups.push(s);
  const ingestion = await start(s, 'ingestion');
  await waitReady(ingestion.url, 60_000);
  let processor = await start(s, 'processor');
  const kafka = kafkaAdmin(s.id);
  const topic = `sextant.it.${s.id}.logs`;
  const groupId = `sextant.it.${s.id}.s3`;
  // Four rounds, each written before the next: several journal ranges per partition.
  for (let round = 0; round < 4; round++) {
    await pushLogs(ingestion.url, s.id, (round * N) / 4, N / 4);
    await waitFor(
      's3 group caught up',
      120_000,
      async () => (await groupLag(kafka, groupId, [topic])).lag,
      (lag) => lag === 0,
    );
  }
  t.is(await processor.stop(), 0);
  const before = await readColdTier(t, s.bucket);
  t.is(before.logs.length, N);

  // Set the group back to where each partition's last two journal ranges began: their
  // objects exist, their commit "never happened".
  const rewound: { partition: number; offset: string }[] = [];
  for (let partition = 0; partition < 3; partition++) {
    const journal = JSON.parse(
      Buffer.from(
        await getBytes(s.bucket, journalKey({ prefix: 'cold/', signal: 'logs', namespace: 'it', pipeline: s.id }, partition)),
      ).toString(),
    ) as { entries: { first: string; last: string }[] };
    const entries = journal.entries;
    t.true(entries.length >= 4, `partition ${partition} has ${entries.length} journal ranges`);
    rewound.push({ partition, offset: entries[entries.length - 2]!.first });
  }
  const admin = kafka.admin();
  await admin.connect();
  await waitFor(
    'the group to be empty',
    30_000,
    async () => (await admin.describeGroups([groupId])).groups[0]!.members.length,
    (n) => n === 0,
  );
  await admin.setOffsets({ groupId, topic, partitions: rewound });
  await admin.disconnect();
  t.log(`offsets set back to ${JSON.stringify(rewound)}`);

  // The successor has other limits: its own boundaries would differ from the journal's.
  writeConfig(s.configFile, s.id, s.bucket, { flush: { maxAge: '30s', maxRecords: 100_000 } });
  processor = await start(s, 'processor');
  await waitFor(
    's3 group caught up again',
    120_000,
    async () => (await groupLag(kafka, groupId, [topic])).lag,
    (lag) => lag === 0,
  );
  const metrics = await (await fetch(`${processor.url}/metrics`)).text();
  const recovery = /sextant_s3_flushes_total\{signal="logs",reason="recovery"\} (\d+)/.exec(metrics);
  t.true(
    Number(recovery?.[1] ?? 0) >= 3,
    `recovery flushes rewrote the journal ranges:\n${metrics.match(/sextant_s3_flushes_total.*$/gm)?.join('\n')}`,
  );
  const after = await readColdTier(t, s.bucket);
  t.deepEqual(
    after.objects.map((o) => o.key),
    before.objects.map((o) => o.key),
    'the same keys, nothing new',
  );
  for (const o of after.objects) {
    const old = before.objects.find((b) => b.key === o.key)!;
    t.is(o.index.records, old.index.records, `${o.key} holds the same records`);
  }
  t.is(after.logs.length, N);
  t.is(new Set(after.logs.map((r) => r.id)).size, N);
  t.deepEqual(overlapping(after.objects), []);
  t.is(await processor.stop(), 0);
  t.is(await ingestion.stop(), 0);
});

test.serial(
  'two processors share the partitions; one is SIGKILLed, the other takes its partitions over: exactly N, no overlaps',
  async (t) => {
    const N = 4_000;
    const s = await setup({ flush: { maxAge: '1s', maxRecords: 150 } });
    setups.push(s);
    const ingestion = await start(s, 'ingestion');
    await waitReady(ingestion.url, 60_000);
    const a = await start(s, 'processor');
    const b = await start(s, 'processor');
    await waitReady(a.url, 60_000);
    await waitReady(b.url, 60_000);
    const kafka = kafkaAdmin(s.id);
    const topic = `sextant.it.${s.id}.logs`;
    const groupId = `sextant.it.${s.id}.s3`;
    const admin = kafka.admin();
    await admin.connect();
    const members = await waitFor(
      'both processors in the s3 group',
      60_000,
      async () => (await admin.describeGroups([groupId])).groups[0]!.members.length,
      (n) => n === 2,
    );
    await admin.disconnect();
    t.is(members, 2);

    await pushLogs(ingestion.url, s.id, 0, N / 2);
    await waitFor(
      'objects from both processors',
      60_000,
      async () => (await listKeys(s.bucket, 'cold/logs/')).filter((k) => k.endsWith('.ndjson.gz')).length,
      (n) => n >= 2,
    );
    await a.kill();
    await pushLogs(ingestion.url, s.id, N / 2, N / 2);
    await waitFor(
      's3 group caught up on the survivor',
      120_000,
      async () => (await groupLag(kafka, groupId, [topic])).lag,
      (lag) => lag === 0,
    );
    const cold = await readColdTier(t, s.bucket);
    t.is(cold.logs.length, N);
    t.is(new Set(cold.logs.map((r) => r.id)).size, N);
    t.deepEqual(overlapping(cold.objects), []);
    const metrics = await (await fetch(`${b.url}/metrics`)).text();
    t.log(`survivor: ${metrics.match(/^sextant_s3_(flushes_total|buffer_released_records_total)\{.*$/gm)?.join(', ')}`);
    t.is(await b.stop(), 0);
    t.is(await ingestion.stop(), 0);
  },
);

test.serial(
  'S3 unreachable for 60 s: the s3 group backs off (not ready, nothing committed) while OpenSearch keeps up; exactly N after',
  async (t) => {
    const target = new URL(infraVar('S3_ENDPOINT'));
    const gate = new TcpGate(target.hostname, Number(target.port));
    await gate.open();
    t.teardown(() => gate.close());
    const s = await setup({ s3Endpoint: `http://127.0.0.1:${gate.port}` });
    setups.push(s);
    const ingestion = await start(s, 'ingestion');
    await waitReady(ingestion.url, 60_000);
    const processor = await start(s, 'processor');
    await waitReady(processor.url, 60_000);
    const kafka = kafkaAdmin(s.id);
    const topic = `sextant.it.${s.id}.logs`;
    const groupId = `sextant.it.${s.id}.s3`;

    await pushLogs(ingestion.url, s.id, 0, 1_000);
    await waitFor(
      's3 group caught up',
      60_000,
      async () => (await groupLag(kafka, groupId, [topic])).lag,
      (lag) => lag === 0,
    );
    await gate.close();
    const outageStart = Date.now();
    const committedBefore = (await groupLag(kafka, groupId, [topic])).committed;
    await pushLogs(ingestion.url, s.id, 1_000, 1_000);
    const ready = await waitFor(
      'processor not ready',
      60_000,
      async () => {
        const res = await fetch(`${processor.url}/readyz`);
        return { status: res.status, text: await res.text() };
      },
      (r) => r.status === 503,
    );
    t.regex(ready.text, /sink s3/);
    t.notRegex(ready.text, /opensearch/, 'the OpenSearch sink is not affected');
    // OpenSearch has its own group: it gets everything while S3 is down.
    t.is(await waitForDocs(s.id, 'logs', 2_000, 60_000), 2_000);
    const remaining = 60_000 - (Date.now() - outageStart);
    if (remaining > 0) await new Promise((r) => setTimeout(r, remaining));
    const during = await groupLag(kafka, groupId, [topic]);
    t.deepEqual(during.committed, committedBefore, 'nothing committed by the s3 group while S3 was unreachable');
    t.is(during.lag, 1_000);
    const metrics = await (await fetch(`${processor.url}/metrics`)).text();
    t.regex(metrics, /sextant_sink_write_errors_total\{sink="s3"\} [1-9]/);
    t.regex(metrics, /sextant_sink_up\{sink="s3"\} 0/);
    t.regex(metrics, /sextant_s3_request_errors_total\{operation="[a-z_]+"\} [1-9]/);

    await gate.open();
    await waitFor(
      's3 group caught up after the outage',
      120_000,
      async () => (await groupLag(kafka, groupId, [topic])).lag,
      (lag) => lag === 0,
    );
    await waitReady(processor.url, 60_000);
    const cold = await readColdTier(t, s.bucket);
    t.is(cold.logs.length, 2_000);
    t.is(new Set(cold.logs.map((r) => r.id)).size, 2_000);
    t.deepEqual(overlapping(cold.objects), []);
    t.is(await processor.stop(), 0);
    t.is(await ingestion.stop(), 0);
  },
);

test.serial('SIGTERM writes what is buffered and commits before leaving the group', async (t) => {
  // Limits that never fire during the test: only the shutdown flush writes.
  const s = await setup({ flush: { maxAge: '10m', maxRecords: 1_000_000, maxBytes: 100_000_000 } });
  setups.push(s);
  const ingestion = await start(s, 'ingestion');
  await waitReady(ingestion.url, 60_000);
  const processor = await start(s, 'processor');
  await pushLogs(ingestion.url, s.id, 0, 300);
  await waitForDocs(s.id, 'logs', 300, 60_000);
  const kafka = kafkaAdmin(s.id);
  const topic = `sextant.it.${s.id}.logs`;
  // the s3 runner has consumed them too (its gauge), but written nothing
  await waitFor(
    '300 buffered records',
    60_000,
    async () => /sextant_s3_buffered_records\{signal="logs"\} (\d+)/.exec(await (await fetch(`${processor.url}/metrics`)).text())?.[1],
    (v) => v === '300',
  );
  t.deepEqual(
    (await listKeys(s.bucket, 'cold/logs/')).filter((k) => k.endsWith('.ndjson.gz')),
    [],
  );
  const stopping = Date.now();
  t.is(await processor.stop(), 0);
  t.log(`stopped in ${Date.now() - stopping} ms`);
  const cold = await readColdTier(t, s.bucket);
  t.is(cold.logs.length, 300);
  t.is((await groupLag(kafka, `sextant.it.${s.id}.s3`, [topic])).lag, 0, 'committed before leaving');
  t.is(await ingestion.stop(), 0);
});

test.serial('a poison record with both sinks: stored nowhere, dead-lettered exactly once', async (t) => {
  const s = await setup();
  setups.push(s);
  const processor = await start(s, 'processor');
  await waitReady(processor.url, 60_000);
  const kafka = kafkaAdmin(s.id);
  const topic = `sextant.it.${s.id}.logs`;
  const producer = kafka.producer();
  await producer.connect();
  const good = JSON.stringify({ ts: String(BigInt(BASE_MS) * 1_000_000n), labels: { service: 'api' }, message: 'fine', fields: {} });
  await producer.send({ topic, acks: -1, messages: [{ value: '{not json' }, { value: good }] });
  await producer.disconnect();
  for (const sink of ['opensearch', 's3']) {
    await waitFor(
      `the ${sink} group past the poison record`,
      60_000,
      async () => (await groupLag(kafka, `sextant.it.${s.id}.${sink}`, [topic])).lag,
      (lag) => lag === 0,
    );
  }
  // Both groups committed past it, and a dead letter is sent before the commit: the DLQ is final.
  const admin = kafka.admin();
  await admin.connect();
  const dlq = await admin.fetchTopicOffsets(`sextant.it.${s.id}.dlq`);
  await admin.disconnect();
  t.is(
    dlq.reduce((n, p) => n + Number(p.high), 0),
    1,
    'one dead letter, not one per sink',
  );
  const cold = await readColdTier(t, s.bucket);
  t.deepEqual(
    cold.logs.map((r) => r.message),
    ['fine'],
  );
  t.is(await countDocs(s.id, 'logs'), 1);
  t.is(await processor.stop(), 0);
});

test.serial('objects at or above the multipart threshold go up in parts; a missing bucket is named (real server)', async (t) => {
  const bucket = `sextant-it-mp-${randomBytes(3).toString('hex')}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const multipart = { thresholdBytes: 5 * 1024 * 1024, partSizeBytes: 5 * 1024 * 1024 };
  const client = createS3Client(
    {
      bucket,
      region: infraVar('S3_REGION'),
      prefix: '',
      endpoint: infraVar('S3_ENDPOINT'),
      forcePathStyle: true,
      accessKeyId: { env: 'K' },
      secretAccessKey: { env: 'S' },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      requestTimeoutMs: 30_000,
      flush: { maxBytes: 1, maxAge: 1000, maxRecords: 1 },
      multipart,
    },
    new SecretReader({ K: infraVar('S3_ACCESS_KEY_ID'), S: infraVar('S3_SECRET_ACCESS_KEY') }),
  );
  const store = new S3ObjectStore(client, bucket, multipart);
  await store.check();
  const big = randomBytes(12 * 1024 * 1024 + 123);
  t.deepEqual(await store.put('big.bin', big, 'application/octet-stream'), { parts: 3 });
  t.true(Buffer.from((await store.get('big.bin'))!).equals(big), 'the parts reassemble to the same bytes');
  const small = randomBytes(1024);
  t.deepEqual(await store.put('small.bin', small, 'application/octet-stream'), { parts: 0 });
  t.deepEqual((await store.list('')).sort(), ['big.bin', 'small.bin']);
  t.is(await store.get('missing'), undefined);
  await store.delete('small.bin');
  t.deepEqual(await store.list(''), ['big.bin']);
  const missing = new S3ObjectStore(client, `${bucket}-missing`, multipart);
  await t.throwsAsync(missing.check(), { message: /head_bucket .*-missing: .*HTTP 404.*the bucket does not exist/ });
});
