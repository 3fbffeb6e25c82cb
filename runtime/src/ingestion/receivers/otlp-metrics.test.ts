/**
 * OTLP/HTTP metrics on a real express server with the real embedded bus and SQLite store:
 * protobuf and JSON requests built here, gzip, the answers OTLP/HTTP asks for (an
 * ExportMetricsServiceResponse in the request's encoding, partial_success for refused
 * points, google.rpc.Status on failure), and a bad-input corpus where every case names its
 * problem, stores nothing and leaves the server up. The end-to-end read-back through the
 * Prometheus API is in test/integration/otlp-metrics.test.ts.
 */
import test from 'ava';
import zlib from 'node:zlib';
import { isStaleNaN } from '../../model/stale.js';
import { decodeStatus } from './otlp-common.js';
import { decodeMetricsResponse, encodeMetricsRequest } from './otlp-metrics.js';
import { post, startIngestion, stopIngestion, type Harness } from './testkit.js';

/** Room for the 50,001-point JSON request of the bad-input corpus (refused by its point count, not its size). */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

const push = (h: Harness, body: Uint8Array | string, headers: Record<string, string>, route = '/v1/metrics') =>
  post(h, route, body, headers);

const NOW_MS = Date.now();
const T = NOW_MS - 10_000;
const tns = (ms: number) => (BigInt(ms) * 1_000_000n).toString();
const PROTO = { 'content-type': 'application/x-protobuf' };
const JSON_TYPE = { 'content-type': 'application/json' };
const str = (key: string, value: string) => ({ key, value: { stringValue: value } });

function request(metrics: object[]) {
  return {
    resourceMetrics: [
      {
        resource: { attributes: [str('service.name', 'cart'), str('service.instance.id', 'i-1'), str('cloud.region', 'eu-west-1')] },
        scopeMetrics: [{ scope: { name: 'cart.meter', version: '0.3' }, metrics }],
      },
    ],
  };
}

const counter = (value: number, extra: object = {}) => ({
  name: 'cart.checkouts',
  unit: '{checkout}',
  description: 'Checkouts done',
  sum: {
    aggregationTemporality: 2,
    isMonotonic: true,
    dataPoints: [{ timeUnixNano: tns(T), asInt: value, attributes: [str('pay.method', 'card')], ...extra }],
  },
});

const histogram = {
  name: 'cart.latency',
  unit: 's',
  histogram: {
    aggregationTemporality: 2,
    dataPoints: [{ timeUnixNano: tns(T), count: 6, sum: 1.25, bucketCounts: [1, 2, 3], explicitBounds: [0.1, 0.5] }],
  },
};

const selectByName = (h: Harness, name: string) =>
  h.store.selectSamples({ matchers: [{ name: '__name__', op: '=', value: name }], startMs: 0, endMs: NOW_MS + 60_000 });

test('protobuf: 200 with an empty ExportMetricsServiceResponse; counter, histogram, target_info and their metadata stored', async (t) => {
  const h = await startIngestion(MAX_BODY_BYTES);
  const res = await push(h, encodeMetricsRequest(request([counter(42), histogram])), PROTO);
  t.is(res.status, 200);
  t.is(res.headers.get('content-type'), 'application/x-protobuf');
  t.is((await res.arrayBuffer()).byteLength, 0, 'an empty message is zero bytes');
  const total = selectByName(h, 'cart_checkouts_total');
  t.deepEqual(total[0]!.labels, {
    __name__: 'cart_checkouts_total',
    instance: 'i-1',
    job: 'cart',
    otel_scope_name: 'cart.meter',
    otel_scope_version: '0.3',
    pay_method: 'card',
  });
  t.deepEqual(total[0]!.values, [42]);
  t.deepEqual(total[0]!.timestampsMs, [T]);
  const buckets = selectByName(h, 'cart_latency_seconds_bucket').map((s) => [s.labels.le, s.values[0]]);
  t.deepEqual(
    buckets.sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    [
      ['+Inf', 6],
      ['0.1', 1],
      ['0.5', 3],
    ],
  );
  t.deepEqual(selectByName(h, 'cart_latency_seconds_sum')[0]!.values, [1.25]);
  t.deepEqual(selectByName(h, 'cart_latency_seconds_count')[0]!.values, [6]);
  t.deepEqual(selectByName(h, 'target_info')[0]!.labels, {
    __name__: 'target_info',
    cloud_region: 'eu-west-1',
    instance: 'i-1',
    job: 'cart',
  });
  const metrics = await (await fetch(`${h.url}/metrics`)).text();
  t.notRegex(metrics, /kind="metadata"/, 'descriptions and units are stored, not dropped');
  // The description as help, the unit as the name's suffix spells it ({checkout} is an annotation: none).
  t.deepEqual(h.store.metricMetadata({}), {
    cart_checkouts_total: [{ type: 'counter', help: 'Checkouts done', unit: '' }],
    cart_latency_seconds: [{ type: 'histogram', help: '', unit: 'seconds' }],
  });
  stopIngestion(h);
});

