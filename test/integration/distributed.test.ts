/**
 * The distributed data path on the real servers (test/infra: Kafka 4.1, OpenSearch 2.19):
 * `sextant ingestion` and `sextant processor` as child processes, exact counts in
 * OpenSearch, a processor SIGKILLed mid-stream and restarted, poison records in the DLQ,
 * and 503 + Retry-After from ingestion while Kafka is unreachable.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { startRuntime, type RuntimeProcess } from '../support/runtime-process.js';
import { countDocs, inParallelBatches, osRequest, postJson, waitFor, waitForDocs, waitReady } from '../support/distributed.js';
import { CLI } from '../support/sextant-process.js';
import { TcpGate } from '../support/tcp-gate.js';
import { infraVar } from './helpers/infra-env.js';

const API_KEY = 'it-distributed-key';
const brokers = () => infraVar('KAFKA_BROKERS').split(',');
const opensearch = () => infraVar('OPENSEARCH_URL');

interface Setup {
  id: string;
  configFile: string;
  prefix: string;
  processes: RuntimeProcess[];
}

function setup(overrides: { brokers?: string[]; opensearch?: string } = {}): Setup {
  const id = `it-${randomBytes(4).toString('hex')}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sextant-dist-'));
  const configFile = path.join(dir, 'runtime.json');
  const config = {
    pipeline: { namespace: 'it', name: id },
    http: { port: 0 },
    auth: { apiKeys: { env: 'SEXTANT_API_KEYS' } },
    kafka: {
      brokers: overrides.brokers ?? brokers(),
      clientId: id,
      topics: { partitions: 3, replicationFactor: 1 },
      producer: { requestTimeoutMs: 3000 },
      // A SIGKILLed processor leaves the group after this; its replacement then takes over.
      consumer: { sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000 },
    },
    // Small bulk requests: many batches, so a SIGKILL lands in the middle of the stream.
    sinks: {
      opensearch: { endpoints: [overrides.opensearch ?? opensearch()], indexPrefix: id, bulk: { maxDocs: 100, maxBytes: 1_000_000 } },
    },
  };
  fs.writeFileSync(configFile, JSON.stringify(config, null, 2));
  return { id, configFile, prefix: id, processes: [] };
}

async function start(s: Setup, component: 'ingestion' | 'processor'): Promise<RuntimeProcess> {
  const p = await startRuntime(component, s.configFile, { SEXTANT_API_KEYS: API_KEY });
  s.processes.push(p);
  return p;
}

/** Pushes entries first..first+count-1 in requests of `perRequest`, `parallel` at a time; every answer must be 200. */
async function push(url: string, runId: string, first: number, count: number, perRequest = 100, parallel = 8): Promise<void> {
  const base = BigInt(Date.now() * 1_000_000);
  await inParallelBatches(first, count, perRequest, parallel, async (from, to) => {
    const entries = [];
    for (let i = from; i < to; i++) {
      entries.push({
        timestamp: String(base + BigInt(i)),
        labels: { service: `svc-${i % 7}`, run: runId },
        message: `entry ${i}`,
        fields: { n: i },
      });
    }
    await postJson(url, '/api/v1/logs', { entries }, API_KEY);
  });
}

const setups: Setup[] = [];
test.afterEach.always(async () => {
  for (const s of setups.splice(0)) {
    for (const p of s.processes) await p.kill();
    await osRequest('DELETE', `/${s.prefix}-*`).catch(() => undefined);
  }
});

