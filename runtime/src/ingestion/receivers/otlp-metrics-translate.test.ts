/**
 * OTLP metrics → Prometheus samples, on requests made up here (OTLP JSON shape, camelCase):
 * each data kind, job/instance/target_info, scope labels, attribute collisions, staleness,
 * and what is refused with its reason.
 */
import test from 'ava';
import { defaultLimits } from '../../model/limits.js';
import { isStaleNaN } from '../../model/stale.js';
import { LogDiscovery } from '../log-discovery.js';
import type { Sample } from '../../model/types.js';
import { MAX_POINTS_PER_REQUEST, translateMetrics } from './otlp-metrics-translate.js';

const NOW_MS = 1_800_000_000_000;
const context = { limits: defaultLimits, nowNs: BigInt(NOW_MS) * 1_000_000n, discovery: new LogDiscovery() };
const T1 = NOW_MS - 60_000;
const ns = (ms: number, extra = 0) => (BigInt(ms) * 1_000_000n + BigInt(extra)).toString();
const str = (key: string, value: string) => ({ key, value: { stringValue: value } });

function request(resource: object[], metrics: object[], scope: object = { name: 'io.example.meter', version: '2.1.0' }) {
  return { resourceMetrics: [{ resource: { attributes: resource }, scopeMetrics: [{ scope, metrics }] }] };
}

const SERVICE = [
  str('service.name', 'checkout'),
  str('service.namespace', 'shop'),
  str('service.instance.id', 'pod-7'),
  str('host.name', 'node-1'),
  { key: 'host.cpus', value: { intValue: '8' } },
];
const IDENTITY = { job: 'shop/checkout', instance: 'pod-7', otel_scope_name: 'io.example.meter', otel_scope_version: '2.1.0' };

const byKey = (a: Sample, b: Sample) =>
  `${a.name}${JSON.stringify(a.labels)}${a.timestampMs}`.localeCompare(`${b.name}${JSON.stringify(b.labels)}${b.timestampMs}`);

test('gauge, cumulative sums, histogram and summary: names, labels, values; target_info from the other resource attributes', (t) => {
  const out = translateMetrics(
    request(SERVICE, [
      {
        name: 'app.temperature',
        unit: 'Cel',
        gauge: { dataPoints: [{ timeUnixNano: ns(T1, 999_999), asDouble: 21.5, attributes: [str('room', 'lab')] }] },
      },
      {
        name: 'app.requests',
        unit: '{request}',
        sum: {
          aggregationTemporality: 2,
          isMonotonic: true,
          dataPoints: [{ timeUnixNano: ns(T1), asInt: '1234', attributes: [str('http.method', 'GET')] }],
        },
      },
      { name: 'app.queue.size', unit: '1', sum: { aggregationTemporality: 2, dataPoints: [{ timeUnixNano: ns(T1), asInt: 7 }] } },
      {
        name: 'app.latency',
        unit: 'ms',
        histogram: {
          aggregationTemporality: 2,
          dataPoints: [{ timeUnixNano: ns(T1), count: '10', sum: 123.5, bucketCounts: ['1', '4', '5'], explicitBounds: [0.5, 2.5e-7] }],
        },
      },
      {
        name: 'app.rpc.duration',
        unit: 's',
        summary: {
          dataPoints: [
            {
              timeUnixNano: ns(T1),
              count: '3',
              sum: 0.75,
              quantileValues: [
                { quantile: 0.5, value: 0.2 },
                { quantile: 0.99, value: 0.4 },
              ],
            },
          ],
        },
      },
    ]),
    context,
  );
  // The bounds are not increasing (2.5e-7 < 0.5): that histogram point is refused, the others stored.
  t.is(out.refused.count, 1);
  t.regex(
    out.refused.errors[0]!,
    /metrics\[3\]\.histogram\.dataPoints\[0\]\.explicitBounds\[1\]: 2\.5e-7 \(bounds must be finite and strictly increasing\)/,
  );
  const samples = out.samples.sort(byKey);
  const expected: Sample[] = [
    { name: 'app_queue_size', labels: IDENTITY, timestampMs: T1, value: 7 },
    { name: 'app_requests_total', labels: { ...IDENTITY, http_method: 'GET' }, timestampMs: T1, value: 1234 },
    { name: 'app_rpc_duration_seconds', labels: { ...IDENTITY, quantile: '0.5' }, timestampMs: T1, value: 0.2 },
    { name: 'app_rpc_duration_seconds', labels: { ...IDENTITY, quantile: '0.99' }, timestampMs: T1, value: 0.4 },
    { name: 'app_rpc_duration_seconds_count', labels: IDENTITY, timestampMs: T1, value: 3 },
    { name: 'app_rpc_duration_seconds_sum', labels: IDENTITY, timestampMs: T1, value: 0.75 },
    { name: 'app_temperature_celsius', labels: { ...IDENTITY, room: 'lab' }, timestampMs: T1, value: 21.5 },
    {
      name: 'target_info',
      labels: { job: 'shop/checkout', instance: 'pod-7', host_name: 'node-1', host_cpus: '8' },
      timestampMs: T1,
      value: 1,
    },
  ];
  t.deepEqual(samples, expected.sort(byKey));
  t.is(out.points, 5);
});

