import test from 'ava';
import { defaultLimits, withDefaults } from './limits.js';
import { normaliseLogEntries, normaliseSamples } from './records.js';

const NOW = 1795687200000000000n; // 2026-11-26T10:00:00Z
const path = (i: number) => `entries[${i}]`;
const logs = (items: unknown[], limits = defaultLimits) => normaliseLogEntries(items, path, limits, NOW);
const errorsOf = (r: ReturnType<typeof logs> | ReturnType<typeof normaliseSamples>) => (r.ok ? [] : r.errors);

test('a valid entry is normalised; a missing timestamp means now', (t) => {
  const r = logs([
    { timestamp: '2026-11-26T09:00:00.000000001Z', labels: { service: 'api' }, message: 'GET /x 200', fields: { trace_id: 'ab' } },
    { labels: { service: 'api' }, message: 'no time' },
  ]);
  t.true(r.ok);
  if (!r.ok) return;
  t.deepEqual(r.records[0], {
    timestampNs: 1795683600000000001n,
    labels: { service: 'api' },
    message: 'GET /x 200',
    fields: { trace_id: 'ab' },
  });
  t.is(r.records[1]!.timestampNs, NOW);
  t.deepEqual(r.records[1]!.fields, {});
});

test('wrong types and missing fields are reported with their paths', (t) => {
  t.deepEqual(errorsOf(logs([{ labels: { service: 42 }, message: 'x' }])), ['entries[0].labels.service: expected string, got 42']);
  t.deepEqual(errorsOf(logs([{ labels: { a: 'b' } }])), ['entries[0].message: is required (string)']);
  t.deepEqual(errorsOf(logs([{ labels: { a: 'b' }, message: 'x', mesage: 'y' }])), [
    'entries[0].mesage: unknown field (expected timestamp, labels, message, fields)',
  ]);
  t.deepEqual(errorsOf(logs(['text'])), ['entries[0]: expected LogEntry, got "text"']);
  t.deepEqual(errorsOf(logs([{ labels: {}, message: 'x' }])), ['entries[0].labels: must have at least one label']);
});

test('label rules and limits name the offending label', (t) => {
  t.deepEqual(errorsOf(logs([{ labels: { 'bad-name': 'x' }, message: 'm' }])), [
    'entries[0].labels.bad-name: invalid label name "bad-name": must match ^[a-zA-Z_][a-zA-Z0-9_]*$',
  ]);
  t.deepEqual(errorsOf(logs([{ labels: { __name__: 'x' }, message: 'm' }])), [
    'entries[0].labels.__name__: label names starting with "__" are reserved',
  ]);
  const many: Record<string, string> = {};
  for (let i = 0; i < 10_000; i++) many[`l${i}`] = 'v';
  t.deepEqual(errorsOf(logs([{ labels: many, message: 'm' }])), ['entries[0].labels: 10000 labels, over the limit of 30']);
  t.deepEqual(errorsOf(logs([{ labels: { a: 'x'.repeat(2049) }, message: 'm' }])), [
    'entries[0].labels.a: label value is 2049 characters, over the limit of 2048',
  ]);
});

test('line length, nesting depth and lone surrogates are limited', (t) => {
  const limits = withDefaults({ maxLineBytes: 10, maxFieldsDepth: 2 });
  t.deepEqual(errorsOf(logs([{ labels: { a: 'b' }, message: 'ééééééé' }], limits)), ['entries[0].message: 14 bytes, over the limit of 10']);
  t.deepEqual(errorsOf(logs([{ labels: { a: 'b' }, message: 'm', fields: { x: { y: { z: { w: 1 } } } } }], limits)), [
    'entries[0].fields.x.y.z: nested deeper than the limit of 2 levels',
  ]);
  t.deepEqual(errorsOf(logs([{ labels: { a: 'b' }, message: 'bad \ud800 text' }])), [
    'entries[0].message: contains invalid UTF-16 (a lone surrogate escape)',
  ]);
});

test('NaN, negative and far-future timestamps are rejected', (t) => {
  t.deepEqual(errorsOf(logs([{ labels: { a: 'b' }, message: 'm', timestamp: -1 }])), [
    'entries[0].timestamp: timestamp must not be negative, got -1',
  ]);
  t.deepEqual(errorsOf(logs([{ labels: { a: 'b' }, message: 'm', timestamp: '2100-01-01T00:00:00Z' }])), [
    'entries[0].timestamp: too far in the future (more than the allowed skew past now)',
  ]);
  const old = withDefaults({ maxPastAgeMs: 60_000 });
  t.deepEqual(errorsOf(logs([{ labels: { a: 'b' }, message: 'm', timestamp: '2026-11-26T09:00:00Z' }], old)), [
    'entries[0].timestamp: older than the maximum accepted age',
  ]);
});

test('errors are capped at ten but counted in full', (t) => {
  const r = logs(Array.from({ length: 25 }, () => ({ labels: { a: 'b' } })));
  t.false(r.ok);
  if (r.ok) return;
  t.is(r.errors.length, 10);
  t.is(r.total, 25);
  t.is(r.errors[9], 'entries[9].message: is required (string)');
});

test('samples: values, names and timestamps', (t) => {
  const r = normaliseSamples(
    [
      { name: 'http_requests_total', labels: { service: 'api' }, timestamp: 1795687200123, value: 42 },
      { name: 'up', value: 'NaN', timestamp: '2026-11-26T10:00:00Z' },
      { name: 'x:y', value: '+Inf', timestamp: 1795687200 },
      { name: 'z', value: '-1.5e3', timestamp: 1795687200 },
    ],
    (i) => `samples[${i}]`,
    defaultLimits,
    NOW,
  );
  t.true(r.ok);
  if (!r.ok) return;
  t.deepEqual(r.records[0], { name: 'http_requests_total', labels: { service: 'api' }, timestampMs: 1795687200123, value: 42 });
  t.true(Number.isNaN(r.records[1]!.value));
  t.is(r.records[2]!.value, Infinity);
  t.is(r.records[3]!.value, -1500);
  t.is(r.records[3]!.timestampMs, 1795687200000);
});

test('samples: bad values and names are named', (t) => {
  const r = normaliseSamples(
    [
      { name: '1bad', value: 1 },
      { name: 'ok', value: 'lots' },
      { name: 'ok', value: true },
    ],
    (i) => `samples[${i}]`,
    defaultLimits,
    NOW,
  );
  t.deepEqual(errorsOf(r), [
    'samples[0].name: invalid metric name "1bad": must match ^[a-zA-Z_:][a-zA-Z0-9_:]*$',
    'samples[1].value: invalid sample value "lots": expected a number or "NaN", "+Inf", "-Inf"',
    'samples[2].value: expected number or "NaN"/"+Inf"/"-Inf", got true',
  ]);
});
