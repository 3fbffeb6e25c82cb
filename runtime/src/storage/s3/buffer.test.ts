import test from 'ava';
import { groupByHour, PartitionBuffer, type Segment } from './buffer.js';
import { encodeLogRecord } from './records.js';

const HOUR_NS = 3_600_000_000_000n;
const limits = { maxBytes: 10_000, maxAgeMs: 1_000, maxRecords: 5 };

function segment(first: number, last: number, ts: bigint[] = []): Segment {
  return {
    firstOffset: BigInt(first),
    lastOffset: BigInt(last),
    records: ts.map((t, i) => encodeLogRecord({ timestampNs: t, labels: { a: 'b' }, message: `m${first + i}`, fields: {} })),
  };
}

test('a buffer is due by records, bytes or age — whichever comes first', (t) => {
  const b = new PartitionBuffer('t', 0, 'logs');
  t.is(b.due(limits, 0), undefined, 'empty: never due');
  b.append(segment(0, 3, [1n, 2n, 3n, 4n]), 100);
  t.is(b.due(limits, 100), undefined);
  t.is(b.due(limits, 1_099), undefined);
  t.is(b.due(limits, 1_100), 'age');
  t.is(b.due(limits, 100, true), 'shutdown');
  b.append(segment(4, 4, [5n]), 200);
  t.is(b.due(limits, 200), 'records');
  const big = new PartitionBuffer('t', 0, 'logs');
  big.append({ firstOffset: 0n, lastOffset: 0n, records: [{ ...segment(0, 0, [1n]).records[0]!, line: 'x'.repeat(10_000) }] }, 0);
  t.is(big.bytes, 10_001, 'line plus newline');
  t.is(big.due(limits, 0), 'bytes');
});

test('consumed offsets without records still count toward the range', (t) => {
  const b = new PartitionBuffer('t', 0, 'logs');
  b.append(segment(10, 19), 0);
  t.is(b.firstOffset, 10n);
  t.is(b.lastOffset, 19n);
  t.is(b.records, 0);
  t.is(b.due(limits, 5_000), 'age');
});

test('segments must follow each other; a pin is never straddled', (t) => {
  const b = new PartitionBuffer('t', 0, 'logs');
  b.append(segment(0, 9), 0);
  t.throws(() => b.append(segment(5, 12), 0), { message: /does not follow offset 9/ });
  b.pins = [14n];
  t.throws(() => b.append(segment(10, 20), 0), { message: /straddles the pinned flush end 14/ });
});

test('a pin overrides the limits: due exactly when reached, and only up to it', (t) => {
  const b = new PartitionBuffer('t', 0, 'logs');
  b.pins = [14n, 20n];
  b.append(segment(0, 9, [1n, 2n, 3n, 4n, 5n, 6n]), 0);
  t.is(b.due(limits, 10_000), undefined, 'over every limit, but the pin is not reached');
  t.is(b.due(limits, 10_000, true), undefined, 'not even on shutdown');
  b.append(segment(10, 14, [7n]), 0);
  b.append(segment(15, 20, [8n]), 0);
  t.is(b.due(limits, 0), 'recovery');
  const flushable = b.flushable();
  t.deepEqual(
    flushable.map((s) => s.lastOffset),
    [9n, 14n],
  );
  b.release(flushable, 50);
  t.deepEqual(b.pins, [20n], 'a reached pin is dropped');
  t.is(b.firstOffset, 15n);
  t.is(b.records, 1);
  t.is(b.openedAtMs, 50);
  t.is(b.lastSeen, 20n);
  t.is(b.due(limits, 0), 'recovery', 'the next pin is reached too');
});

test('records are grouped by the hour of their own timestamps, in offset order', (t) => {
  const h0 = 1764151200000000000n; // 2025-11-26T10:00Z
  const groups = groupByHour([segment(0, 2, [h0 + HOUR_NS + 1n, h0 + 5n, h0 + HOUR_NS]), segment(3, 3, [h0 + 1n])]);
  t.deepEqual([...groups.keys()], [Date.parse('2025-11-26T10:00:00Z'), Date.parse('2025-11-26T11:00:00Z')]);
  t.deepEqual(
    [...groups.values()].map((g) => g.map((r) => r.timestampNs - h0)),
    [
      [5n, 1n],
      [HOUR_NS + 1n, HOUR_NS],
    ],
  );
});