test.serial(
  '5,000 entries in → exactly 5,000 documents in OpenSearch, with the processor SIGKILLed mid-stream and restarted',
  async (t) => {
    const N = 5_000;
    const s = setup();
    setups.push(s);
    const ingestion = await start(s, 'ingestion');
    await waitReady(ingestion.url);
    let processor = await start(s, 'processor');

    await push(ingestion.url, s.id, 0, N / 2);
    // Kill as soon as the processor has written something: it is in the middle of the stream.
    const atKill = await waitForDocs(s.prefix, 'logs', 1, 60_000);
    await processor.kill();
    t.log(`processor SIGKILLed with ${atKill} of ${N / 2} pushed documents visible`);

    await push(ingestion.url, s.id, N / 2, N / 2);
    processor = await start(s, 'processor');
    const final = await waitForDocs(s.prefix, 'logs', N, 120_000);
    t.is(final, N);
    // Replays after the restart overwrite by _id: nothing more arrives later.
    await new Promise((r) => setTimeout(r, 3_000));
    t.is(await countDocs(s.prefix, 'logs'), N);
    const agg = await osRequest<{ aggregations: { ns: { value: number } } }>('POST', `/${s.prefix}-logs-*/_search`, {
      size: 0,
      aggs: { ns: { value_count: { field: 'stream' } } },
    });
    t.is(agg.aggregations.ns.value, N, 'every document has its stream fingerprint');
    const sampleDoc = await osRequest<{ hits: { hits: { _id: string; _source: { message: string; labels: Record<string, string> } }[] } }>(
      'POST',
      `/${s.prefix}-logs-*/_search`,
      { size: 1, query: { match_phrase: { message: 'entry 4999' } } },
    );
    t.is(sampleDoc.hits.hits[0]?._source.labels.run, s.id);
    t.regex(sampleDoc.hits.hits[0]?._id ?? '', /^[0-9a-f]{16}-\d+-[0-9a-f]{16}$/, '_id is logRecordId (stream-ts-hash)');

    t.is(await processor.stop(), 0, 'SIGTERM: batch finished, offsets committed, group left, exit 0');
    t.is(await ingestion.stop(), 0);
  },
);

test.serial('metric samples land with series fingerprint ids; a replayed request does not duplicate', async (t) => {
  const s = setup();
  setups.push(s);
  const ingestion = await start(s, 'ingestion');
  await waitReady(ingestion.url);
  await start(s, 'processor');
  const samples = Array.from({ length: 50 }, (_, i) => ({
    name: 'it_requests_total',
    labels: { n: String(i % 5) },
    timestamp: 1764151200000 + i,
    value: i,
  }));
  for (let attempt = 0; attempt < 2; attempt++) {
    const res = await fetch(`${ingestion.url}/api/v1/metrics`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ samples }),
    });
    t.is(res.status, 200);
  }
  await waitForDocs(s.prefix, 'metrics', 50, 60_000);
  await new Promise((r) => setTimeout(r, 2_000));
  t.is(await countDocs(s.prefix, 'metrics'), 50);
});

test.serial(
  'poison records (undecodable, mapping-rejected) go to the DLQ topic with the reason in headers; the rest is stored',
  async (t) => {
    const s = setup();
    setups.push(s);
    await start(s, 'processor');
    const kafka = new Kafka({ clientId: `${s.id}-test`, brokers: brokers(), logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    const good = JSON.stringify({ ts: '1764151200000000000', labels: { service: 'api', a: 'x' }, message: 'fine', fields: {} });
    await producer.send({
      topic: `sextant.it.${s.id}.logs`,
      acks: -1,
      messages: [{ value: '{not json' }, { value: good }, { value: JSON.stringify({ ts: 5, labels: {}, message: 'x' }) }],
    });
    await waitForDocs(s.prefix, 'logs', 1, 60_000);
    // labels.a is a keyword now, so labels."a.b" (an object under it) is a mapping conflict:
    // OpenSearch rejects that one document (400) and it goes to the DLQ. (Ingestion would refuse
    // the label name; a record written to the topic by something else need not.)
    const conflicting = JSON.stringify({ ts: '1764151200000000001', labels: { 'a.b': 'y' }, message: 'conflict', fields: {} });
    await producer.send({ topic: `sextant.it.${s.id}.logs`, acks: -1, messages: [{ value: conflicting }] });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: `${s.id}-dlq-reader` });
    await consumer.connect();
    await consumer.subscribe({ topic: `sextant.it.${s.id}.dlq`, fromBeginning: true });
    const letters: { value: string; error: string; stage: string }[] = [];
    await consumer.run({
      eachMessage: async ({ message }) => {
        letters.push({
          value: String(message.value),
          error: String(message.headers?.['sextant-error']),
          stage: String(message.headers?.['sextant-error-stage']),
        });
      },
    });
    await waitFor(
      '3 dead letters',
      60_000,
      async () => letters.length,
      (n) => n >= 3,
    );
    await consumer.disconnect();
    t.is(letters.length, 3);
    t.deepEqual(letters.map((l) => l.stage).sort(), ['decode', 'decode', 'sink:opensearch']);
    const rejected = letters.find((l) => l.stage === 'sink:opensearch')!;
    t.regex(rejected.error, /^400 /);
    t.log(`rejected by OpenSearch: ${rejected.error}`);
    t.is(JSON.parse(rejected.value).message, 'conflict');
    t.true(letters.some((l) => l.value === '{not json' && l.error.startsWith('not JSON')));
    t.true(letters.some((l) => l.error === 'ts: expected a string of nanosecond digits'));
    t.is(await countDocs(s.prefix, 'logs'), 1);
  },
);