test('histogram: cumulative _bucket counts with le as Prometheus spells floats, +Inf = count, _sum only when sent', (t) => {
  const out = translateMetrics(
    request(
      [str('service.name', 'api')],
      [
        {
          name: 'io.size',
          unit: 'By',
          histogram: {
            aggregationTemporality: 2,
            dataPoints: [
              { timeUnixNano: ns(T1), count: '9', sum: 4096, bucketCounts: ['2', '0', '3', '4'], explicitBounds: [1e-7, 1024, 1e21] },
              { timeUnixNano: ns(T1 + 1000), count: '2', attributes: [str('op', 'w')] },
            ],
          },
        },
      ],
      {},
    ),
    context,
  );
  t.deepEqual(out.refused, { count: 0, errors: [] });
  const view = out.samples.map((s) => [s.name, s.labels.le ?? '', s.labels.op ?? '', s.value, s.timestampMs - T1]);
  t.deepEqual(view, [
    ['io_size_bytes_bucket', '0.0000001', '', 2, 0],
    ['io_size_bytes_bucket', '1024', '', 2, 0],
    ['io_size_bytes_bucket', '1000000000000000000000', '', 5, 0],
    ['io_size_bytes_bucket', '+Inf', '', 9, 0],
    ['io_size_bytes_sum', '', '', 4096, 0],
    ['io_size_bytes_count', '', '', 9, 0],
    ['io_size_bytes_bucket', '+Inf', 'w', 2, 1000],
    ['io_size_bytes_count', '', 'w', 2, 1000],
  ]);
  t.deepEqual(out.samples[0]!.labels, { job: 'api', le: '0.0000001' }, 'no scope labels without a scope; job from service.name alone');
  t.false(
    out.samples.some((s) => s.name === 'target_info'),
    'no target_info when the resource has only service.*',
  );
});

test('attribute names that collide join their values with ";" in name order; resource job wins over a point attribute', (t) => {
  const out = translateMetrics(
    request(
      [str('service.name', 'svc')],
      [
        {
          name: 'g',
          gauge: {
            dataPoints: [
              {
                timeUnixNano: ns(T1),
                asDouble: 1,
                attributes: [
                  str('a_b', 'second'),
                  str('a.b', 'first'),
                  str('job', 'mine'),
                  str('empty', ''),
                  { key: 'n', value: { boolValue: true } },
                ],
              },
            ],
          },
        },
      ],
      {},
    ),
    context,
  );
  t.deepEqual(out.samples[0]!.labels, { a_b: 'first;second', job: 'svc', n: 'true' });
});

test('NO_RECORDED_VALUE is a staleness marker on every series of the point; a NaN value stays a plain NaN', (t) => {
  const out = translateMetrics(
    request(
      [],
      [
        {
          name: 'g',
          gauge: {
            dataPoints: [
              { timeUnixNano: ns(T1), flags: 1 },
              { timeUnixNano: ns(T1 + 1), asDouble: 'NaN' },
            ],
          },
        },
        {
          name: 'h',
          histogram: {
            aggregationTemporality: 2,
            dataPoints: [{ timeUnixNano: ns(T1), flags: 1, count: '0', bucketCounts: ['0', '0'], explicitBounds: [1] }],
          },
        },
      ],
      {},
    ),
    context,
  );
  const stale = out.samples.filter((s) => isStaleNaN(s.value)).map((s) => `${s.name}${s.labels.le ? `{le=${s.labels.le}}` : ''}`);
  t.deepEqual(stale, ['g', 'h_bucket{le=1}', 'h_bucket{le=+Inf}', 'h_count']);
  const plain = out.samples.find((s) => s.timestampMs === T1 + 1)!;
  t.true(Number.isNaN(plain.value) && !isStaleNaN(plain.value));
});

