/**
 * OTLP/HTTP logs on a real express server with the real embedded bus and SQLite store:
 * protobuf and JSON requests built here, gzip, the Loki-3 label mapping, and a bad-input
 * corpus where every case is a clear 4xx with a google.rpc.Status naming the problem and
 * nothing is stored.
 */
import test from 'ava';
import zlib from 'node:zlib';
import { decodeStatus } from './otlp-common.js';
import { encodeLogsRequest } from './otlp-logs.js';
import { post, startIngestion, stopIngestion, type Harness } from './testkit.js';

const push = (h: Harness, body: Uint8Array | string, headers: Record<string, string>, route = '/v1/logs') => post(h, route, body, headers);

const NOW_NS = BigInt(Date.now()) * 1_000_000n;
const PROTO = { 'content-type': 'application/x-protobuf' };
const JSON_TYPE = { 'content-type': 'application/json' };

const kv = (key: string, value: object) => ({ key, value });

function request(ns: bigint, ids: { traceId: unknown; spanId: unknown }, intValue: unknown) {
  return {
    resourceLogs: [
      {
        resource: {
          attributes: [
            kv('service.name', { stringValue: 'checkout' }),
            kv('k8s.namespace.name', { stringValue: 'shop' }),
            kv('host.name', { stringValue: 'node-1' }),
          ],
        },
        scopeLogs: [
          {
            scope: { name: 'my.lib', version: '1.2' },
            logRecords: [
              {
                timeUnixNano: ns.toString(),
                severityNumber: 17,
                severityText: 'ERROR',
                body: { stringValue: 'payment failed' },
                attributes: [
                  kv('http.status_code', { intValue }),
                  kv('retry', { boolValue: true }),
                  kv('tags', { arrayValue: { values: [{ stringValue: 'a' }] } }),
                ],
                ...ids,
              },
              { observedTimeUnixNano: (ns + 1n).toString(), body: { kvlistValue: { values: [kv('k', { doubleValue: 1.5 })] } } },
            ],
          },
        ],
      },
    ],
  };
}

const TRACE = '5b8efff798038103d269b633813fc60c';
const SPAN = 'eee19b7ec3c1b174';

function stored(h: Harness) {
  return h.store.selectLogs({
    matchers: [{ name: 'service_name', op: '=', value: 'checkout' }],
    startNs: 0n,
    endNs: NOW_NS + 60_000_000_000n,
    limit: 100,
    direction: 'forward',
  }).entries;
}

const expectedFirst = (ns: bigint) => ({
  timestampNs: ns,
  labels: { k8s_namespace_name: 'shop', service_name: 'checkout' },
  message: 'payment failed',
  fields: {
    host_name: 'node-1',
    scope_name: 'my.lib',
    scope_version: '1.2',
    http_status_code: 502,
    retry: true,
    tags: ['a'],
    trace_id: TRACE,
    span_id: SPAN,
    severity_text: 'ERROR',
    severity_number: 17,
    detected_level: 'error',
  },
});

test('protobuf: 200 with an empty partial_success; Loki-3 labels, the rest as fields', async (t) => {
  const h = await startIngestion();
  const ns = NOW_NS - 5_000_000_000n;
  const body = encodeLogsRequest(request(ns, { traceId: Buffer.from(TRACE, 'hex'), spanId: Buffer.from(SPAN, 'hex') }, 502));
  const res = await push(h, body, PROTO);
  t.is(res.status, 200);
  t.is(res.headers.get('content-type'), 'application/x-protobuf');
  t.is((await res.arrayBuffer()).byteLength, 0);
  const entries = stored(h);
  t.is(entries.length, 2);
  const { id: _id, seq: _seq, ...first } = entries[0]! as (typeof entries)[0] & { seq?: bigint };
  t.deepEqual(first, expectedFirst(ns));
  t.is(entries[1]!.message, '{"k":1.5}', 'a non-string body as JSON');
  t.is(entries[1]!.timestampNs, ns + 1n, 'observed time when there is no time');
  stopIngestion(h);
});

