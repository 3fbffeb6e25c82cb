import test from 'ava';
import { formatNs, parseTimestamp } from './timestamp.js';

const ns = (value: unknown) => {
  const r = parseTimestamp(value);
  if (!r.ok) throw new Error(r.error);
  return r.ns;
};
const error = (value: unknown) => {
  const r = parseTimestamp(value);
  return r.ok ? `accepted ${r.ns}` : r.error;
};

test('RFC 3339 keeps nanoseconds and applies offsets', (t) => {
  t.is(ns('2026-11-26T10:00:00.123456789Z'), 1795687200123456789n);
  t.is(ns('2026-11-26T10:00:00Z'), 1795687200000000000n);
  t.is(ns('2026-11-26T10:00:00.5Z'), 1795687200500000000n);
  t.is(ns('2026-11-26T11:30:00.000000001+01:30'), 1795687200000000001n);
  t.is(ns('2026-11-26 10:00:00z'), 1795687200000000000n);
});

test('epoch numbers are told apart by magnitude', (t) => {
  t.is(ns(1795687200), 1795687200000000000n); // s
  t.is(ns(1795687200.25), 1795687200250000000n); // fractional s
  t.is(ns(1795687200123), 1795687200123000000n); // ms
  t.is(ns(1795687200123456), 1795687200123456000n); // µs
  t.is(ns(0), 0n);
});

test('strings of digits are exact, even for nanoseconds beyond 2^53', (t) => {
  t.is(ns('1795687200123456789'), 1795687200123456789n);
  t.is(ns('1795687200123'), 1795687200123000000n);
  t.is(ns('1795687200.123456789'), 1795687200123456789n);
});

test('invalid timestamps are rejected with a reason', (t) => {
  t.is(error(NaN), 'timestamp must be finite, got NaN');
  t.is(error(-5), 'timestamp must not be negative, got -5');
  t.is(error(Infinity), 'timestamp must be finite, got Infinity');
  t.is(error('2026-02-30T00:00:00Z'), 'invalid timestamp "2026-02-30T00:00:00Z": date or time out of range');
  t.is(error('yesterday'), 'invalid timestamp "yesterday": expected RFC 3339 (2026-11-26T10:00:00.123Z) or epoch digits');
  t.is(error(true), 'expected an RFC 3339 string or an epoch number, got boolean');
  t.is(error('1969-12-31T23:59:59Z'), 'timestamp must not be before 1970, got "1969-12-31T23:59:59Z"');
});

test('formatNs round-trips through parseTimestamp', (t) => {
  for (const text of ['2026-11-26T10:00:00.123456789Z', '2026-01-01T00:00:00.000000000Z', '1999-12-31T23:59:59.999999999Z']) {
    t.is(formatNs(ns(text)), text);
  }
});
