import test from 'ava';
import { IndexBuilder, indexMayMatch, MAX_STREAMS, MAX_VALUES, parseObjectIndex, ObjectIndexError } from './object-index.js';
import { encodeLogRecord, encodeSampleRecord } from './records.js';

const meta = { signal: 'logs' as const, key: 'k', topic: 't', partition: 1, firstOffset: 10n, lastOffset: 20n, bytes: 123 };

function logIndex() {
  const b = new IndexBuilder();
  b.add(encodeLogRecord({ timestampNs: 300n, labels: { service: 'api', level: 'info' }, message: 'a', fields: {} }));
  b.add(encodeLogRecord({ timestampNs: 100n, labels: { service: 'api', level: 'info' }, message: 'b', fields: {} }));
  b.add(encodeLogRecord({ timestampNs: 500n, labels: { service: 'web' }, message: 'c', fields: {} }));
  return b.build(meta);
}

test('the index holds the time range, record count, streams and a label summary', (t) => {
  const index = logIndex();
  t.like(index, {
    version: 1,
    signal: 'logs',
    records: 3,
    minTimeNs: '100',
    maxTimeNs: '500',
    streamCount: 2,
    firstOffset: '10',
    lastOffset: '20',
  });
  t.deepEqual(index.labels, { level: ['info'], service: ['api', 'web'] });
  t.deepEqual(index.labelCounts, { level: 1, service: 2 });
  const api = index.streams!.find((s) => s.labels.service === 'api')!;
  t.like(api, { records: 2, minTimeNs: '100', maxTimeNs: '300' });
  t.deepEqual(parseObjectIndex(JSON.stringify(index), 'k'), index);
});

test('metric series carry __name__ in their labels', (t) => {
  const b = new IndexBuilder();
  b.add(encodeSampleRecord({ name: 'up', labels: { job: 'a' }, timestampMs: 5, value: 1 }));
  const index = b.build({ ...meta, signal: 'metrics' });
  t.deepEqual(index.streams![0]!.labels, { __name__: 'up', job: 'a' });
  t.deepEqual(index.labels.__name__, ['up']);
  t.is(index.minTimeNs, '5000000');
});

test('pruning by time and by matchers, exact with the stream list', (t) => {
  const index = logIndex();
  t.true(indexMayMatch(index, [], 0n, 100n));
  t.false(indexMayMatch(index, [], 501n, 900n));
  t.false(indexMayMatch(index, [], 0n, 99n));
  t.true(indexMayMatch(index, [{ name: 'service', op: '=', value: 'web' }], 0n, 1000n));
  // web's only record is at 500
  t.false(indexMayMatch(index, [{ name: 'service', op: '=', value: 'web' }], 0n, 400n));
  t.false(indexMayMatch(index, [{ name: 'service', op: '=', value: 'db' }], 0n, 1000n));
  t.true(indexMayMatch(index, [{ name: 'level', op: '=', value: '' }], 0n, 1000n), 'web has no level: matches level=""');
  t.false(indexMayMatch(index, [{ name: 'service', op: '=~', value: 'ap' }], 0n, 1000n), 'regexes are anchored');
});

test('without the stream list the summary still prunes positive matchers', (t) => {
  const { streams: _, ...summary } = logIndex();
  t.true(indexMayMatch(summary, [{ name: 'service', op: '=', value: 'web' }], 0n, 400n), 'conservative: no per-stream times');
  t.false(indexMayMatch(summary, [{ name: 'service', op: '=', value: 'db' }], 0n, 1000n));
  t.true(indexMayMatch(summary, [{ name: 'level', op: '=', value: '' }], 0n, 1000n));
  t.false(indexMayMatch(summary, [{ name: 'service', op: '=', value: '' }], 0n, 1000n));
  t.true(indexMayMatch(summary, [{ name: 'service', op: '!=', value: 'api' }], 0n, 1000n));
  t.true(indexMayMatch({ ...summary, truncatedLabels: ['service'] }, [{ name: 'service', op: '=', value: 'db' }], 0n, 1000n));
});

test('the stream list is left out beyond the cap', (t) => {
  const b = new IndexBuilder();
  for (let i = 0; i <= MAX_STREAMS; i++) b.add(encodeLogRecord({ timestampNs: 1n, labels: { i: String(i) }, message: '', fields: {} }));
  const index = b.build(meta);
  t.is(index.streams, undefined);
  t.is(index.streamCount, MAX_STREAMS + 1);
  t.is(index.labels.i!.length, MAX_VALUES, 'value list cut at the cap');
  t.deepEqual(index.truncatedLabels, ['i']);
});

test('a malformed sidecar is an error naming the key and field', (t) => {
  const text = JSON.stringify({ ...logIndex(), minTimeNs: 5 });
  t.throws(() => parseObjectIndex(text, 'a/b.index.json'), { instanceOf: ObjectIndexError, message: /^a\/b\.index\.json: .*minTimeNs/ });
  t.throws(() => parseObjectIndex('{', 'x'), { message: /^x: not JSON/ });
});
