import test from 'ava';
import {
  dayPrefix,
  hourPrefixesForRange,
  hourStartOfNs,
  indexKey,
  journalKey,
  objectKey,
  parseObjectKey,
  pipelinePrefix,
  rangesOverlap,
  type ObjectLocation,
} from './layout.js';

const loc: ObjectLocation = {
  prefix: '/team-a/archive/',
  signal: 'logs',
  namespace: 'team-a',
  pipeline: 'api',
  hourStartMs: Date.parse('2026-11-26T10:00:00Z'),
  partition: 3,
  firstOffset: 100n,
  lastOffset: 199n,
};

test('object keys follow <prefix>/<signal>/<namespace>/<pipeline>/dt=/hour=/p<partition>-<first>-<last>.ndjson.gz', (t) => {
  t.is(objectKey(loc), 'team-a/archive/logs/team-a/api/dt=2026-11-26/hour=10/p3-00000000000000000100-00000000000000000199.ndjson.gz');
  t.is(indexKey(objectKey(loc)), `${objectKey(loc)}.index.json`);
  t.is(journalKey(loc, 3), 'team-a/archive/logs/team-a/api/_journal/p3.json');
  t.is(pipelinePrefix({ ...loc, prefix: '' }), 'logs/team-a/api/');
  t.is(dayPrefix(loc, loc.hourStartMs + 59 * 60_000), 'team-a/archive/logs/team-a/api/dt=2026-11-26/');
});

test('a key parses back to its location; other keys do not parse', (t) => {
  t.deepEqual(parseObjectKey(objectKey(loc)), { ...loc, prefix: 'team-a/archive' });
  t.deepEqual(parseObjectKey(objectKey({ ...loc, prefix: '' }))?.prefix, '');
  t.is(parseObjectKey(indexKey(objectKey(loc))), undefined);
  t.is(parseObjectKey(journalKey(loc, 3)), undefined);
  t.is(parseObjectKey('logs/a/b/dt=2026-11-26/hour=10/x.ndjson.gz'), undefined);
});

test('keys sort by offset within an hour (zero-padded offsets)', (t) => {
  const a = objectKey({ ...loc, firstOffset: 9n, lastOffset: 99n });
  const b = objectKey({ ...loc, firstOffset: 100n, lastOffset: 1000n });
  t.true(a < b);
});

test('the hour comes from the record timestamp (UTC), and a range maps to its hour prefixes', (t) => {
  t.is(hourStartOfNs(1764151199999999999n), Date.parse('2025-11-26T09:00:00Z'));
  t.is(hourStartOfNs(1764151200000000000n), Date.parse('2025-11-26T10:00:00Z'));
  const prefixes = hourPrefixesForRange(loc, Date.parse('2026-11-26T22:30:00Z'), Date.parse('2026-11-27T01:00:00Z'));
  t.deepEqual(
    prefixes.map((p) => p.slice(pipelinePrefix(loc).length)),
    ['dt=2026-11-26/hour=22/', 'dt=2026-11-26/hour=23/', 'dt=2026-11-27/hour=00/', 'dt=2026-11-27/hour=01/'],
  );
});

test('overlapping ranges of different flushes are flagged; one flush across hours is not', (t) => {
  const other = { ...loc, hourStartMs: loc.hourStartMs + 3_600_000 };
  t.false(rangesOverlap(loc, other));
  t.true(rangesOverlap(loc, { ...loc, lastOffset: 150n }));
  t.false(rangesOverlap(loc, { ...loc, firstOffset: 200n, lastOffset: 300n }));
  t.false(rangesOverlap(loc, { ...loc, partition: 4, lastOffset: 150n }));
  t.false(rangesOverlap(loc, { ...loc, signal: 'metrics', lastOffset: 150n }));
});
