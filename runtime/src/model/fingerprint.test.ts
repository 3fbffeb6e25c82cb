import test from 'ava';
import { logRecordId, seriesFingerprint, streamFingerprint } from './fingerprint.js';

test('stream fingerprints ignore label order and differ by content', (t) => {
  t.is(streamFingerprint({ a: '1', b: '2' }), streamFingerprint({ b: '2', a: '1' }));
  t.not(streamFingerprint({ a: '1', b: '2' }), streamFingerprint({ a: '1', b: '3' }));
  // Separators keep {a:"1b", …} and {a:"1", b…} apart.
  t.not(streamFingerprint({ a: 'b=c' }), streamFingerprint({ 'a=b': 'c' }));
  t.regex(streamFingerprint({ a: '1' }), /^[0-9a-f]{16}$/);
});

test('series fingerprints include the metric name', (t) => {
  t.not(seriesFingerprint('up', { job: 'x' }), seriesFingerprint('down', { job: 'x' }));
  t.is(seriesFingerprint('up', { a: '1', b: '2' }), seriesFingerprint('up', { b: '2', a: '1' }));
});

test('log record ids are deterministic and content-derived', (t) => {
  const fp = streamFingerprint({ a: '1' });
  const entry = { timestampNs: 1n, labels: { a: '1' }, message: 'hello', fields: {} };
  t.deepEqual(logRecordId(fp, entry), logRecordId(fp, { ...entry, fields: { other: true } }));
  t.notDeepEqual(logRecordId(fp, entry), logRecordId(fp, { ...entry, timestampNs: 2n }));
  t.notDeepEqual(logRecordId(fp, entry), logRecordId(fp, { ...entry, message: 'hello!' }));
  t.is(logRecordId(fp, entry).length, 16);
});
