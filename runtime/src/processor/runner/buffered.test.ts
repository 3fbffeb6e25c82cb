/** The runner with a buffering sink (S3): resolve at once, commit only what a flush made durable. */
import test from 'ava';
import type { EachBatchPayload, Kafka, KafkaMessage, Message, TopicPartitionOffsetAndMetadata } from 'kafkajs';
import prom from 'prom-client';
import { encodeLogEntry } from '../../bus/kafka/codec.js';
import { silentLogger } from '../../common/log.js';
import { resolveRuntimeConfig } from '../../platform/runtime-config.js';
import { createProcessorMetrics } from '../metrics.js';
import { buildPipeline } from '../pipeline.js';
import { SinkRunner } from './consumer.js';
import { createRunnerMetrics } from './metrics.js';
import {
  SinkUnavailableError,
  type BufferingSink,
  type DurableOffset,
  type FlushOutcome,
  type SegmentSource,
  type SinkRecord,
} from '../../storage/sink.js';

const TOPIC = 'sextant.a.b.logs';

class FakeBufferingSink implements BufferingSink {
  readonly name = 'buf';
  readonly buffering = true;
  readonly tickMs = 20;
  pins: bigint[] = [];
  beginFailures = 0;
  flushFailures = 0;
  appended: { first: bigint; last: bigint; records: number }[] = [];
  pending: SegmentSource[] = [];
  flushes: boolean[] = [];
  resets: string[] = [];
  /** Flush only when told (otherwise nothing is due). */
  due = false;
  async start(): Promise<void> {}
  async begin(): Promise<bigint[]> {
    if (this.beginFailures > 0) {
      this.beginFailures--;
      throw new SinkUnavailableError('journal unreadable');
    }
    return this.pins;
  }
  append(source: SegmentSource, records: SinkRecord[]): void {
    this.appended.push({ first: source.firstOffset, last: source.lastOffset, records: records.length });
    this.pending.push(source);
  }
  async flush(options: { shutdown: boolean }): Promise<FlushOutcome> {
    this.flushes.push(options.shutdown);
    if (!this.due && !options.shutdown) return { durable: [] };
    if (this.flushFailures > 0) {
      this.flushFailures--;
      return { durable: [], error: new SinkUnavailableError('S3 down') };
    }
    const durable: DurableOffset[] = this.pending.map((s) => ({
      topic: s.topic,
      partition: s.partition,
      offset: String(s.lastOffset + 1n),
      signal: s.signal,
      records: Number(s.lastOffset - s.firstOffset + 1n),
    }));
    this.pending = [];
    return { durable };
  }
  reset(reason: string): void {
    this.resets.push(reason);
    this.pending = [];
  }
  async close(): Promise<void> {}
}

class FakeKafka {
  commits: TopicPartitionOffsetAndMetadata[][] = [];
  events: string[] = [];
  handlers = new Map<string, () => void>();
  eachBatch: ((p: EachBatchPayload) => Promise<void>) | undefined;
  dlq: Message[] = [];
  producer() {
    return {
      connect: async () => undefined,
      disconnect: async () => undefined,
      send: async (r: { messages: Message[] }) => void this.dlq.push(...r.messages),
    };
  }
  consumer() {
    return {
      events: { GROUP_JOIN: 'join', CRASH: 'crash', STOP: 'stop' },
      on: (event: string, handler: () => void) => void this.handlers.set(event, handler),
      connect: async () => undefined,
      disconnect: async () => void this.events.push('disconnect'),
      subscribe: async () => undefined,
      pause: () => void this.events.push('pause'),
      run: async (o: { eachBatch: (p: EachBatchPayload) => Promise<void> }) => void (this.eachBatch = o.eachBatch),
      commitOffsets: async (offsets: TopicPartitionOffsetAndMetadata[]) => {
        this.events.push('commit');
        this.commits.push(offsets);
      },
    };
  }
}

const config = resolveRuntimeConfig(
  { pipeline: { namespace: 'a', name: 'b' }, signals: ['logs'], kafka: { brokers: ['k:1'] }, sinks: {} },
  'test',
);

async function setup(sink: FakeBufferingSink, deadLetterUndecodable?: boolean) {
  const fake = new FakeKafka();
  const built = buildPipeline([]);
  if (!built.ok) throw new Error('pipeline');
  const registry = new prom.Registry();
  const runner = new SinkRunner({
    kafka: fake as unknown as Kafka,
    config,
    sink,
    pipeline: built.pipeline,
    metrics: createRunnerMetrics(registry),
    processorMetrics: createProcessorMetrics(registry),
    log: silentLogger(),
    backoffMs: { initial: 5, max: 20 },
    ...(deadLetterUndecodable === undefined ? {} : { deadLetterUndecodable }),
  });
  await runner.start();
  fake.handlers.get('join')!();
  return { fake, registry, runner };
}

const good = (i: number) => String(encodeLogEntry({ timestampNs: BigInt(i), labels: { s: 'x' }, message: `m${i}`, fields: {} }, {}).value);