test('refused with the rest stored: delta and unspecified temporality, exponential histograms, broken points; each reason counted', (t) => {
  const point = (ms: number, extra: object = {}) => ({ timeUnixNano: ns(ms), asDouble: 1, ...extra });
  const out = translateMetrics(
    request(
      [str('service.name', 'svc')],
      [
        { name: 'delta.sum', sum: { aggregationTemporality: 1, isMonotonic: true, dataPoints: [point(T1), point(T1 + 1)] } },
        { name: 'what.sum', sum: { dataPoints: [point(T1)] } },
        {
          name: 'delta.hist',
          histogram: { aggregationTemporality: 'AGGREGATION_TEMPORALITY_DELTA', dataPoints: [{ timeUnixNano: ns(T1), count: '1' }] },
        },
        { name: 'exp', exponentialHistogram: { aggregationTemporality: 2, dataPoints: [{}, {}, {}] } },
        {
          name: 'ok',
          gauge: {
            dataPoints: [
              point(T1),
              point(NOW_MS + 3_600_000),
              { asDouble: 2 },
              { timeUnixNano: ns(T1) },
              point(T1, { attributes: [str('v', 'x'.repeat(5000))] }),
              point(T1, { attributes: [str('ключ', 'v')] }),
            ],
          },
        },
        { name: '...', gauge: { dataPoints: [point(T1), point(T1 + 1)] } },
        {
          name: 'h',
          histogram: {
            aggregationTemporality: 2,
            dataPoints: [{ timeUnixNano: ns(T1), count: '5', bucketCounts: ['1'], explicitBounds: [1] }],
          },
        },
        {
          name: 'h2',
          histogram: {
            aggregationTemporality: 2,
            dataPoints: [{ timeUnixNano: ns(T1), count: '5', bucketCounts: ['1', '1'], explicitBounds: [1] }],
          },
        },
      ],
    ),
    context,
  );
  t.deepEqual(
    out.samples.map((s) => s.name),
    ['ok'],
  );
  t.is(out.points, 2 + 1 + 1 + 3 + 6 + 2 + 1 + 1);
  t.is(out.refused.count, out.points - 1);
  t.deepEqual(out.dropped, {
    delta_temporality: 3,
    unspecified_temporality: 1,
    exponential_histograms: 3,
    invalid_points: 9,
    exemplars: 0,
  });
  const errors = out.refused.errors.join('\n');
  t.is(out.refused.errors.length, 10, 'at most 10 messages');
  for (const expected of [
    /metrics\[0\] \(delta\.sum\): 2 point\(s\) of delta temporality refused; Sextant stores cumulative series only/,
    /metrics\[1\] \(what\.sum\): 1 point\(s\) of unspecified temporality refused/,
    /metrics\[2\] \(delta\.hist\): 1 point\(s\) of delta temporality/,
    /metrics\[3\] \(exp\): 3 exponential-histogram point\(s\) refused; Sextant does not store native histograms/,
    /gauge\.dataPoints\[1\]\.timeUnixNano: \d+ is too far in the future/,
    /gauge\.dataPoints\[2\]\.timeUnixNano: missing/,
    /gauge\.dataPoints\[3\]: no value \(asDouble or asInt\)/,
    /gauge\.dataPoints\[4\] \(series ok\)\.v: label value is 5000 characters, over the limit of 2048/,
    /gauge\.dataPoints\[5\]: attribute "ключ" has no Prometheus label name/,
    /metrics\[5\]\.name: "\.\.\." has no Prometheus metric name/,
  ]) {
    t.regex(errors, expected);
  }
  // The last two histograms' messages are past the 10 kept; their reasons are counted all the same.
  const more = translateMetrics(
    request(
      [],
      [
        {
          name: 'h',
          histogram: {
            aggregationTemporality: 2,
            dataPoints: [
              { timeUnixNano: ns(T1), count: '5', bucketCounts: ['1'], explicitBounds: [1] },
              { timeUnixNano: ns(T1), count: '5', bucketCounts: ['1', '1'], explicitBounds: [1] },
            ],
          },
        },
      ],
    ),
    context,
  );
  t.regex(more.refused.errors[0]!, /bucketCounts: 1 counts for 1 explicitBounds \(there must be one more count than bounds\)/);
  t.regex(more.refused.errors[1]!, /count: 5 is not the sum of bucketCounts \(2\)/);
});

test('target_info spans the stored points: first, last and every 2.5 minutes between', (t) => {
  const points = [0, 400_000].map((d) => ({ timeUnixNano: ns(T1 - 400_000 + d), asDouble: d }));
  const out = translateMetrics(
    request([str('service.name', 's'), str('region', 'eu')], [{ name: 'g', gauge: { dataPoints: points } }]),
    context,
  );
  const info = out.samples.filter((s) => s.name === 'target_info');
  t.deepEqual(
    info.map((s) => s.timestampMs - (T1 - 400_000)),
    [0, 150_000, 300_000, 400_000],
  );
  t.deepEqual(info[0]!.labels, { job: 's', region: 'eu' });
});

test('more data points than the limit is a 413', (t) => {
  const dataPoints = Array.from({ length: MAX_POINTS_PER_REQUEST + 1 }, () => ({}));
  const error = t.throws(() => translateMetrics(request([], [{ name: 'g', gauge: { dataPoints } }]), context));
  t.is((error as { status?: number }).status, 413);
  t.regex(error!.message, /more than 50000 data points in one request/);
});

test('a target_info over the label limits is not stored, said as a warning; the points are', (t) => {
  const attrs = [str('service.name', 's'), ...Array.from({ length: 40 }, (_, i) => str(`attr.${i}`, 'v'))];
  const out = translateMetrics(request(attrs, [{ name: 'g', gauge: { dataPoints: [{ timeUnixNano: ns(T1), asDouble: 1 }] } }]), context);
  t.deepEqual(
    out.samples.map((s) => s.name),
    ['g'],
  );
  t.is(out.refused.count, 0);
  t.regex(
    out.refused.errors[0]!,
    /resourceMetrics\[0\]\.resource \(target_info\): 41 labels, over the limit of 30; its target_info is not stored/,
  );
  t.is(out.dropped.target_info, 1);
});
