import test from 'ava';
import zlib from 'node:zlib';
import { STALE_NAN, isStaleNaN } from '../../model/stale.js';
import { logRecordId, sampleRecordId, seriesFingerprint, streamFingerprint } from '../../model/fingerprint.js';
import {
  decodeLogLine,
  decodeObject,
  decodeSampleLine,
  encodeLogRecord,
  encodeObjectBody,
  encodeSampleRecord,
  ObjectFormatError,
} from './records.js';

const entry = { timestampNs: 1764151200123456789n, labels: { service: 'api' }, message: 'GET /x 200 ☃', fields: { trace_id: 'ab', n: 1 } };

test('log records round-trip through a gzip NDJSON body with their deterministic ids', async (t) => {
  const a = encodeLogRecord(entry);
  const b = encodeLogRecord({ ...entry, timestampNs: entry.timestampNs + 1n, message: 'second' });
  t.is(a.id, logRecordId(streamFingerprint(entry.labels), entry));
  t.is(a.fingerprint, streamFingerprint(entry.labels));
  const body = await encodeObjectBody([a.line, b.line]);
  t.is(zlib.gunzipSync(body).toString(), `${a.line}\n${b.line}\n`);
  const decoded = await decodeObject('logs', body);
  t.deepEqual(decoded[0], { ...entry, id: a.id, stream: a.fingerprint });
  t.is(decoded[1]!.message, 'second');
  t.is(decoded[1]!.timestampNs, entry.timestampNs + 1n);
});

test('samples keep ms timestamps and NaN/±Inf values', async (t) => {
  const samples = [
    { name: 'up', labels: { job: 'a' }, timestampMs: 1764151200123, value: 1.5 },
    { name: 'up', labels: { job: 'a' }, timestampMs: 1764151200124, value: NaN },
    { name: 'up', labels: { job: 'a' }, timestampMs: 1764151200125, value: Infinity },
    { name: 'up', labels: { job: 'a' }, timestampMs: 1764151200126, value: -Infinity },
  ];
  const encoded = samples.map(encodeSampleRecord);
  t.is(encoded[0]!.id, sampleRecordId(seriesFingerprint('up', { job: 'a' }), samples[0]!));
  t.is(encoded[0]!.timestampNs, 1764151200123000000n);
  t.regex(encoded[2]!.line, /"value":"\+Inf"/);
  const decoded = await decodeObject('metrics', await encodeObjectBody(encoded.map((e) => e.line)));
  t.deepEqual(
    decoded.map((d) => d.value),
    [1.5, NaN, Infinity, -Infinity],
  );
  t.like(decoded[0], { name: 'up', labels: { job: 'a' }, timestampMs: 1764151200123, series: encoded[0]!.fingerprint });
});

test('a staleness marker is written as "StaleNaN" and decoded as STALE_NAN with its stale flag; a NaN has none', async (t) => {
  const encoded = [STALE_NAN, NaN].map((value, i) => encodeSampleRecord({ name: 'up', labels: {}, timestampMs: 1000 + i, value }));
  t.regex(encoded[0]!.line, /"value":"StaleNaN"/);
  const [marker, nan] = await decodeObject('metrics', await encodeObjectBody(encoded.map((e) => e.line)));
  t.true(marker!.stale);
  t.true(isStaleNaN(marker!.value));
  t.is(nan!.stale, undefined);
  t.false(isStaleNaN(nan!.value));
});

test('the same records give byte-identical bodies (a rewrite after a crash is the same object)', async (t) => {
  const lines = [encodeLogRecord(entry).line];
  t.deepEqual(await encodeObjectBody(lines), await encodeObjectBody(lines));
});

test('bad bodies and lines are errors naming the line', async (t) => {
  await t.throwsAsync(decodeObject('logs', Buffer.from('plain')), { instanceOf: ObjectFormatError, message: /not a gzip body/ });
  t.throws(() => decodeLogLine('{"id":"x","stream":"y","ts":"1","labels":{},"message":3,"fields":{}}', 7), {
    message: 'line 7: message must be a string',
  });
  t.throws(() => decodeSampleLine('{"id":"x","series":"y","name":"n","ts":"1.5","labels":{},"value":1}', 2), {
    message: 'line 2: ts must be a string of nanosecond digits',
  });
  t.throws(() => decodeSampleLine('[1]', 3), { message: 'line 3: expected an object' });
});