test('JSON (hex ids, int64 as strings) plain and gzip, and the /otlp/v1/logs alias', async (t) => {
  const h = await startIngestion();
  const ns = NOW_NS - 4_000_000_000n;
  const json = JSON.stringify({ ...request(ns, { traceId: TRACE, spanId: SPAN }, '502'), unknownField: 1 });
  const res = await push(h, zlib.gzipSync(json), { ...JSON_TYPE, 'content-encoding': 'gzip' });
  t.is(res.status, 200);
  t.deepEqual(await res.json(), {});
  const { id: _id, seq: _seq, ...first } = stored(h)[0]! as ReturnType<typeof stored>[0] & { seq?: bigint };
  t.deepEqual(first, expectedFirst(ns));
  const other = JSON.stringify(request(ns + 10n, { traceId: TRACE, spanId: SPAN }, 1));
  t.is((await push(h, other, JSON_TYPE, '/otlp/v1/logs')).status, 200);
  t.is(stored(h).length, 4);
  stopIngestion(h);
});

test('bad input: each case a clear 4xx, nothing stored', async (t) => {
  const h = await startIngestion();
  const ns = NOW_NS.toString();
  const one = (record: object, resource: object = {}) =>
    JSON.stringify({ resourceLogs: [{ resource, scopeLogs: [{ logRecords: [record] }] }] });
  let deep: object = { stringValue: 'x' };
  for (let i = 0; i < 40; i++) deep = { arrayValue: { values: [deep] } };
  const cases: Array<[string, Uint8Array | string, Record<string, string>, number, RegExp]> = [
    ['garbage protobuf', Buffer.from('\xff\xff\xff garbage'), PROTO, 400, /not a valid ExportLogsServiceRequest/],
    [
      'truncated protobuf',
      encodeLogsRequest(request(NOW_NS, { traceId: '', spanId: '' }, 1)).subarray(0, 30),
      PROTO,
      400,
      /not a valid ExportLogsServiceRequest/,
    ],
    ['malformed JSON', '{"resourceLogs":', JSON_TYPE, 400, /malformed JSON/],
    ['resourceLogs not an array', '{"resourceLogs":5}', JSON_TYPE, 400, /^resourceLogs: must be an array$/],
    ['bad trace id', one({ timeUnixNano: ns, traceId: 'xyz' }), JSON_TYPE, 400, /logRecords\[0\]\.traceId: must be a hex string/],
    ['bad timestamp', one({ timeUnixNano: 'soon' }), JSON_TYPE, 400, /timeUnixNano: must be an integer/],
    ['far future', one({ timeUnixNano: '9999999999999999999' }), JSON_TYPE, 400, /too far in the future/],
    ['deep attribute', one({ timeUnixNano: ns, attributes: [kv('a', deep)] }), JSON_TYPE, 400, /nested deeper than 16 levels/],
    [
      'attribute without key',
      one({ timeUnixNano: ns, attributes: [{ value: { stringValue: 'x' } }] }),
      JSON_TYPE,
      400,
      /attributes\[0\]\.key: must be a non-empty string/,
    ],
    [
      'label too long',
      one({ timeUnixNano: ns }, { attributes: [kv('service.name', { stringValue: 'x'.repeat(3000) })] }),
      JSON_TYPE,
      400,
      /over the limit of 2048/,
    ],
    [
      'invalid UTF-8',
      Buffer.concat([Buffer.from('{"resourceLogs":["'), Buffer.from([0xc3]), Buffer.from('"]}')]),
      JSON_TYPE,
      400,
      /not valid UTF-8/,
    ],
    ['text/plain', 'x', { 'content-type': 'text/plain' }, 415, /unsupported Content-Type "text\/plain"/],
    ['snappy', 'x', { ...JSON_TYPE, 'content-encoding': 'snappy' }, 415, /unsupported Content-Encoding "snappy"/],
    [
      'gzip bomb',
      zlib.gzipSync(Buffer.alloc(20 * 1024 * 1024, 0x20)),
      { ...JSON_TYPE, 'content-encoding': 'gzip' },
      413,
      /decompressed request body is larger/,
    ],
  ];
  for (const [name, body, headers, status, message] of cases) {
    const res = await push(h, body, headers);
    t.is(res.status, status, name);
    // A google.rpc.Status in the request's encoding (JSON for a type Sextant does not speak).
    const answer = res.headers.get('content-type')?.startsWith('application/x-protobuf')
      ? decodeStatus(new Uint8Array(await res.arrayBuffer()))
      : ((await res.json()) as { code: number; message: string });
    t.regex(answer.message, message, name);
    t.is(answer.code, status === 400 || status === 413 || status === 415 ? 3 : -1, `${name}: gRPC code`);
  }
  t.deepEqual(h.store.counts(), { streams: 0, entries: 0, series: 0, samples: 0 });
  stopIngestion(h);
});