test.serial('with Kafka unreachable, ingestion is not ready and answers 503 with Retry-After', async (t) => {
  const s = setup({ brokers: ['127.0.0.1:1'] });
  setups.push(s);
  const ingestion = await start(s, 'ingestion');
  const ready = await fetch(`${ingestion.url}/readyz`);
  t.is(ready.status, 503);
  t.regex(await ready.text(), /kafka/);
  const res = await fetch(`${ingestion.url}/api/v1/logs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ entries: [{ labels: { a: 'b' }, message: 'm' }] }),
  });
  t.is(res.status, 503);
  t.truthy(res.headers.get('retry-after'));
  t.is(await ingestion.stop(), 0);
});

test.serial('sextant processor --config <broken> exits 2 naming every error with its path; --help exits 0', (t) => {
  const broken = fileURLToPath(new URL('../../runtime/src/platform/testdata/broken-many.json', import.meta.url));
  const run = spawnSync(process.execPath, [CLI, 'processor', '--config', broken], { encoding: 'utf8' });
  t.is(run.status, 2);
  for (const path of [
    'colour:',
    'pipeline.namespace:',
    'signals[1]:',
    'kafka.topics.partitions:',
    'kafka.sasl.password:',
    'sinks.opensearch.user:',
    'limits.maxLabels:',
    'processors[0].parse.format:',
  ]) {
    t.true(run.stderr.includes(`  ${path}`), `stderr names ${path}:\n${run.stderr}`);
  }
  const help = spawnSync(process.execPath, [CLI, 'ingestion', '--help'], { encoding: 'utf8' });
  t.is(help.status, 0);
  t.regex(help.stdout, /Usage: sextant ingestion --config <file>/);
});

test.serial(
  'OpenSearch unreachable: the processor backs off (not ready, no commit, no drop) and delivers exactly N once it is back',
  async (t) => {
    const target = new URL(opensearch());
    const gate = new TcpGate(target.hostname, Number(target.port));
    await gate.open();
    t.teardown(() => gate.close());
    const s = setup({ opensearch: `http://127.0.0.1:${gate.port}` });
    setups.push(s);
    const ingestion = await start(s, 'ingestion');
    await waitReady(ingestion.url);
    const processor = await start(s, 'processor');
    await waitReady(processor.url);

    await push(ingestion.url, s.id, 0, 1_000);
    await waitForDocs(s.prefix, 'logs', 1_000, 60_000);
    await gate.close();
    const outageStart = Date.now();
    await push(ingestion.url, s.id, 1_000, 1_000);
    await waitFor(
      'processor not ready',
      60_000,
      async () => (await fetch(`${processor.url}/readyz`)).status,
      (c) => c === 503,
    );
    const metrics = await (await fetch(`${processor.url}/metrics`)).text();
    t.regex(metrics, /sextant_sink_write_errors_total\{sink="opensearch"\} [1-9]/);
    // The outage is 60 s (DIST_IT_OUTAGE_SECONDS shortens it for local runs): long
    // enough for the backoff to reach its cap and for several retries to fail.
    const outageMs = Number(process.env.DIST_IT_OUTAGE_SECONDS ?? '60') * 1_000;
    while (Date.now() - outageStart < outageMs) {
      await new Promise((r) => setTimeout(r, 5_000));
      t.is((await fetch(`${processor.url}/readyz`)).status, 503, 'not ready during the whole outage');
    }
    t.is(await countDocs(s.prefix, 'logs'), 1_000, 'nothing more arrived while the sink was unreachable');
    t.log(`OpenSearch unreachable for ${Math.round((Date.now() - outageStart) / 1000)} s`);

    await gate.open();
    t.is(await waitForDocs(s.prefix, 'logs', 2_000, 120_000), 2_000);
    await waitReady(processor.url);
    await new Promise((r) => setTimeout(r, 2_000));
    t.is(await countDocs(s.prefix, 'logs'), 2_000);
    t.is(await processor.stop(), 0);
  },
);
