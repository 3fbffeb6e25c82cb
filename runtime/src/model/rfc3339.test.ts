import test from 'ava';
import { parseRfc3339 as parseRfc3339Ns } from './timestamp.js';

const T0 = BigInt(Date.parse('2026-11-26T10:00:00Z')) * 1_000_000n;

test('nanosecond precision is kept exactly (beyond float64)', (t) => {
  t.is(parseRfc3339Ns('2026-11-26T10:00:00.123456789Z'), T0 + 123_456_789n);
  t.is(parseRfc3339Ns('2026-11-26T10:00:00.000000001Z'), T0 + 1n);
  t.is(parseRfc3339Ns('2026-11-26T10:00:00Z'), T0);
  t.is(parseRfc3339Ns('2026-11-26T10:00:00.5z'), T0 + 500_000_000n);
  t.is(parseRfc3339Ns('2026-11-26 10:00:00.12Z'), T0 + 120_000_000n);
});

test('digits beyond nanoseconds are truncated', (t) => {
  t.is(parseRfc3339Ns('2026-11-26T10:00:00.1234567899Z'), T0 + 123_456_789n);
});

test('offsets are applied', (t) => {
  t.is(parseRfc3339Ns('2026-11-26T12:30:00.000000007+02:30'), T0 + 7n);
  t.is(parseRfc3339Ns('2026-11-26T05:00:00-05:00'), T0);
});

test('the epoch, pre-epoch and two-digit years', (t) => {
  t.is(parseRfc3339Ns('1970-01-01T00:00:00.000000001Z'), 1n);
  t.is(parseRfc3339Ns('1969-12-31T23:59:59.999999999Z'), -1n);
  t.is(parseRfc3339Ns('0026-01-01T00:00:00Z'), BigInt(Date.parse('0026-01-01T00:00:00Z')) * 1_000_000n);
});

test('invalid timestamps are rejected', (t) => {
  for (const text of [
    '',
    '2026-11-26',
    '2026-11-26T10:00:00',
    '2026-13-01T00:00:00Z',
    '2026-00-01T00:00:00Z',
    '2026-02-29T00:00:00Z',
    '2026-04-31T00:00:00Z',
    '2026-11-00T00:00:00Z',
    '2026-11-26T24:00:00Z',
    '2026-11-26T10:60:00Z',

    '2026-11-26T10:00:00.Z',
    '2026-11-26T10:00:00+0200',
    '2026-11-26T10:00:00+24:00',
    ' 2026-11-26T10:00:00Z',
  ]) {
    t.is(parseRfc3339Ns(text), undefined, text);
  }
  t.is(parseRfc3339Ns('2028-02-29T00:00:00Z'), BigInt(Date.parse('2028-02-29T00:00:00Z')) * 1_000_000n);
});
