/**
 * Prometheus remote_write 1.0 and 2.0 on a real express server with the real embedded bus
 * and SQLite store: what is stored (staleness markers with their bits), the answers and
 * headers the spec asks for, and a bad-input corpus where every case is a clear 4xx with
 * nothing stored. The real sender (Prometheus) is in test/integration/remote-write-prometheus.test.ts.
 */
import test from 'ava';
import snappy from 'snappy';
import { STALE_NAN, isStaleNaN } from '../../model/stale.js';
import { encodeV2Request, encodeWriteRequest } from './remote-write-proto.js';
import { API_KEY, post, startIngestion, stopIngestion, type Harness } from './testkit.js';

const V1 = 'application/x-protobuf';
const V2 = 'application/x-protobuf;proto=io.prometheus.write.v2.Request';

function write(h: Harness, body: Uint8Array, headers: Record<string, string> = {}) {
  return post(h, '/api/v1/write', snappy.compressSync(Buffer.from(body)), {
    'content-type': V1,
    'content-encoding': 'snappy',
    'x-prometheus-remote-write-version': '0.1.0',
    ...headers,
  });
}

const NOW = Date.now();
const label = (name: string, value: string) => ({ name, value });

function v1Request(series: Array<{ labels: Array<[string, string]>; samples: Array<[number, number]> }>, extra: object = {}) {
  return encodeWriteRequest({
    timeseries: series.map((s) => ({
      labels: s.labels.map(([n, v]) => label(n, v)),
      samples: s.samples.map(([value, timestamp]) => ({ value, timestamp })),
    })),
    ...extra,
  });
}

/** A 2.0 request: labels given as text pairs, turned into a symbols table here. */
function v2Request(series: Array<{ labels: Array<[string, string]>; samples: Array<[number, number]>; metadata?: object }>) {
  const symbols = [''];
  const ref = (s: string) => {
    let i = symbols.indexOf(s);
    if (i < 0) i = symbols.push(s) - 1;
    return i;
  };
  const timeseries = series.map((s) => ({
    labels_refs: s.labels.flatMap(([n, v]) => [ref(n), ref(v)]),
    samples: s.samples.map(([value, timestamp]) => ({ value, timestamp })),
    ...(s.metadata ? { metadata: s.metadata } : {}),
  }));
  return encodeV2Request({ symbols, timeseries });
}

const samplesOf = (h: Harness, name: string) =>
  h.store.selectSamples({ matchers: [{ name: '__name__', op: '=', value: name }], startMs: 0, endMs: NOW + 60_000 });

test('1.0: samples stored, staleness markers keep their bits, 204 with the written counts; a replay doubles nothing', async (t) => {
  const h = await startIngestion();
  const body = v1Request([
    {
      labels: [
        ['__name__', 'up'],
        ['instance', 'a:1'],
        ['job', 'node'],
      ],
      samples: [
        [1, NOW - 2000],
        [STALE_NAN, NOW - 1000],
      ],
    },
    {
      labels: [
        ['__name__', 'temp'],
        ['empty', ''],
        ['job', 'node'],
      ],
      samples: [
        [NaN, NOW - 2000],
        [-2.5, NOW - 1000],
      ],
    },
  ]);
  const res = await write(h, body);
  t.is(res.status, 204);
  t.is(res.headers.get('x-prometheus-remote-write-samples-written'), '4');
  t.is(res.headers.get('x-prometheus-remote-write-histograms-written'), '0');
  const up = samplesOf(h, 'up');
  t.deepEqual(up[0]!.labels, { __name__: 'up', instance: 'a:1', job: 'node' });
  t.deepEqual(up[0]!.timestampsMs, [NOW - 2000, NOW - 1000]);
  t.is(up[0]!.values[0], 1);
  t.true(isStaleNaN(up[0]!.values[1]!), 'the staleness marker');
  const temp = samplesOf(h, 'temp');
  t.deepEqual(temp[0]!.labels, { __name__: 'temp', job: 'node' }, 'an empty label value is an absent label');
  t.true(Number.isNaN(temp[0]!.values[0]) && !isStaleNaN(temp[0]!.values[0]!), 'an ordinary NaN stays ordinary');
  t.is((await write(h, body)).status, 204, 'the sender retries');
  t.deepEqual(h.store.counts(), { streams: 0, entries: 0, series: 2, samples: 4 });
  stopIngestion(h);
});