test('JSON (int64 as strings) gzip and the /otlp/v1/metrics alias; a stale point; a retry doubles nothing', async (t) => {
  const h = await startIngestion(MAX_BODY_BYTES);
  const json = JSON.stringify({ ...request([counter(0, { asInt: '7' })]), unknownField: true });
  const res = await push(h, zlib.gzipSync(json), { ...JSON_TYPE, 'content-encoding': 'gzip' }, '/otlp/v1/metrics');
  t.is(res.status, 200);
  t.deepEqual(await res.json(), {});
  const stale = JSON.stringify(
    request([
      {
        ...counter(0),
        sum: {
          aggregationTemporality: 2,
          isMonotonic: true,
          dataPoints: [{ timeUnixNano: tns(T + 1000), flags: 1, attributes: [str('pay.method', 'card')] }],
        },
      },
    ]),
  );
  t.is((await push(h, stale, JSON_TYPE)).status, 200);
  t.is((await push(h, stale, JSON_TYPE)).status, 200, 'the sender retries');
  const total = selectByName(h, 'cart_checkouts_total');
  t.deepEqual(total[0]!.values.slice(0, 1), [7]);
  t.deepEqual(total[0]!.timestampsMs, [T, T + 1000]);
  t.true(isStaleNaN(total[0]!.values[1]!), 'NO_RECORDED_VALUE is stored as a staleness marker');
  stopIngestion(h);
});

test('partial success: delta and exponential-histogram points refused with the reason, the rest stored, counted by kind', async (t) => {
  const h = await startIngestion(MAX_BODY_BYTES);
  const body = request([
    counter(5),
    { name: 'cart.delta', sum: { aggregationTemporality: 1, isMonotonic: true, dataPoints: [{ timeUnixNano: tns(T), asInt: 1 }] } },
    { name: 'cart.exp', exponentialHistogram: { aggregationTemporality: 2, dataPoints: [Buffer.alloc(0), Buffer.alloc(0)] } },
  ]);
  const res = await push(h, encodeMetricsRequest(body), PROTO);
  t.is(res.status, 200);
  const answer = decodeMetricsResponse(new Uint8Array(await res.arrayBuffer()));
  t.is(answer.partialSuccess?.rejectedDataPoints, '3');
  t.regex(
    answer.partialSuccess!.errorMessage!,
    /^3 data point\(s\) refused: .*cart\.delta.*delta temporality refused.*cart\.exp.*2 exponential-histogram point\(s\) refused/,
  );
  t.deepEqual(selectByName(h, 'cart_checkouts_total')[0]!.values, [5]);
  t.deepEqual(selectByName(h, 'cart_delta_total'), []);
  const json = await push(
    h,
    JSON.stringify(request([{ name: 'cart.delta', sum: { aggregationTemporality: 1, dataPoints: [{ timeUnixNano: tns(T), asInt: 1 }] } }])),
    JSON_TYPE,
  );
  const jsonAnswer = (await json.json()) as { partialSuccess: { rejectedDataPoints: string; errorMessage: string } };
  t.is(jsonAnswer.partialSuccess.rejectedDataPoints, '1', 'int64 as a string in JSON');
  t.regex(jsonAnswer.partialSuccess.errorMessage, /delta temporality refused/);
  // Nothing refused but a warning: rejected_data_points 0 and the message.
  const wide = request([counter(6)]);
  wide.resourceMetrics[0]!.resource.attributes.push(...Array.from({ length: 40 }, (_, i) => str(`attr.${i}`, 'v')));
  const warned = (await (await push(h, JSON.stringify(wide), JSON_TYPE)).json()) as {
    partialSuccess: { rejectedDataPoints: string; errorMessage: string };
  };
  t.is(warned.partialSuccess.rejectedDataPoints, '0');
  t.regex(
    warned.partialSuccess.errorMessage,
    /^resourceMetrics\[0\]\.resource \(target_info\): 43 labels, over the limit of 30; its target_info is not stored$/,
  );
  const metrics = await (await fetch(`${h.url}/metrics`)).text();
  t.regex(metrics, /sextant_ingest_dropped_total\{receiver="otlp_metrics",kind="delta_temporality"\} 2/);
  t.regex(metrics, /sextant_ingest_dropped_total\{receiver="otlp_metrics",kind="target_info"\} 1/);
  t.regex(metrics, /sextant_ingest_dropped_total\{receiver="otlp_metrics",kind="exponential_histograms"\} 2/);
  stopIngestion(h);
});

