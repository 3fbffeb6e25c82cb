import test from 'ava';
import { seriesFingerprint, streamFingerprint } from '../../model/fingerprint.js';
import {
  decodeLogEntry,
  decodeMetricRecord,
  decodeSample,
  encodeLogEntry,
  encodeMetadata,
  encodeSample,
  PoisonRecordError,
  recordHeaders,
} from './codec.js';

const entry = { timestampNs: 1764151200123456789n, labels: { service: 'api' }, message: 'GET /x 200', fields: { trace_id: 'ab12' } };

test('a log entry round-trips with its nanoseconds, keyed by the stream fingerprint', (t) => {
  const message = encodeLogEntry(entry, recordHeaders('team-a', 1000));
  t.is(message.key, streamFingerprint(entry.labels));
  t.is(JSON.parse(String(message.value)).ts, '1764151200123456789');
  t.deepEqual(message.headers, { 'sextant-tenant': 'team-a', 'sextant-schema-version': '1', 'sextant-ingest-time': '1000' });
  t.deepEqual(decodeLogEntry(Buffer.from(String(message.value))), entry);
});

test('samples round-trip, non-finite values included, keyed by the series fingerprint', (t) => {
  for (const value of [42, 0.5, NaN, Infinity, -Infinity]) {
    const sample = { name: 'http_requests_total', labels: { service: 'api' }, timestampMs: 1764151200123, value };
    const message = encodeSample(sample, {});
    t.is(message.key, seriesFingerprint(sample.name, sample.labels));
    t.deepEqual(decodeSample(Buffer.from(String(message.value))), sample);
  }
});

test('a metrics topic carries samples and metadata: each decodes as its kind; a bad metadata record is poison', (t) => {
  const metadata = {
    metric: 'rpc_seconds',
    type: 'histogram' as const,
    help: 'RPC "latency".',
    unit: 'seconds',
    timestampMs: 1764151200123,
  };
  const message = encodeMetadata(metadata, {});
  t.is(message.key, 'metadata:rpc_seconds', 'one family keeps one partition');
  t.deepEqual(decodeMetricRecord(Buffer.from(String(message.value))), { kind: 'metadata', metadata });
  const sample = { name: 'rpc_seconds_count', labels: { kind: 'metadata' }, timestampMs: 1764151200123, value: 1 };
  t.deepEqual(
    decodeMetricRecord(Buffer.from(String(encodeSample(sample, {}).value))),
    { kind: 'sample', sample },
    'a label value is not a kind',
  );
  const poison = (doc: object) =>
    t.throws(
      () => decodeMetricRecord(Buffer.from(JSON.stringify({ kind: 'metadata', ts: '1', metric: 'm', help: '', unit: '', ...doc }))),
      {
        instanceOf: PoisonRecordError,
      },
    )?.message;
  t.regex(poison({ type: 'counterish' }) ?? '', /^type: expected one of unknown, counter/);
  t.is(poison({ type: 'gauge', metric: '' }), 'metric: expected a non-empty string');
  t.is(poison({ type: 'gauge', help: 3 }), 'help: expected a string');
});

test('undecodable values are poison, with the reason', (t) => {
  const poison = (text: string | null) =>
    t.throws(() => decodeLogEntry(text === null ? null : Buffer.from(text)), { instanceOf: PoisonRecordError });
  t.regex(poison('{not json')?.message ?? '', /^not JSON/);
  t.is(poison('[]')?.message, 'expected a JSON object');
  t.is(poison('{"ts":1,"labels":{},"message":""}')?.message, 'ts: expected a string of nanosecond digits');
  t.is(poison('{"ts":"1","labels":{"a":1},"message":""}')?.message, 'labels: expected an object of strings');
  t.is(poison('{"ts":"1","labels":{},"message":3}')?.message, 'message: expected a string');
  t.is(poison(null)?.message, 'empty record value');
  t.throws(() => decodeSample(Buffer.from('{"ts":"1","name":"x","labels":{},"value":"lots"}')), { instanceOf: PoisonRecordError });
});
