import test from 'ava';
import type { EachBatchPayload, Kafka, KafkaMessage, Message, TopicPartitionOffsetAndMetadata } from 'kafkajs';
import prom from 'prom-client';
import { encodeLogEntry } from '../../bus/kafka/codec.js';
import { silentLogger } from '../../common/log.js';
import { resolveRuntimeConfig } from '../../platform/runtime-config.js';
import { createProcessorMetrics } from '../metrics.js';
import { buildPipeline } from '../pipeline.js';
import { consumerGroupId, SinkRunner } from './consumer.js';
import { createRunnerMetrics } from './metrics.js';
import { SinkUnavailableError, type RejectedRecord, type Sink, type SinkRecord } from '../../storage/sink.js';

class FakeSink implements Sink {
  readonly name = 'fake';
  failures = 0;
  reject: number[] = [];
  written: SinkRecord[][] = [];
  async start(): Promise<void> {}
  async write(records: SinkRecord[]): Promise<RejectedRecord[]> {
    if (this.failures > 0) {
      this.failures--;
      throw new SinkUnavailableError('down');
    }
    this.written.push(records);
    return this.reject.map((index) => ({ index, reason: '400 mapper_parsing_exception: bad' }));
  }
  async close(): Promise<void> {}
}

class FakeKafka {
  commits: TopicPartitionOffsetAndMetadata[][] = [];
  dlq: Message[] = [];
  eachBatch: ((p: EachBatchPayload) => Promise<void>) | undefined;
  groupId = '';
  producer() {
    return {
      connect: async () => undefined,
      disconnect: async () => undefined,
      send: async (r: { messages: Message[] }) => void this.dlq.push(...r.messages),
    };
  }
  consumer(options: { groupId: string }) {
    this.groupId = options.groupId;
    return {
      events: { GROUP_JOIN: 'join', CRASH: 'crash', STOP: 'stop' },
      on: () => undefined,
      connect: async () => undefined,
      disconnect: async () => undefined,
      subscribe: async () => undefined,
      run: async (o: { eachBatch: (p: EachBatchPayload) => Promise<void> }) => void (this.eachBatch = o.eachBatch),
      commitOffsets: async (offsets: TopicPartitionOffsetAndMetadata[]) => void this.commits.push(offsets),
      pause: () => undefined,
    };
  }
}

const config = resolveRuntimeConfig(
  { pipeline: { namespace: 'a', name: 'b' }, signals: ['logs'], kafka: { brokers: ['k:1'] }, sinks: {} },
  'test',
);