function payload(first: number, last: number, resolved: string[], running = () => true): EachBatchPayload {
  const messages = Array.from(
    { length: last - first + 1 },
    (_, k) => ({ key: null, value: Buffer.from(good(first + k)), offset: String(first + k), headers: {} }) as unknown as KafkaMessage,
  );
  return {
    batch: { topic: TOPIC, partition: 1, messages, lastOffset: () => String(last), offsetLag: () => '0' },
    heartbeat: async () => undefined,
    isRunning: running,
    isStale: () => false,
    resolveOffset: (o: string) => void resolved.push(o),
  } as unknown as EachBatchPayload;
}

test('a batch is resolved at once but committed only when a flush made it durable', async (t) => {
  const sink = new FakeBufferingSink();
  const { fake, registry, runner } = await setup(sink);
  const resolved: string[] = [];
  await fake.eachBatch!(payload(0, 4, resolved));
  t.deepEqual(resolved, ['4'], 'Kafka moves on');
  t.deepEqual(fake.commits, [], 'nothing durable, nothing committed');
  t.deepEqual(sink.appended, [{ first: 0n, last: 4n, records: 5 }]);
  sink.due = true;
  await fake.eachBatch!(payload(5, 6, resolved));
  t.deepEqual(fake.commits, [
    [
      { topic: TOPIC, partition: 1, offset: '5' },
      { topic: TOPIC, partition: 1, offset: '7' },
    ],
  ]);
  t.regex(await registry.metrics(), /sextant_sink_records_written_total\{sink="buf",signal="logs"\} 7/);
  t.true(runner.ready());
  await runner.close();
});

test('pinned offsets from begin() cut the batch into segments', async (t) => {
  const sink = new FakeBufferingSink();
  sink.pins = [2n, 5n, 40n];
  const { fake, runner } = await setup(sink);
  await fake.eachBatch!(payload(0, 9, []));
  t.deepEqual(
    sink.appended.map((a) => [a.first, a.last, a.records]),
    [
      [0n, 2n, 3],
      [3n, 5n, 3],
      [6n, 9n, 4],
    ],
  );
  await runner.close();
});

test('a failing flush blocks the batch with backoff: not ready, no commit; then commits', async (t) => {
  const sink = new FakeBufferingSink();
  sink.due = true;
  sink.flushFailures = 3;
  const { fake, registry, runner } = await setup(sink);
  await fake.eachBatch!(payload(0, 4, []));
  t.is(sink.flushes.length, 4);
  t.deepEqual(fake.commits, [[{ topic: TOPIC, partition: 1, offset: '5' }]]);
  t.regex(await registry.metrics(), /sextant_sink_write_errors_total\{sink="buf"\} 3/);
  t.true(runner.ready());
  await runner.close();
});

test('stopping mid-outage leaves the buffer uncommitted', async (t) => {
  const sink = new FakeBufferingSink();
  sink.due = true;
  sink.flushFailures = 1_000;
  const { fake, runner } = await setup(sink);
  let running = true;
  setTimeout(() => (running = false), 50);
  await fake.eachBatch!(payload(0, 4, [], () => running));
  t.deepEqual(fake.commits, []);
  t.false(runner.ready(), 'not ready while the sink fails');
  sink.flushFailures = 0;
  await runner.close();
});

test('a journal that cannot be read: backoff before anything is taken', async (t) => {
  const sink = new FakeBufferingSink();
  sink.beginFailures = 2;
  const { fake, registry, runner } = await setup(sink);
  const resolved: string[] = [];
  await fake.eachBatch!(payload(0, 1, resolved));
  t.is(sink.appended.length, 1);
  t.deepEqual(resolved, ['1']);
  t.regex(await registry.metrics(), /sextant_sink_write_errors_total\{sink="buf"\} 2/);
  await runner.close();
});

test('a rebalance resets the buffers; the timer flushes idle buffers; SIGTERM flushes and commits before leaving', async (t) => {
  const sink = new FakeBufferingSink();
  const { fake, runner } = await setup(sink);
  t.deepEqual(sink.resets, ['rebalance'], 'every GROUP_JOIN resets');
  await fake.eachBatch!(payload(0, 4, []));
  sink.due = true;
  for (let i = 0; i < 2000 && fake.commits.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  t.deepEqual(fake.commits, [[{ topic: TOPIC, partition: 1, offset: '5' }]], 'the timer flushed and committed');
  sink.due = false;
  await fake.eachBatch!(payload(5, 8, []));
  fake.events.length = 0;
  await runner.close();
  t.deepEqual(fake.events, ['pause', 'commit', 'disconnect']);
  t.deepEqual(fake.commits[1], [{ topic: TOPIC, partition: 1, offset: '9' }]);
  t.true(sink.flushes.includes(true), 'a shutdown flush');
});

test('undecodable records go to the DLQ before the batch is taken — from one sink runner only when told', async (t) => {
  for (const [option, expected] of [
    [undefined, 1],
    [false, 0],
  ] as const) {
    const sink = new FakeBufferingSink();
    const { fake, runner } = await setup(sink, option);
    const p = payload(0, 1, []);
    (p.batch.messages[0] as { value: Buffer }).value = Buffer.from('{bad');
    await fake.eachBatch!(p);
    t.is(fake.dlq.length, expected, `deadLetterUndecodable=${option}`);
    t.deepEqual(sink.appended, [{ first: 0n, last: 1n, records: 1 }], 'the offsets are consumed either way');
    await runner.close();
  }
});
