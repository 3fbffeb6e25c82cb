import test from 'ava';
import type { Kafka, ProducerBatch } from 'kafkajs';
import prom from 'prom-client';
import { silentLogger } from '../../common/log.js';
import { resolveRuntimeConfig } from '../../platform/runtime-config.js';
import { BusUnavailableError } from '../bus.js';
import { chunkByBytes, headersBytes, KafkaBus, messageBytes } from './kafka-bus.js';
import { createKafkaBusMetrics } from './metrics.js';

/** A fake kafkajs client: records sendBatch calls; `down` makes every call fail. */
class FakeKafka {
  down = false;
  sends: ProducerBatch[] = [];
  producers = 0;
  release: (() => void) | undefined;
  hold = false;
  admin() {
    return {
      connect: async () => this.check(),
      disconnect: async () => undefined,
      describeCluster: async () => this.check(),
      listTopics: async () => ['sextant.a.b.logs', 'sextant.a.b.metrics', 'sextant.a.b.dlq'],
      createTopics: async () => true,
    };
  }
  producer() {
    this.producers++;
    return {
      connect: async () => this.check(),
      disconnect: async () => undefined,
      sendBatch: async (batch: ProducerBatch) => {
        this.check();
        if (this.hold) await new Promise<void>((r) => (this.release = r));
        this.sends.push(batch);
        return [];
      },
    };
  }
  private check(): void {
    if (this.down) throw new Error('connect ECONNREFUSED');
  }
}

function makeBus(fake: FakeKafka, lingerMs = 5, maxBatchRecords = 1000, maxBatchBytes = 1_000_000) {
  const config = resolveRuntimeConfig(
    {
      pipeline: { namespace: 'a', name: 'b' },
      kafka: { brokers: ['k:9092'], producer: { lingerMs, maxBatchRecords, maxBatchBytes, requestTimeoutMs: 1000 } },
      sinks: {},
    },
    'test',
  );
  return new KafkaBus({
    kafka: fake as unknown as Kafka,
    config,
    metrics: createKafkaBusMetrics(new prom.Registry()),
    log: silentLogger(),
  });
}

const entry = (i: number) => ({ timestampNs: BigInt(i), labels: { s: 'x' }, message: `m${i}`, fields: {} });

test('concurrent publishes within the linger window go out in one acknowledged send (acks=all)', async (t) => {
  const fake = new FakeKafka();
  const bus = makeBus(fake);
  bus.start();
  t.true(await bus.waitReady(20_000));
  const results = await Promise.all([
    bus.publishLogs([entry(1), entry(2)]),
    bus.publishLogs([entry(3)]),
    bus.publishSamples([{ name: 'up', labels: {}, timestampMs: 1, value: 1 }]),
  ]);
  t.deepEqual(
    results.map((r) => r.accepted),
    [2, 1, 1],
  );
  t.is(fake.sends.length, 1);
  t.is(fake.sends[0]!.acks, -1);
  t.deepEqual(fake.sends[0]!.topicMessages!.map((tm) => [tm.topic, tm.messages.length]).sort(), [
    ['sextant.a.b.logs', 3],
    ['sextant.a.b.metrics', 1],
  ]);
  await bus.close();
});

test('publishes arriving while a send is in flight are coalesced into the next send, cut at maxBatchRecords', async (t) => {
  const fake = new FakeKafka();
  const bus = makeBus(fake, 1, 3);
  bus.start();
  await bus.waitReady(20_000);
  fake.hold = true;
  const first = bus.publishLogs([entry(0)]);
  while (fake.release === undefined) await new Promise((r) => setTimeout(r, 5)); // the first send is in flight
  const later = [bus.publishLogs([entry(1), entry(2)]), bus.publishLogs([entry(3)]), bus.publishLogs([entry(4)])];
  fake.hold = false;
  fake.release!();
  await Promise.all([first, ...later]);
  t.deepEqual(
    fake.sends.map((s) => s.topicMessages![0]!.messages.length),
    [1, 3, 1],
  );
  await bus.close();
});

