import test from 'ava';
import type { KafkaMessage } from 'kafkajs';
import { encodeLogEntry, encodeSample } from '../../bus/kafka/codec.js';
import { buildPipeline } from '../pipeline.js';
import { prepareBatch } from './batch.js';

const message = (value: string | Buffer | null, offset: number): KafkaMessage =>
  ({
    key: null,
    value: typeof value === 'string' ? Buffer.from(value) : value,
    offset: String(offset),
    timestamp: '0',
    attributes: 0,
    headers: {},
  }) as KafkaMessage;

test('log batches run through the stages; undecodable records become dead letters', (t) => {
  const built = buildPipeline([{ drop: { when: { label: 'level', equals: 'debug' } } }]);
  if (!built.ok) return t.fail(built.errors.join());
  const keep = encodeLogEntry({ timestampNs: 1n, labels: { level: 'info' }, message: 'a', fields: {} }, {});
  const drop = encodeLogEntry({ timestampNs: 2n, labels: { level: 'debug' }, message: 'b', fields: {} }, {});
  const batch = prepareBatch(
    'logs',
    'topic',
    0,
    [message(String(keep.value), 0), message('{oops', 1), message(String(drop.value), 2)],
    built.pipeline,
  );
  t.deepEqual(
    batch.records.map((r) => (r.kind === 'log' ? r.entry.message : '')),
    ['a'],
  );
  t.is(batch.received, 2);
  t.is(batch.deadLetters.length, 1);
  t.like(batch.deadLetters[0], { reason: 'undecodable', topic: 'topic', partition: 0 });
  t.is(batch.deadLetters[0]!.message.offset, '1');
  t.is(batch.processed?.dropped[0]?.count, 1);
});

test('metric batches are decoded and passed on unchanged', (t) => {
  const built = buildPipeline([]);
  if (!built.ok) return t.fail();
  const s = encodeSample({ name: 'up', labels: { job: 'a' }, timestampMs: 5, value: 1 }, {});
  const batch = prepareBatch('metrics', 'm', 1, [message(String(s.value), 0), message(null, 1)], built.pipeline);
  t.deepEqual(batch.records, [{ kind: 'sample', sample: { name: 'up', labels: { job: 'a' }, timestampMs: 5, value: 1 } }]);
  t.is(batch.deadLetters[0]?.error, 'empty record value');
});