/** Polls until cond holds (the write pipeline acknowledges and commits after eachBatch returned). */
async function until(cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached within 20 s');
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function runner(sink: FakeSink) {
  const fake = new FakeKafka();
  const built = buildPipeline([]);
  if (!built.ok) throw new Error('pipeline');
  const registry = new prom.Registry();
  const r = new SinkRunner({
    kafka: fake as unknown as Kafka,
    config,
    sink,
    pipeline: built.pipeline,
    metrics: createRunnerMetrics(registry),
    processorMetrics: createProcessorMetrics(registry),
    log: silentLogger(),
    backoffMs: { initial: 5, max: 20 },
    drainMs: 100,
  });
  await r.start();
  return { fake, registry, runner: r };
}

function payload(messages: KafkaMessage[], resolved: string[], running = () => true, partition = 2): EachBatchPayload {
  return {
    batch: {
      topic: 'sextant.a.b.logs',
      partition,
      messages,
      lastOffset: () => messages[messages.length - 1]!.offset,
      offsetLag: () => '0',
    },
    heartbeat: async () => undefined,
    isRunning: running,
    isStale: () => false,
    resolveOffset: (o: string) => void resolved.push(o),
  } as unknown as EachBatchPayload;
}

const msg = (value: string, offset: number) =>
  ({ key: null, value: Buffer.from(value), offset: String(offset), headers: {} }) as unknown as KafkaMessage;
const good = (i: number) => String(encodeLogEntry({ timestampNs: BigInt(i), labels: { s: 'x' }, message: `m${i}`, fields: {} }, {}).value);

test('one consumer group per (pipeline, sink)', async (t) => {
  const { fake } = await runner(new FakeSink());
  t.is(fake.groupId, 'sextant.a.b.fake');
  t.is(consumerGroupId(config, 'opensearch'), 'sextant.a.b.opensearch');
});

test('offsets are committed only after the sink acknowledged; an outage is retried with backoff, nothing dropped', async (t) => {
  const sink = new FakeSink();
  sink.failures = 3;
  const { fake, registry } = await runner(sink);
  const resolved: string[] = [];
  await fake.eachBatch!(payload([msg(good(1), 10), msg(good(2), 11)], resolved));
  t.deepEqual(fake.commits, [], 'nothing committed before the sink acknowledged');
  await until(() => fake.commits.length > 0);
  t.is(sink.written.length, 1);
  t.is(sink.written[0]!.length, 2);
  t.deepEqual(fake.commits, [[{ topic: 'sextant.a.b.logs', partition: 2, offset: '12' }]]);
  t.deepEqual(resolved, ['11']);
  t.regex(await registry.metrics(), /sextant_sink_write_errors_total\{sink="fake"\} 3/);
});

test('stopping during an outage leaves the batch uncommitted for the next owner', async (t) => {
  const sink = new FakeSink();
  sink.failures = 1_000;
  const { fake, runner: r } = await runner(sink);
  await fake.eachBatch!(payload([msg(good(1), 10)], []));
  await until(() => sink.failures < 998);
  t.false(r.ready(), 'not ready while the sink fails');
  await r.close();
  t.deepEqual(fake.commits, []);
  t.deepEqual(sink.written, []);
});

test('an outage fills the pipeline: the next batches wait (not taken) and are left to Kafka when the consumer stops', async (t) => {
  const sink = new FakeSink();
  sink.failures = 1_000;
  const { fake, runner: r } = await runner(sink);
  const resolved: string[] = [];
  // 5,000 records a write × 2 in flight × 2: 20,000 records fill the pipeline.
  const big = Array.from({ length: 20_000 }, (_, i) => msg(good(i), i));
  await fake.eachBatch!(payload(big, resolved));
  t.deepEqual(resolved, ['19999']);
  let running = true;
  setTimeout(() => (running = false), 100);
  await fake.eachBatch!(payload([msg(good(1), 20_000)], resolved, () => running));
  t.deepEqual(resolved, ['19999'], 'the second batch was not taken');
  await r.close();
  t.deepEqual(fake.commits, []);
});

test('batches of several partitions are merged into one write; each partition commits its own offset', async (t) => {
  const sink = new FakeSink();
  const { fake } = await runner(sink);
  await Promise.all([
    fake.eachBatch!(payload([msg(good(1), 10), msg(good(2), 11)], [], () => true, 0)),
    fake.eachBatch!(payload([msg(good(3), 5)], [], () => true, 1)),
  ]);
  await until(() => fake.commits.length > 0);
  t.is(sink.written.length, 1);
  t.deepEqual(
    sink.written[0]!.map((r) => (r.kind === 'log' ? r.entry.message : '')),
    ['m1', 'm2', 'm3'],
  );
  t.deepEqual(fake.commits, [
    [
      { topic: 'sextant.a.b.logs', partition: 0, offset: '12' },
      { topic: 'sextant.a.b.logs', partition: 1, offset: '6' },
    ],
  ]);
});

test('undecodable and sink-rejected records go to the DLQ with the reason in headers, counted', async (t) => {
  const sink = new FakeSink();
  sink.reject = [1];
  const { fake, registry } = await runner(sink);
  await fake.eachBatch!(payload([msg('{bad', 0), msg(good(1), 1), msg(good(2), 2)], []));
  await until(() => fake.commits.length > 0);
  t.is(fake.dlq.length, 2);
  t.like(fake.dlq[0]!.headers, { 'sextant-error-stage': 'decode', 'sextant-origin': 'sextant.a.b.logs/2' });
  t.regex(String(fake.dlq[0]!.headers!['sextant-error']), /^not JSON/);
  t.like(fake.dlq[1]!.headers, { 'sextant-error': '400 mapper_parsing_exception: bad', 'sextant-error-stage': 'sink:fake' });
  t.is(JSON.parse(String(fake.dlq[1]!.value)).message, 'm2');
  t.is(fake.commits.length, 1);
  const text = await registry.metrics();
  t.regex(text, /sextant_processor_dlq_records_total\{sink="fake",reason="undecodable"\} 1/);
  t.regex(text, /sextant_processor_dlq_records_total\{sink="fake",reason="rejected"\} 1/);
  t.regex(text, /sextant_sink_records_written_total\{sink="fake",signal="logs"\} 1/);
});