test('sends stay under maxBatchBytes: publishes are cut by bytes, and one larger publish goes out in several sends acknowledged together', async (t) => {
  const fake = new FakeKafka();
  const size = messageBytes({ key: 'k', value: 'x'.repeat(1000) });
  t.true(size > 1000 && size < 1100, `size ${size}`);
  const bus = makeBus(fake, 1, 1000, 3_500); // about three 1 KB records per send
  bus.start();
  await bus.waitReady(20_000);
  const big = Array.from({ length: 7 }, (_, i) => ({ ...entry(i), message: `${i}`.padEnd(1000, 'x') }));
  t.deepEqual(await bus.publishLogs(big), { accepted: 7 });
  const perSend = fake.sends.map((s) => s.topicMessages!.reduce((n, tm) => n + tm.messages.length, 0));
  t.is(
    perSend.reduce((a, b) => a + b, 0),
    7,
  );
  t.true(perSend.length >= 3, `sends: ${JSON.stringify(perSend)}`);
  for (const send of fake.sends) {
    const bytes = send.topicMessages!.flatMap((tm) => tm.messages).reduce((n, m) => n + messageBytes(m), 0);
    t.true(bytes <= 3_500, `send of ${bytes} bytes`);
  }
  // In order, nothing lost or repeated.
  const values = fake.sends.flatMap((s) =>
    s.topicMessages!.flatMap((tm) => tm.messages.map((m) => JSON.parse(String(m.value)).message as string)),
  );
  t.deepEqual(
    values.map((v) => v.replace(/x+$/, '')),
    ['0', '1', '2', '3', '4', '5', '6'],
  );
  await bus.close();
});

test('chunkByBytes keeps a record larger than the bound on its own', (t) => {
  const small = { key: 'k', value: 'a' };
  const huge = { key: 'k', value: 'b'.repeat(5000) };
  const chunks = chunkByBytes(new Map([['t', [small, huge, small]]]), 1000);
  t.deepEqual(
    chunks.map((c) => c.map((tm) => tm.messages.length)),
    [[1], [1], [1]],
  );
});

test('chunkByBytes cuts by the sizes it is given (computed once per publish) and counts shared headers once per record', (t) => {
  const headers = { 'sextant-tenant': 'team-a', 'sextant-ingest-time': '1764151200123' };
  const m = { key: 'k', value: 'v'.repeat(100), headers };
  t.is(messageBytes(m, headersBytes(headers)), messageBytes(m));
  t.true(messageBytes(m) > messageBytes({ key: 'k', value: 'v'.repeat(100) }) + 40);
  const messages = [m, m, m, m];
  t.deepEqual(
    chunkByBytes(new Map([['t', messages]]), 1000, new Map([['t', [600, 500, 300, 600]]])).map((c) => c.map((tm) => tm.messages.length)),
    [[1], [2], [1]],
  );
});

test('Kafka down: publishes fail with BusUnavailableError, not ready; it recovers by itself', async (t) => {
  const fake = new FakeKafka();
  const bus = makeBus(fake);
  bus.start();
  await bus.waitReady(20_000);
  fake.down = true;
  const error = await t.throwsAsync(bus.publishLogs([entry(1)]), { instanceOf: BusUnavailableError });
  t.true(error!.retryAfterSeconds > 0);
  t.false(bus.ready());
  await t.throwsAsync(bus.publishLogs([entry(2)]), { instanceOf: BusUnavailableError }, 'fails fast while not ready');
  fake.down = false;
  t.true(await bus.waitReady(20_000), 'the probe reconnects a fresh producer');
  t.true(fake.producers >= 2);
  t.is((await bus.publishLogs([entry(3)])).accepted, 1);
  await bus.close();
});

test('not ready before the first connection; close sends what was accepted', async (t) => {
  const fake = new FakeKafka();
  fake.down = true;
  const bus = makeBus(fake, 50);
  bus.start();
  t.false(bus.ready());
  await t.throwsAsync(bus.publishLogs([entry(1)]), { instanceOf: BusUnavailableError });
  fake.down = false;
  await bus.waitReady(20_000);
  const pending = bus.publishLogs([entry(1)]);
  await bus.close();
  t.is((await pending).accepted, 1);
  await t.throwsAsync(bus.publishLogs([entry(2)]), { instanceOf: BusUnavailableError });
});

test('an idle bus notices an outage through its health check (so /readyz turns false without traffic)', async (t) => {
  const fake = new FakeKafka();
  const bus = makeBus(fake);
  bus.start();
  await bus.waitReady(20_000);
  fake.down = true;
  const deadline = Date.now() + 20_000;
  while (bus.ready() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  t.false(bus.ready());
  fake.down = false;
  t.true(await bus.waitReady(20_000));
  await bus.close();
});