test('2.0: symbols resolved, the written headers; metadata stored by family; exemplars and histograms counted as not stored', async (t) => {
  const h = await startIngestion();
  // Symbols past the labels': help and unit texts (the encoder below only adds label texts).
  const body = encodeV2Request({
    symbols: [
      '',
      '__name__',
      'http_requests_total',
      'code',
      '200',
      'job',
      'api',
      'Requests served.',
      'rpc_seconds_bucket',
      'le',
      '+Inf',
      'Latency.',
      'seconds',
    ],
    timeseries: [
      {
        labels_refs: [1, 2, 3, 4, 5, 6],
        samples: [
          { value: 10, timestamp: NOW - 3000 },
          { value: 12, timestamp: NOW - 2000 },
          { value: 15, timestamp: NOW - 1000 },
        ],
        metadata: { type: 1, help_ref: 7, unit_ref: 0 },
      },
      {
        labels_refs: [1, 8, 9, 10],
        samples: [{ value: 1, timestamp: NOW - 1000 }],
        metadata: { type: 3, help_ref: 11, unit_ref: 12 },
      },
      // The same family again (2.0 repeats it per series): stored once.
      { labels_refs: [1, 2, 3, 4], samples: [{ value: 1, timestamp: NOW - 1000 }], metadata: { type: 1, help_ref: 7, unit_ref: 0 } },
    ],
  });
  const res = await write(h, body, { 'content-type': V2, 'x-prometheus-remote-write-version': '2.0.0' });
  t.is(res.status, 204);
  t.is(res.headers.get('x-prometheus-remote-write-samples-written'), '5');
  t.is(res.headers.get('x-prometheus-remote-write-histograms-written'), '0');
  t.is(res.headers.get('x-prometheus-remote-write-exemplars-written'), '0');
  t.deepEqual(h.store.metricMetadata({}), {
    http_requests_total: [{ type: 'counter', help: 'Requests served.', unit: '' }],
    rpc_seconds: [{ type: 'histogram', help: 'Latency.', unit: 'seconds' }],
  });
  const stored = samplesOf(h, 'http_requests_total');
  t.deepEqual(stored[0]!.labels, { __name__: 'http_requests_total', code: '200', job: 'api' });
  t.deepEqual(stored[0]!.values, [10, 12, 15]);
  const withHistogram = encodeV2Request({
    symbols: ['', '__name__', 'h'],
    timeseries: [{ labels_refs: [1, 2], histograms: [Buffer.from([8, 1])], exemplars: [Buffer.from([17, 0, 0, 0, 0, 0, 0, 240, 63])] }],
  });
  const dropped = await write(h, withHistogram, { 'content-type': V2 });
  t.is(dropped.status, 200);
  t.regex(await dropped.text(), /1 exemplars, 1 histograms/);
  const metrics = await (await fetch(`${h.url}/metrics`)).text();
  t.regex(metrics, /sextant_ingest_dropped_total\{receiver="prometheus_remote_write",kind="histograms"\} 1/);
  t.notRegex(metrics, /kind="metadata"/, 'metadata is stored, not dropped');
  stopIngestion(h);
});

test('1.0: the metadata list is stored, newest first per family, and a bad family name is a 400 naming it', async (t) => {
  const h = await startIngestion();
  const meta = (metric_family_name: string, type: number, help: string, unit = '') => ({ metric_family_name, type, help, unit });
  const first = v1Request([], { metadata: [meta('node_load1', 2, '1m load average.'), meta('go_gc_duration_seconds', 5, 'GC pauses.')] });
  t.is((await write(h, first)).status, 204);
  // A target that says otherwise about one family: both kept, the newer first.
  await new Promise((resolve) => setTimeout(resolve, 5));
  const second = v1Request([], { metadata: [meta('node_load1', 2, 'Load average over 1 minute.'), meta('mystery', 99, 'A newer enum.')] });
  t.is((await write(h, second)).status, 204);
  t.deepEqual(h.store.metricMetadata({}), {
    go_gc_duration_seconds: [{ type: 'summary', help: 'GC pauses.', unit: '' }],
    mystery: [{ type: 'unknown', help: 'A newer enum.', unit: '' }],
    node_load1: [
      { type: 'gauge', help: 'Load average over 1 minute.', unit: '' },
      { type: 'gauge', help: '1m load average.', unit: '' },
    ],
  });
  t.deepEqual(Object.keys(h.store.metricMetadata({ limit: 1 })), ['go_gc_duration_seconds']);
  t.deepEqual(h.store.metricMetadata({ metric: 'node_load1', limitPerMetric: 1 }), {
    node_load1: [{ type: 'gauge', help: 'Load average over 1 minute.', unit: '' }],
  });
  const bad = await write(h, v1Request([], { metadata: [meta('bad-name', 1, 'x')] }));
  t.is(bad.status, 400);
  t.regex(((await bad.json()) as { error: string }).error, /^metadata\[0\]: invalid metric family name "bad-name"/);
  t.false('bad-name' in h.store.metricMetadata({}));
  stopIngestion(h);
});