test('bad input: each case its status and a message naming the problem, nothing stored, the server up', async (t) => {
  const h = await startIngestion(MAX_BODY_BYTES);
  const one = (point: object, metric: object = {}) => JSON.stringify(request([{ name: 'g', gauge: { dataPoints: [point] }, ...metric }]));
  let deep: object = { stringValue: 'x' };
  for (let i = 0; i < 40; i++) deep = { arrayValue: { values: [deep] } };
  const many = JSON.stringify(request([{ name: 'g', gauge: { dataPoints: Array.from({ length: 50_001 }, () => ({})) } }]));
  type Case = [string, Uint8Array | string, Record<string, string>, number, RegExp];
  const failures: Case[] = [
    ['garbage protobuf', Buffer.from('\xff\xff\xff garbage'), PROTO, 400, /not a valid ExportMetricsServiceRequest/],
    [
      'truncated protobuf',
      encodeMetricsRequest(request([counter(1), histogram])).subarray(0, 40),
      PROTO,
      400,
      /not a valid ExportMetricsServiceRequest/,
    ],
    ['malformed JSON', '{"resourceMetrics":', JSON_TYPE, 400, /malformed JSON/],
    ['resourceMetrics not an array', '{"resourceMetrics":{}}', JSON_TYPE, 400, /^resourceMetrics: must be an array$/],
    [
      'dataPoints not an array',
      JSON.stringify(request([{ name: 'g', gauge: { dataPoints: 3 } }])),
      JSON_TYPE,
      400,
      /metrics\[0\]\.gauge\.dataPoints: must be an array/,
    ],
    [
      'bad time',
      one({ timeUnixNano: 'later', asDouble: 1 }),
      JSON_TYPE,
      400,
      /dataPoints\[0\]\.timeUnixNano: must be an integer, got "later"/,
    ],
    ['bad asInt', one({ timeUnixNano: tns(T), asInt: '1.5' }), JSON_TYPE, 400, /dataPoints\[0\]\.asInt: must be an integer/],
    [
      'bad asDouble',
      one({ timeUnixNano: tns(T), asDouble: 'lots' }),
      JSON_TYPE,
      400,
      /dataPoints\[0\]\.asDouble: must be a number, got "lots"/,
    ],
    [
      'deep attribute',
      one({ timeUnixNano: tns(T), asDouble: 1, attributes: [{ key: 'a', value: deep }] }),
      JSON_TYPE,
      400,
      /nested deeper than 16 levels/,
    ],
    [
      'attribute without key',
      one({ timeUnixNano: tns(T), asDouble: 1, attributes: [{ value: { stringValue: 'x' } }] }),
      JSON_TYPE,
      400,
      /attributes\[0\]\.key: must be a non-empty string/,
    ],
    [
      'invalid UTF-8',
      Buffer.concat([Buffer.from('{"resourceMetrics":["'), Buffer.from([0xc3]), Buffer.from('"]}')]),
      JSON_TYPE,
      400,
      /not valid UTF-8/,
    ],
    ['100,000 series', many, JSON_TYPE, 413, /more than 50000 data points in one request/],
    [
      'no content type',
      Buffer.from('x'),
      {},
      415,
      /unsupported Content-Type "\(none\)": send application\/x-protobuf or application\/json/,
    ],
    ['text/plain', 'x', { 'content-type': 'text/plain' }, 415, /unsupported Content-Type "text\/plain"/],
    ['snappy', 'x', { ...PROTO, 'content-encoding': 'snappy' }, 415, /unsupported Content-Encoding "snappy"/],
    ['corrupt gzip', Buffer.from('not gzip at all'), { ...JSON_TYPE, 'content-encoding': 'gzip' }, 400, /not valid gzip data/],
    [
      'gzip bomb',
      zlib.gzipSync(Buffer.alloc(40 * 1024 * 1024, 0x20)),
      { ...PROTO, 'content-encoding': 'gzip' },
      413,
      /decompressed request body is larger/,
    ],
  ];
  for (const [name, body, headers, status, message] of failures) {
    const res = await push(h, body, headers);
    t.is(res.status, status, name);
    const protobufAnswer = res.headers.get('content-type')?.startsWith('application/x-protobuf');
    t.is(
      protobufAnswer,
      headers['content-type'] === PROTO['content-type'] && status !== 415,
      `${name}: answered in the request's encoding`,
    );
    const answer = protobufAnswer
      ? decodeStatus(new Uint8Array(await res.arrayBuffer()))
      : ((await res.json()) as { code: number; message: string });
    t.regex(answer.message, message, name);
    t.is(answer.code, 3, `${name}: google.rpc.Status code INVALID_ARGUMENT`);
  }
  // Refused points: a 200 whose partial_success names each (the sender must not retry them).
  const refusals: Array<[string, string, RegExp]> = [
    ['far future', one({ timeUnixNano: tns(NOW_MS + 3_600_000), asDouble: 1 }), /timeUnixNano: \d+ is too far in the future/],
    ['no time', one({ asDouble: 1 }), /timeUnixNano: missing/],
    ['no value', one({ timeUnixNano: tns(T) }), /no value \(asDouble or asInt\)/],
    [
      'label too long',
      one({ timeUnixNano: tns(T), asDouble: 1, attributes: [str('k', 'v'.repeat(3000))] }),
      /label value is 3000 characters, over the limit of 2048/,
    ],
    [
      'too many labels',
      one({ timeUnixNano: tns(T), asDouble: 1, attributes: Array.from({ length: 40 }, (_, i) => str(`k${i}`, 'v')) }),
      /labels, over the limit of 30/,
    ],
    [
      'no label name',
      one({ timeUnixNano: tns(T), asDouble: 1, attributes: [str('...', 'v')] }),
      /attribute "\.\.\." has no Prometheus label name/,
    ],
    [
      'reserved label',
      one({ timeUnixNano: tns(T), asDouble: 1, attributes: [str('__name__', 'v')] }),
      /label names starting with "__" are reserved/,
    ],
    ['no metric name', one({ timeUnixNano: tns(T), asDouble: 1 }, { name: '---' }), /name: "---" has no Prometheus metric name/],
    ['lone surrogate', one({ timeUnixNano: tns(T), asDouble: 1, attributes: [str('k', '\ud800')] }), /label k contains invalid UTF-16/],
    [
      'buckets and bounds disagree',
      JSON.stringify(
        request([
          {
            name: 'h',
            histogram: {
              aggregationTemporality: 2,
              dataPoints: [{ timeUnixNano: tns(T), count: 1, bucketCounts: [1], explicitBounds: [1, 2] }],
            },
          },
        ]),
      ),
      /bucketCounts: 1 counts for 2 explicitBounds/,
    ],
    [
      'unspecified temporality',
      JSON.stringify(request([{ name: 's', sum: { dataPoints: [{ timeUnixNano: tns(T), asInt: 1 }] } }])),
      /unspecified temporality refused/,
    ],
  ];
  for (const [name, body, message] of refusals) {
    const res = await push(h, body, JSON_TYPE);
    t.is(res.status, 200, name);
    const answer = (await res.json()) as { partialSuccess?: { rejectedDataPoints: string; errorMessage: string } };
    t.is(answer.partialSuccess?.rejectedDataPoints, '1', name);
    t.regex(answer.partialSuccess?.errorMessage ?? '', message, name);
  }
  t.deepEqual(h.store.counts(), { streams: 0, entries: 0, series: 0, samples: 0 });
  t.is((await push(h, encodeMetricsRequest(request([counter(1)])), PROTO)).status, 200, 'still serving');
  stopIngestion(h);
});
