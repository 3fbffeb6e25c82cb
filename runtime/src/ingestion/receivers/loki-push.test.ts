/**
 * Loki push on a real express server with the real embedded bus and SQLite store: requests
 * built here from the proto (snappy) and as JSON (plain and gzip), with structured
 * metadata, and a bad-input corpus where every case is a clear 4xx and nothing is stored.
 */
import test from 'ava';
import zlib from 'node:zlib';
import snappy from 'snappy';
import { encodePushRequest, parseSelector } from './loki-push.js';
import { post, startIngestion, stopIngestion, type Harness } from './testkit.js';

const push = (h: Harness, body: Uint8Array | string, headers: Record<string, string>) => post(h, '/loki/api/v1/push', body, headers);

const NOW_NS = BigInt(Date.now()) * 1_000_000n;
const PROTO = { 'content-type': 'application/x-protobuf' };
const JSON_TYPE = { 'content-type': 'application/json' };

function entriesOf(h: Harness, service: string) {
  return h.store.selectLogs({
    matchers: [{ name: 'service', op: '=', value: service }],
    startNs: 0n,
    endNs: NOW_NS + 60_000_000_000n,
    limit: 100,
    direction: 'forward',
  });
}

test('protobuf (snappy, no Content-Encoding header as Promtail sends it) with structured metadata: 204 and stored', async (t) => {
  const h = await startIngestion();
  const body = encodePushRequest({
    streams: [
      {
        labels: '{service="api", level="error", quoted="a \\"b\\""}',
        entries: [
          {
            timestamp: { seconds: Number(NOW_NS / 1_000_000_000n) - 2, nanos: 123_456_789 },
            line: 'GET /x 500',
            structuredMetadata: [{ name: 'trace_id', value: 'ab12' }],
          },
          { timestamp: { seconds: Number(NOW_NS / 1_000_000_000n) - 1, nanos: 1 }, line: 'GET /y 200' },
        ],
      },
    ],
  });
  const res = await push(h, snappy.compressSync(Buffer.from(body)), PROTO);
  t.is(res.status, 204, await res.clone().text());
  t.deepEqual(h.store.counts(), { streams: 1, entries: 2, series: 0, samples: 0 });
  const stored = entriesOf(h, 'api').entries;
  t.deepEqual(stored.map((e) => e.message).sort(), ['GET /x 500', 'GET /y 200']);
  const first = stored.find((e) => e.message === 'GET /x 500')!;
  // service_name and detected_level are discovered as Loki does (log-discovery.test.ts).
  t.deepEqual(first.labels, { level: 'error', quoted: 'a "b"', service: 'api', service_name: 'api' });
  t.deepEqual(first.fields, { trace_id: 'ab12', detected_level: 'error' });
  t.is(first.timestampNs % 1_000_000_000n, 123_456_789n, 'nanoseconds kept');
  stopIngestion(h);
});

test('JSON, plain and gzip, with structured metadata: 204 and stored', async (t) => {
  const h = await startIngestion();
  const doc = (line: string, ns: bigint) =>
    JSON.stringify({
      streams: [
        {
          stream: { service: 'web' },
          values: [
            [String(ns), line, { user: 'u1' }],
            [String(ns + 1n), `${line} again`],
          ],
        },
      ],
    });
  t.is((await push(h, doc('plain', NOW_NS - 5_000_000_000n), JSON_TYPE)).status, 204);
  const gz = zlib.gzipSync(doc('zipped', NOW_NS - 4_000_000_000n));
  t.is((await push(h, gz, { ...JSON_TYPE, 'content-encoding': 'gzip' })).status, 204);
  const stored = entriesOf(h, 'web').entries;
  t.is(stored.length, 4);
  t.deepEqual(stored.find((e) => e.message === 'plain')!.fields, { user: 'u1', detected_level: 'unknown' });
  t.deepEqual(stored.find((e) => e.message === 'plain again')!.fields, { detected_level: 'unknown' });
  stopIngestion(h);
});

test('selector parsing', (t) => {
  t.deepEqual(parseSelector('{}', 'x'), {});
  t.deepEqual(parseSelector(' { a = "1" ,b="x\\ny" } ', 'x'), { a: '1', b: 'x\ny' });
  for (const bad of ['', 'a="1"', '{a=1}', '{a="1"', '{a="1"} x', '{a="1",}', '{1a="x"}'])
    t.throws(() => parseSelector(bad, 'x'), undefined, bad);
  t.throws(() => parseSelector('{a="1",a="2"}', 'x'), { message: /duplicate label name "a"/ });
});