test('Basic auth with the key as the password (Prometheus basic_auth)', async (t) => {
  const h = await startIngestion();
  const body = v1Request([{ labels: [['__name__', 'up']], samples: [[1, NOW]] }]);
  const basic = `Basic ${Buffer.from(`prometheus:${API_KEY}`).toString('base64')}`;
  t.is((await write(h, body, { authorization: basic })).status, 204);
  t.is((await write(h, body, { authorization: 'Bearer wrong' })).status, 401);
  stopIngestion(h);
});

test('bad input: each case a clear 4xx with the counts at 0, nothing stored, the process up', async (t) => {
  const h = await startIngestion(4 * 1024 * 1024);
  const good = v1Request([
    {
      labels: [
        ['__name__', 'up'],
        ['job', 'x'],
      ],
      samples: [[1, NOW]],
    },
  ]);
  const raw = (body: Buffer, headers: Record<string, string> = {}) =>
    post(h, '/api/v1/write', body, { 'content-type': V1, 'content-encoding': 'snappy', ...headers });
  // A snappy block that declares 4 GiB - 1: refused by the declared length, never decompressed.
  const bomb = Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]), Buffer.alloc(64, 0)]);
  const many = v1Request(
    Array.from({ length: 100_000 }, (_, i) => ({
      labels: [
        ['__name__', `m${i % 10}`],
        ['i', String(i)],
      ],
      samples: [],
    })),
  );
  const cases: Array<[string, () => Promise<Response>, number, RegExp]> = [
    [
      'truncated protobuf',
      () => write(h, good.subarray(0, good.length - 4)),
      400,
      /not a valid remote-write protobuf message: index out of range/,
    ],
    ['garbage protobuf', () => write(h, Buffer.from('this is not protobuf at all')), 400, /not a valid remote-write protobuf message/],
    [
      '2.0 bytes sent as 1.0',
      () => write(h, v2Request([{ labels: [['__name__', 'up']], samples: [[1, NOW]] }])),
      400,
      /a 2.0 request needs Content-Type/,
    ],
    ['not snappy', () => raw(Buffer.from(good)), 400, /not valid snappy data/],
    ['snappy bomb', () => raw(bomb), 413, /declared 4294967295 bytes\) is larger than the limit of 4194304/],
    [
      'missing Content-Encoding',
      () => write(h, good, { 'content-encoding': '' }),
      415,
      /unsupported Content-Encoding "\(none\)": use snappy/,
    ],
    ['gzip Content-Encoding', () => write(h, good, { 'content-encoding': 'gzip' }), 415, /unsupported Content-Encoding "gzip"/],
    ['missing Content-Type', () => write(h, good, { 'content-type': '' }), 415, /unsupported Content-Type "\(none\)"/],
    [
      'JSON Content-Type',
      () => write(h, good, { 'content-type': 'application/json' }),
      415,
      /unsupported Content-Type "application\/json"/,
    ],
    ['unknown proto', () => write(h, good, { 'content-type': 'application/x-protobuf;proto=foo.Bar' }), 415, /unsupported Content-Type/],
    [
      'no __name__',
      () => write(h, v1Request([{ labels: [['job', 'x']], samples: [[1, NOW]] }])),
      400,
      /timeseries\[0\]\.labels: no __name__ label/,
    ],
    [
      'invalid metric name',
      () => write(h, v1Request([{ labels: [['__name__', '1bad']], samples: [[1, NOW]] }])),
      400,
      /invalid metric name "1bad"/,
    ],
    [
      'invalid label name',
      () =>
        write(
          h,
          v1Request([
            {
              labels: [
                ['__name__', 'up'],
                ['bad-name', 'v'],
              ],
              samples: [[1, NOW]],
            },
          ]),
        ),
      400,
      /invalid label name "bad-name"/,
    ],
    [
      'empty label name',
      () =>
        write(
          h,
          v1Request([
            {
              labels: [
                ['', 'v'],
                ['__name__', 'up'],
              ],
              samples: [[1, NOW]],
            },
          ]),
        ),
      400,
      /labels\[0\]: empty label name/,
    ],
    [
      'duplicate label',
      () =>
        write(
          h,
          v1Request([
            {
              labels: [
                ['__name__', 'up'],
                ['a', '1'],
                ['a', '2'],
              ],
              samples: [[1, NOW]],
            },
          ]),
        ),
      400,
      /duplicate label name "a"/,
    ],
    [
      'unsorted labels',
      () =>
        write(
          h,
          v1Request([
            {
              labels: [
                ['__name__', 'up'],
                ['b', '1'],
                ['a', '2'],
              ],
              samples: [[1, NOW]],
            },
          ]),
        ),
      400,
      /not sorted by name \("a" after "b"\)/,
    ],
    [
      'unsorted labels (2.0)',
      () =>
        write(
          h,
          v2Request([
            {
              labels: [
                ['job', 'x'],
                ['__name__', 'up'],
              ],
              samples: [[1, NOW]],
            },
          ]),
          { 'content-type': V2 },
        ),
      400,
      /not sorted by name/,
    ],
    [
      'symbol out of range (2.0)',
      () =>
        write(
          h,
          encodeV2Request({
            symbols: ['', '__name__', 'up'],
            timeseries: [{ labels_refs: [1, 7], samples: [{ value: 1, timestamp: NOW }] }],
          }),
          { 'content-type': V2 },
        ),
      400,
      /labels_refs\[0\]: symbol reference 7 is out of range \(the request has 3 symbols\)/,
    ],
    [
      'odd labels_refs (2.0)',
      () =>
        write(
          h,
          encodeV2Request({
            symbols: ['', '__name__', 'up'],
            timeseries: [{ labels_refs: [1, 2, 1], samples: [{ value: 1, timestamp: NOW }] }],
          }),
          { 'content-type': V2 },
        ),
      400,
      /3 references, not name\/value pairs/,
    ],
    [
      'help_ref out of range (2.0)',
      () =>
        write(
          h,
          encodeV2Request({
            symbols: ['', '__name__', 'up'],
            timeseries: [{ labels_refs: [1, 2], samples: [{ value: 1, timestamp: NOW }], metadata: { type: 2, help_ref: 99 } }],
          }),
          { 'content-type': V2 },
        ),
      400,
      /metadata\.help_ref: symbol reference 99 is out of range/,
    ],
    [
      'symbols[0] not empty (2.0)',
      () =>
        write(
          h,
          encodeV2Request({
            symbols: ['x', '__name__', 'up'],
            timeseries: [{ labels_refs: [1, 2], samples: [{ value: 1, timestamp: NOW }] }],
          }),
          { 'content-type': V2 },
        ),
      400,
      /symbols\[0\] must be the empty string/,
    ],
    [
      'far-future timestamp',
      () => write(h, v1Request([{ labels: [['__name__', 'up']], samples: [[1, NOW + 3_600_000]] }])),
      400,
      /samples\[0\]\.timestamp: \d+ is too far in the future/,
    ],
    [
      'max int64 timestamp',
      () => write(h, v1Request([{ labels: [['__name__', 'up']], samples: [[1, '9223372036854775807' as unknown as number]] }])),
      400,
      /too far in the future/,
    ],
    [
      'negative timestamp',
      () => write(h, v1Request([{ labels: [['__name__', 'up']], samples: [[1, -5]] }])),
      400,
      /timestamp: -5 is negative/,
    ],
    [
      'too many labels',
      () =>
        write(
          h,
          v1Request([
            {
              labels: [
                ['__name__', 'up'],
                ...Array.from({ length: 40 }, (_, i): [string, string] => [`l${String(i).padStart(2, '0')}`, 'v']),
              ],
              samples: [[1, NOW]],
            },
          ]),
        ),
      400,
      /40 labels, over the limit of 30/,
    ],
    ['100,000 series', () => write(h, many), 413, /100000 time series in one request, over the limit of 50000/],
    [
      'one bad sample among good ones',
      () =>
        write(
          h,
          v1Request([
            { labels: [['__name__', 'ok']], samples: [[1, NOW]] },
            { labels: [['__name__', 'up']], samples: [[1, -1]] },
          ]),
        ),
      400,
      /timeseries\[1\]\.samples\[0\]\.timestamp/,
    ],
  ];
  for (const [name, send, status, message] of cases) {
    const res = await send();
    t.is(res.status, status, name);
    const reply = (await res.json()) as { error: string };
    t.regex(reply.error, message, name);
    t.is(res.headers.get('x-prometheus-remote-write-samples-written'), '0', name);
  }
  t.deepEqual(h.store.counts(), { streams: 0, entries: 0, series: 0, samples: 0 });
  t.is((await fetch(`${h.url}/healthz`)).status, 200, 'the process stays up');
  stopIngestion(h);
});
