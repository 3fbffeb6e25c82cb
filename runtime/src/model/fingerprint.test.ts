import test from 'ava';
import { logRecordId, messageHash, seriesFingerprint, streamFingerprint } from './fingerprint.js';

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
  const entry = { timestampNs: 1795687200000000001n, message: 'hello' };
  t.is(logRecordId(fp, entry), logRecordId(fp, { ...entry }));
  t.not(logRecordId(fp, entry), logRecordId(fp, { ...entry, timestampNs: 2n }));
  t.not(logRecordId(fp, entry), logRecordId(fp, { ...entry, message: 'hello!' }));
  t.regex(logRecordId(fp, entry), /^[0-9a-f]{16}-1795687200000000001-[0-9a-f]{16}$/);
});

test('hashes are pinned: changing them would break dedupe of replays across an upgrade', (t) => {
  // xxHash64 of "hello" with seed 0 (published reference value 26c7827d889f6da3).
  t.is(messageHash('hello'), BigInt.asIntN(64, 0x26c7827d889f6da3n));
  t.is(streamFingerprint({ service: 'api' }), streamFingerprint({ service: 'api' }));
});