test('bad input: each case a clear 4xx, nothing stored', async (t) => {
  const h = await startIngestion();
  const ns = String(NOW_NS);
  const proto = (streams: unknown) => snappy.compressSync(Buffer.from(encodePushRequest({ streams })));
  const good = proto([{ labels: '{service="api"}', entries: [{ timestamp: { seconds: 1 }, line: 'x' }] }]);
  const cases: Array<[string, Uint8Array | string, Record<string, string>, number, RegExp]> = [
    [
      'truncated protobuf',
      snappy.compressSync(
        Buffer.from(encodePushRequest({ streams: [{ labels: '{a="b"}', entries: [{ line: 'xxxxxxxx' }] }] })).subarray(0, 9),
      ),
      PROTO,
      400,
      /not a valid logproto.PushRequest/,
    ],
    ['protobuf not snappy', Buffer.from(encodePushRequest({ streams: [] })).toString() + 'garbage', PROTO, 400, /not valid snappy data/],
    [
      'snappy bomb',
      Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]), Buffer.alloc(32)]),
      PROTO,
      413,
      /declared 4294967295 bytes/,
    ],
    [
      'bad selector',
      proto([{ labels: 'service=api', entries: [{ line: 'x' }] }]),
      PROTO,
      400,
      /streams\[0\]\.labels: "service=api" is not a label set/,
    ],
    [
      'no labels',
      proto([{ labels: '{}', entries: [{ timestamp: { seconds: 1 }, line: 'x' }] }]),
      PROTO,
      400,
      /streams\[0\]\.entries\[0\]\.labels: must have at least one label/,
    ],
    [
      'missing timestamp',
      proto([{ labels: '{a="b"}', entries: [{ line: 'x' }] }]),
      PROTO,
      400,
      /streams\[0\]\.entries\[0\]\.timestamp: is required/,
    ],
    ['invalid label name', proto([{ labels: '{__bad="x"}', entries: [{ timestamp: { seconds: 1 }, line: 'x' }] }]), PROTO, 400, /reserved/],
    [
      'far future (protobuf)',
      proto([{ labels: '{a="b"}', entries: [{ timestamp: { seconds: 32503680000 }, line: 'x' }] }]),
      PROTO,
      400,
      /too far in the future/,
    ],
    ['gzip protobuf', good, { ...PROTO, 'content-encoding': 'gzip' }, 415, /unsupported Content-Encoding "gzip": use snappy/],
    ['missing Content-Type', Buffer.from('{}'), {}, 415, /unsupported Content-Type "\(none\)"/],
    ['text/plain', 'x', { 'content-type': 'text/plain' }, 415, /unsupported Content-Type "text\/plain"/],
    ['malformed JSON', '{"streams":[', JSON_TYPE, 400, /malformed JSON/],
    ['no streams', '{"x":1}', JSON_TYPE, 400, /must be \{"streams"/],
    [
      'numeric timestamp',
      JSON.stringify({ streams: [{ stream: { a: 'b' }, values: [[1700000000000000000, 'x']] }] }),
      JSON_TYPE,
      400,
      /values\[0\]\[0\]: the timestamp must be a string of nanosecond digits/,
    ],
    [
      'non-string label',
      JSON.stringify({ streams: [{ stream: { a: 1 }, values: [[ns, 'x']] }] }),
      JSON_TYPE,
      400,
      /streams\[0\]\.stream: must be an object/,
    ],
    [
      'bad metadata',
      JSON.stringify({ streams: [{ stream: { a: 'b' }, values: [[ns, 'x', { n: 1 }]] }] }),
      JSON_TYPE,
      400,
      /structured metadata must be an object of strings/,
    ],
    [
      'far future (JSON)',
      JSON.stringify({ streams: [{ stream: { a: 'b' }, values: [['9999999999999999999', 'x']] }] }),
      JSON_TYPE,
      400,
      /too far in the future/,
    ],
    [
      'line too long',
      JSON.stringify({ streams: [{ stream: { a: 'b' }, values: [[ns, 'x'.repeat(300_000)]] }] }),
      JSON_TYPE,
      400,
      /over the limit of 262144/,
    ],
    [
      'invalid UTF-8',
      Buffer.concat([Buffer.from('{"streams":[{"stream":{"a":"b"},"values":[["1","'), Buffer.from([0xff]), Buffer.from('"]]}]}')]),
      JSON_TYPE,
      400,
      /not valid UTF-8/,
    ],
    [
      'gzip bomb',
      zlib.gzipSync(Buffer.alloc(20 * 1024 * 1024, 0x20)),
      { ...JSON_TYPE, 'content-encoding': 'gzip' },
      413,
      /decompressed request body is larger than the limit/,
    ],
  ];
  for (const [name, body, headers, status, message] of cases) {
    const res = await push(h, body, headers);
    t.is(res.status, status, name);
    t.regex(((await res.json()) as { error: string }).error, message, name);
  }
  t.deepEqual(h.store.counts(), { streams: 0, entries: 0, series: 0, samples: 0 });
  stopIngestion(h);
});
