// Smoke tests for the servers of test/infra/infra.sh (make infra-up): each proves that the
// real server answers the operations Sextant relies on, with exact outcomes, and cleans up
// what it created. Addresses come from the env file the script writes.
import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { Kafka, logLevel } from 'kafkajs';
import { Client as OpenSearch } from '@opensearch-project/opensearch';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { infraVar } from './helpers/infra-env.js';
import { s3ClientForS3Proxy } from './helpers/s3.js';

const runId = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;

/** Polls CHECK until it returns a value other than undefined, or fails after TIMEOUT ms. */
async function poll<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      throw new Error(`${what}: not reached within ${timeoutMs} ms (last error: ${String(lastError)})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

// --- Kafka -------------------------------------------------------------------------------

test.serial('kafka: produce and consume a round trip through a new topic', async (t) => {
  const kafka = new Kafka({
    clientId: 'sextant-infra-smoke',
    brokers: infraVar('KAFKA_BROKERS').split(','),
    logLevel: logLevel.WARN,
  });
  const topic = `sextant-smoke-${runId}`;
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  const consumer = kafka.consumer({ groupId: `sextant-smoke-${runId}` });
  try {
    t.true(await admin.createTopics({ topics: [{ topic, numPartitions: 2, replicationFactor: 1 }], waitForLeaders: true }));
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    t.is(metadata.topics[0]?.partitions.length, 2);

    const sent = Array.from({ length: 50 }, (_, i) => ({
      partition: i % 2,
      key: `k${i}`,
      value: JSON.stringify({ seq: i, msg: `line ${i}` }),
      headers: { source: 'infra-smoke' },
    }));
    await producer.connect();
    const acks = await producer.send({ topic, messages: sent, acks: -1 });
    t.deepEqual(acks.map((a) => a.partition).sort(), [0, 1]);

    const received: { partition: number; offset: string; key: string; value: string; source: string }[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        received.push({
          partition,
          offset: message.offset,
          key: message.key?.toString() ?? '',
          value: message.value?.toString() ?? '',
          source: message.headers?.['source']?.toString() ?? '',
        });
      },
    });
    await poll('50 messages consumed', 90_000, async () => (received.length >= 50 ? true : undefined));

    t.is(received.length, 50);
    for (const p of [0, 1]) {
      const inPartition = received.filter((m) => m.partition === p);
      t.deepEqual(
        inPartition.map((m) => m.offset),
        Array.from({ length: 25 }, (_, i) => String(i)),
      );
      t.deepEqual(
        inPartition.map((m) => m.key),
        sent.filter((m) => m.partition === p).map((m) => m.key),
      );
    }
    const bySeq = received.map((m) => JSON.parse(m.value) as { seq: number; msg: string }).sort((a, b) => a.seq - b.seq);
    t.deepEqual(
      bySeq,
      sent.map((_, i) => ({ seq: i, msg: `line ${i}` })),
    );
    t.true(received.every((m) => m.source === 'infra-smoke'));
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
});

// --- OpenSearch --------------------------------------------------------------------------

interface LogDoc {
  ts: string;
  service: string;
  level: string;
  latency_ms: number;
  message: string;
}

test.serial('opensearch: index template, bulk index, search, aggregations, delete-by-query', async (t) => {
  const os = new OpenSearch({ node: infraVar('OPENSEARCH_URL') });
  const template = `sextant-smoke-${runId}`;
  const index = `sextant-smoke-${runId}-logs`;
  try {
    const health = await os.cluster.health({ wait_for_status: 'yellow', timeout: '30s' });
    t.not(health.body.status, 'red');

    await os.indices.putIndexTemplate({
      name: template,
      body: {
        index_patterns: [`sextant-smoke-${runId}-*`],
        template: {
          settings: { number_of_shards: 1, number_of_replicas: 0 },
          mappings: {
            properties: {
              ts: { type: 'date' },
              service: { type: 'keyword' },
              level: { type: 'keyword' },
              latency_ms: { type: 'long' },
              message: { type: 'text' },
            },
          },
        },
      },
    });

    const services = ['api', 'db', 'cache'];
    const levels = ['info', 'warn', 'error', 'debug'];
    const docs: LogDoc[] = Array.from({ length: 120 }, (_, i) => ({
      ts: new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString(),
      service: services[i % 3]!,
      level: levels[i % 4]!,
      latency_ms: i * 7,
      message: i % 5 === 0 ? `request ${i} failed with timeout` : `request ${i} ok`,
    }));
    const bulk = await os.bulk({
      refresh: true,
      body: docs.flatMap((doc, i) => [{ index: { _index: index, _id: `d${i}` } }, doc]),
    });
    t.false(bulk.body.errors);
    t.is(bulk.body.items.length, 120);

    // The template applied: keyword fields, one shard, no replica.
    const mapping = await os.indices.getMapping({ index });
    const props = (mapping.body[index]?.mappings?.properties ?? {}) as Record<string, { type?: string }>;
    t.is(props['service']?.type, 'keyword');
    t.is(props['latency_ms']?.type, 'long');
    const settings = await os.indices.getSettings({ index });
    t.is(settings.body[index]?.settings?.index?.number_of_shards, '1');

    const total = await os.count({ index });
    t.is(total.body.count, 120);

    const timeouts = await os.search({
      index,
      body: { query: { match: { message: 'timeout' } }, size: 100, sort: [{ ts: 'asc' }] },
    });
    const expectedTimeouts = docs.filter((d) => d.message.includes('timeout'));
    t.is(timeouts.body.hits.total && typeof timeouts.body.hits.total === 'object' ? timeouts.body.hits.total.value : -1, 24);
    t.deepEqual(
      timeouts.body.hits.hits.map((h) => h._id),
      expectedTimeouts.map((d) => `d${docs.indexOf(d)}`),
    );

    // Typed loosely: the client's TermsAggregationFields (3.9.0) lacks `field`.
    const byService = {
      terms: { field: 'service', size: 10 },
      aggs: { latency: { sum: { field: 'latency_ms' } }, slowest: { max: { field: 'latency_ms' } } },
    } as never;
    const aggs = await os.search({
      index,
      body: { size: 0, query: { term: { level: 'error' } }, aggs: { by_service: byService } },
    });
    type Bucket = { key: string; doc_count: number; latency: { value: number }; slowest: { value: number } };
    const buckets = [...(aggs.body.aggregations?.['by_service'] as { buckets: Bucket[] }).buckets].sort((a, b) =>
      a.key.localeCompare(b.key),
    );
    const errors = docs.filter((d) => d.level === 'error');
    const expected = [...services].sort().map((s) => {
      const mine = errors.filter((d) => d.service === s);
      return {
        key: s,
        doc_count: mine.length,
        latency: mine.reduce((sum, d) => sum + d.latency_ms, 0),
        slowest: Math.max(...mine.map((d) => d.latency_ms)),
      };
    });
    t.deepEqual(
      buckets.map((b) => ({ key: b.key, doc_count: b.doc_count, latency: b.latency.value, slowest: b.slowest.value })),
      expected,
    );
    t.is(
      buckets.reduce((n, b) => n + b.doc_count, 0),
      30,
    );

    const deleted = await os.deleteByQuery({ index, refresh: true, body: { query: { term: { level: 'debug' } } } });
    const byQuery = deleted.body as { deleted?: number; failures?: unknown[] };
    t.is(byQuery.deleted, 30);
    t.deepEqual(byQuery.failures, []);
    const after = await os.count({ index });
    t.is(after.body.count, 90);
    const debugLeft = await os.count({ index, body: { query: { term: { level: 'debug' } } } });
    t.is(debugLeft.body.count, 0);
  } finally {
    await os.indices.delete({ index }, { ignore: [404] }).catch(() => undefined);
    await os.indices.deleteIndexTemplate({ name: template }, { ignore: [404] }).catch(() => undefined);
    await os.close();
  }
});

// --- S3 ----------------------------------------------------------------------------------

function s3Config(): S3ClientConfig {
  return {
    endpoint: infraVar('S3_ENDPOINT'),
    region: infraVar('S3_REGION'),
    forcePathStyle: true,
    credentials: { accessKeyId: infraVar('S3_ACCESS_KEY_ID'), secretAccessKey: infraVar('S3_SECRET_ACCESS_KEY') },
  };
}

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

test.serial('s3: put/get, ListObjectsV2 prefixes and pagination, multipart, stream upload, DeleteObjects', async (t) => {
  const s3 = s3ClientForS3Proxy(s3Config());
  const Bucket = `sextant-smoke-${runId}`;
  const keys: string[] = [];
  try {
    await s3.send(new CreateBucketCommand({ Bucket }));

    // put / get / head
    const text = `hello from sextant ${runId}\n`;
    await s3.send(new PutObjectCommand({ Bucket, Key: 'a/hello.txt', Body: text, ContentType: 'text/plain' }));
    keys.push('a/hello.txt');
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'a/hello.txt' }));
    t.is(await got.Body?.transformToString(), text);
    t.is(got.ContentType, 'text/plain');
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'a/hello.txt' }));
    t.is(head.ContentLength, Buffer.byteLength(text));

    // ListObjectsV2: prefixes with a delimiter, then pages of 4
    const logKeys: string[] = [];
    for (const month of ['01', '02']) {
      for (let i = 0; i < 5; i++) logKeys.push(`logs/2024/${month}/part-${String(i).padStart(3, '0')}.ndjson`);
    }
    for (const Key of logKeys) {
      await s3.send(new PutObjectCommand({ Bucket, Key, Body: `{"key":"${Key}"}\n` }));
      keys.push(Key);
    }
    const top = await s3.send(new ListObjectsV2Command({ Bucket, Delimiter: '/' }));
    t.deepEqual(
      (top.CommonPrefixes ?? []).map((p) => p.Prefix),
      ['a/', 'logs/'],
    );
    t.is(top.KeyCount, 2);
    const months = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'logs/2024/', Delimiter: '/' }));
    t.deepEqual(
      (months.CommonPrefixes ?? []).map((p) => p.Prefix),
      ['logs/2024/01/', 'logs/2024/02/'],
    );
    t.is(months.Contents, undefined);

    const pages: string[][] = [];
    const truncated: boolean[] = [];
    let ContinuationToken: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'logs/', MaxKeys: 4, ContinuationToken }));
      pages.push((page.Contents ?? []).map((o) => o.Key ?? ''));
      truncated.push(page.IsTruncated === true);
      ContinuationToken = page.NextContinuationToken;
      t.true(pages.length <= 10, 'pagination terminates');
    } while (ContinuationToken !== undefined);
    t.deepEqual(
      pages.map((p) => p.length),
      [4, 4, 2],
    );
    t.deepEqual(truncated, [true, true, false]);
    t.deepEqual(pages.flat(), [...logKeys].sort());

    // multipart upload: 5 MiB + 5 MiB + 17 bytes (every part but the last >= 5 MiB)
    const parts = [randomBytes(5 * 1024 * 1024), randomBytes(5 * 1024 * 1024), randomBytes(17)];
    const whole = Buffer.concat(parts);
    const mpu = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'big/blob.bin' }));
    const etags: { ETag: string; PartNumber: number }[] = [];
    for (const [i, Body] of parts.entries()) {
      const r = await s3.send(new UploadPartCommand({ Bucket, Key: 'big/blob.bin', UploadId: mpu.UploadId, PartNumber: i + 1, Body }));
      etags.push({ ETag: r.ETag ?? '', PartNumber: i + 1 });
    }
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key: 'big/blob.bin',
        UploadId: mpu.UploadId,
        MultipartUpload: { Parts: etags },
      }),
    );
    keys.push('big/blob.bin');
    t.regex(done.ETag ?? '', /-3"?$/);
    const big = await s3.send(new GetObjectCommand({ Bucket, Key: 'big/blob.bin' }));
    const bigBytes = await big.Body!.transformToByteArray();
    t.is(bigBytes.length, whole.length);
    t.is(sha256(bigBytes), sha256(whole));

    // stream upload (a Node Readable with a known length)
    const chunks = Array.from({ length: 64 }, (_, i) => Buffer.from(`${String(i).padStart(4, '0')} ${'x'.repeat(1000)}\n`));
    const streamed = Buffer.concat(chunks);
    await s3.send(new PutObjectCommand({ Bucket, Key: 'stream/part.txt', Body: Readable.from(chunks), ContentLength: streamed.length }));
    keys.push('stream/part.txt');
    const back = await s3.send(new GetObjectCommand({ Bucket, Key: 'stream/part.txt' }));
    t.is(sha256(await back.Body!.transformToByteArray()), sha256(streamed));

    // DeleteObjects: everything, in one request
    const del = await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: false } }));
    t.deepEqual((del.Deleted ?? []).map((d) => d.Key).sort(), [...keys].sort());
    t.is(del.Errors?.length ?? 0, 0);
    const empty = await s3.send(new ListObjectsV2Command({ Bucket }));
    t.is(empty.KeyCount, 0);
    keys.length = 0;
  } finally {
    if (keys.length > 0) {
      await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: keys.map((Key) => ({ Key })) } })).catch(() => undefined);
    }
    await s3.send(new DeleteBucketCommand({ Bucket })).catch(() => undefined);
    s3.destroy();
  }
});

test.serial('s3: a stream upload with the SDK default checksums (aws-chunked, trailing CRC32) round-trips', async (t) => {
  // The client as the SDK configures it by default: requestChecksumCalculation WHEN_SUPPORTED.
  const s3 = new S3Client(s3Config());
  const helper = s3ClientForS3Proxy(s3Config());
  const Bucket = `sextant-smoke-${runId}-defaults`;
  try {
    await helper.send(new CreateBucketCommand({ Bucket }));
    const chunks = Array.from({ length: 32 }, (_, i) => Buffer.from(`${i}:${'y'.repeat(4096)}\n`));
    const body = Buffer.concat(chunks);
    await s3.send(new PutObjectCommand({ Bucket, Key: 'defaults.txt', Body: Readable.from(chunks), ContentLength: body.length }));
    const got = await helper.send(new GetObjectCommand({ Bucket, Key: 'defaults.txt' }));
    t.is(sha256(await got.Body!.transformToByteArray()), sha256(body));
  } finally {
    await helper.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key: 'defaults.txt' }] } })).catch(() => undefined);
    await helper.send(new DeleteBucketCommand({ Bucket })).catch(() => undefined);
    s3.destroy();
    helper.destroy();
  }
});

test.serial('s3: s3proxy rejects the checksum header that SDK defaults add to buffered bodies (why WHEN_REQUIRED)', async (t) => {
  // Characterization of the server: if this starts passing a put, s3proxy learned
  // x-amz-checksum-crc32 and the client options in helpers/s3.ts can go back to defaults.
  const s3 = new S3Client(s3Config());
  const helper = s3ClientForS3Proxy(s3Config());
  const Bucket = `sextant-smoke-${runId}-reject`;
  try {
    await helper.send(new CreateBucketCommand({ Bucket }));
    const error = await t.throwsAsync(s3.send(new PutObjectCommand({ Bucket, Key: 'x.txt', Body: 'buffered body' })));
    t.is(error?.name, 'NotImplemented');
  } finally {
    await helper.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key: 'x.txt' }] } })).catch(() => undefined);
    await helper.send(new DeleteBucketCommand({ Bucket })).catch(() => undefined);
    s3.destroy();
    helper.destroy();
  }
});

// --- Prometheus + node_exporter ----------------------------------------------------------

interface PromVector {
  status: string;
  data: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

async function promQuery(query: string): Promise<PromVector> {
  const res = await fetch(`${infraVar('PROMETHEUS_URL')}/api/v1/query?query=${encodeURIComponent(query)}`);
  if (!res.ok) throw new Error(`query ${query}: HTTP ${res.status}`);
  return (await res.json()) as PromVector;
}

test.serial('prometheus: ready, scrapes node_exporter, answers PromQL over its metrics', async (t) => {
  const prom = infraVar('PROMETHEUS_URL');
  const nodeExporter = infraVar('NODE_EXPORTER_URL');
  const ready = await fetch(`${prom}/-/ready`);
  t.is(ready.status, 200);

  const nodeTarget = new URL(nodeExporter).host;
  const up = await poll('up{job="node"} == 1', 60_000, async () => {
    const r = await promQuery('up{job="node"}');
    return r.data.result.length === 1 && r.data.result[0]?.value[1] === '1' ? r : undefined;
  });
  t.is(up.status, 'success');
  t.is(up.data.resultType, 'vector');
  t.deepEqual(up.data.result[0]?.metric, { __name__: 'up', instance: nodeTarget, job: 'node' });

  // Cross-check: the CPUs Prometheus counts are those node_exporter exposes right now.
  const metrics = await (await fetch(`${nodeExporter}/metrics`)).text();
  const idleSeries = metrics.split('\n').filter((l) => l.startsWith('node_cpu_seconds_total{') && l.includes('mode="idle"'));
  t.true(idleSeries.length >= 1);
  const cpus = await poll('node_cpu_seconds_total scraped', 60_000, async () => {
    const r = await promQuery('count(node_cpu_seconds_total{job="node",mode="idle"})');
    return r.data.result[0]?.value[1];
  });
  t.is(Number(cpus), idleSeries.length);

  const self = await promQuery('up{job="prometheus"}');
  t.is(self.data.result.length, 1);
});
