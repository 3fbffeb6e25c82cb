/**
 * OTLP/HTTP metrics into a real `sextant up` (child process, SQLite): protobuf requests
 * built with the receiver's own schema, as an OpenTelemetry SDK or Collector exporting
 * `otlphttp` sends them, read back through the Prometheus query API — names and labels as
 * Prometheus' OTLP receiver writes them, histogram_quantile over the buckets, a target_info
 * join, /api/v1/series — and the partial_success of a delta sum.
 */
import test from 'ava';
import zlib from 'node:zlib';
import { decodeMetricsResponse, encodeMetricsRequest } from '../../runtime/src/ingestion/receivers/otlp-metrics.js';
import { startSextant, tempDataDir, type SextantProcess } from '../support/sextant-process.js';

const KEY = 'otlp-metrics-it-key';
const T0_MS = Math.floor(Date.now() / 1000) * 1000 - 600_000; // ten minutes ago, on a second
const STEP_MS = 15_000;
const STEPS = 5;
const LAST_MS = T0_MS + (STEPS - 1) * STEP_MS;
const tns = (ms: number) => (BigInt(ms) * 1_000_000n).toString();
const str = (key: string, value: string) => ({ key, value: { stringValue: value } });

/** One export per step, as a periodic reader sends them: cumulative values growing by step. */
function exportAt(step: number) {
  const time = tns(T0_MS + step * STEP_MS);
  const start = tns(T0_MS - 60_000);
  return {
    resourceMetrics: [
      {
        resource: {
          attributes: [
            str('service.name', 'checkout'),
            str('service.namespace', 'shop'),
            str('service.instance.id', 'pod-1'),
            str('host.name', 'node-a'),
            str('telemetry.sdk.language', 'go'),
          ],
        },
        scopeMetrics: [
          {
            scope: { name: 'shop.checkout', version: '1.4.0' },
            metrics: [
              {
                name: 'http.server.requests',
                unit: '{request}',
                sum: {
                  aggregationTemporality: 2,
                  isMonotonic: true,
                  dataPoints: ['200', '500'].map((code, i) => ({
                    startTimeUnixNano: start,
                    timeUnixNano: time,
                    asInt: (step + 1) * (i === 0 ? 10 : 1),
                    attributes: [str('http.response.status_code', code)],
                  })),
                },
              },
              {
                name: 'process.cpu.utilization',
                unit: '1',
                gauge: { dataPoints: [{ timeUnixNano: time, asDouble: 0.25 + step / 100 }] },
              },
              {
                name: 'http.server.request.duration',
                unit: 's',
                histogram: {
                  aggregationTemporality: 2,
                  dataPoints: [
                    {
                      startTimeUnixNano: start,
                      timeUnixNano: time,
                      // Each step adds 4 requests: 1 under 0.1 s, 2 under 0.5 s, 1 above.
                      count: 4 * (step + 1),
                      sum: 1.5 * (step + 1),
                      bucketCounts: [1, 2, 1].map((n) => n * (step + 1)),
                      explicitBounds: [0.1, 0.5],
                    },
                  ],
                },
              },
              {
                name: 'gc.pause',
                unit: 'ms',
                summary: {
                  dataPoints: [
                    {
                      timeUnixNano: time,
                      count: step + 1,
                      sum: 2 * (step + 1),
                      quantileValues: [
                        { quantile: 0.5, value: 1.5 },
                        { quantile: 0.99, value: 4 },
                      ],
                    },
                  ],
                },
              },
            ],
          },
        ],
      },
    ],
  };
}

function post(p: SextantProcess, body: Uint8Array, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${p.url}/v1/metrics`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/x-protobuf', ...headers },
    body: Buffer.from(body),
  });
}

interface Vector {
  status: string;
  data: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> };
}

async function get<T>(p: SextantProcess, route: string, params: Record<string, string>): Promise<T> {
  const res = await fetch(`${p.url}${route}?${new URLSearchParams(params)}`, { headers: { authorization: `Bearer ${KEY}` } });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${route} → ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

const at = (p: SextantProcess, query: string) => get<Vector>(p, '/api/v1/query', { query, time: String(LAST_MS / 1000) });
const byLabel = (name: string) => (a: { metric: Record<string, string> }, b: { metric: Record<string, string> }) =>
  (a.metric[name] ?? '').localeCompare(b.metric[name] ?? '');

test('OTLP protobuf metrics into sextant up, read back through the Prometheus API', async (t) => {
  const p = await startSextant({ dataDir: tempDataDir('sextant-otlpm-it-'), apiKey: KEY });
  t.teardown(() => p.stop());
  for (let step = 0; step < STEPS; step++) {
    const body = encodeMetricsRequest(exportAt(step));
    // Every other export gzip-compressed, as the Collector's otlphttp exporter does by default.
    const res = step % 2 ? await post(p, zlib.gzipSync(body), { 'content-encoding': 'gzip' }) : await post(p, body);
    t.is(res.status, 200, p.output());
    t.is(res.headers.get('content-type'), 'application/x-protobuf');
    t.deepEqual(decodeMetricsResponse(new Uint8Array(await res.arrayBuffer())), {}, 'nothing refused');
  }

  const counters = await at(p, 'http_server_requests_total');
  t.is(counters.status, 'success');
  t.deepEqual(
    counters.data.result.sort(byLabel('http_response_status_code')).map((r) => [r.metric, r.value[1]]),
    ['200', '500'].map((code, i) => [
      {
        __name__: 'http_server_requests_total',
        http_response_status_code: code,
        instance: 'pod-1',
        job: 'shop/checkout',
        otel_scope_name: 'shop.checkout',
        otel_scope_version: '1.4.0',
      },
      String(STEPS * (i === 0 ? 10 : 1)),
    ]),
  );

  // 40 requests a minute for code 200: 10 per 15 s step.
  const rate = await at(p, 'sum by (job) (rate(http_server_requests_total{http_response_status_code="200"}[1m]))');
  t.deepEqual(
    rate.data.result.map((r) => r.metric),
    [{ job: 'shop/checkout' }],
  );
  t.true(Math.abs(Number(rate.data.result[0]!.value[1]) - 10 / 15) < 1e-9, rate.data.result[0]!.value[1]);

  const ratio = await at(p, 'process_cpu_utilization_ratio');
  t.is(Number(ratio.data.result[0]!.value[1]), 0.25 + (STEPS - 1) / 100);

  const buckets = await at(p, 'http_server_request_duration_seconds_bucket');
  t.deepEqual(buckets.data.result.map((r) => [r.metric.le, r.value[1]]).sort(), [
    ['+Inf', String(4 * STEPS)],
    ['0.1', String(STEPS)],
    ['0.5', String(3 * STEPS)],
  ]);
  // Rank 2 of 4 falls in (0.1, 0.5], which holds ranks 1..3: interpolated halfway, 0.3.
  const median = await at(p, 'histogram_quantile(0.5, sum by (le) (rate(http_server_request_duration_seconds_bucket[1m])))');
  t.true(Math.abs(Number(median.data.result[0]!.value[1]) - 0.3) < 1e-9, median.data.result[0]?.value[1]);
  t.is((await at(p, 'http_server_request_duration_seconds_count')).data.result[0]!.value[1], String(4 * STEPS));
  t.is((await at(p, 'http_server_request_duration_seconds_sum')).data.result[0]!.value[1], String(1.5 * STEPS));

  const quantiles = await at(p, 'gc_pause_milliseconds');
  t.deepEqual(quantiles.data.result.map((r) => [r.metric.quantile, r.value[1]]).sort(), [
    ['0.5', '1.5'],
    ['0.99', '4'],
  ]);
  t.is((await at(p, 'gc_pause_milliseconds_count')).data.result[0]!.value[1], String(STEPS));

  // target_info carries the other resource attributes; joined as Prometheus users do.
  const joined = await at(
    p,
    'sum by (host_name, telemetry_sdk_language) (http_server_requests_total * on (job, instance) group_left (host_name, telemetry_sdk_language) target_info)',
  );
  t.deepEqual(
    joined.data.result.map((r) => [r.metric, r.value[1]]),
    [[{ host_name: 'node-a', telemetry_sdk_language: 'go' }, String(STEPS * 11)]],
  );

  const series = await get<{ status: string; data: Array<Record<string, string>> }>(p, '/api/v1/series', {
    'match[]': '{job="shop/checkout"}',
    start: String(T0_MS / 1000),
    end: String(LAST_MS / 1000),
  });
  t.deepEqual([...new Set(series.data.map((s) => s.__name__))].sort(), [
    'gc_pause_milliseconds',
    'gc_pause_milliseconds_count',
    'gc_pause_milliseconds_sum',
    'http_server_request_duration_seconds_bucket',
    'http_server_request_duration_seconds_count',
    'http_server_request_duration_seconds_sum',
    'http_server_requests_total',
    'process_cpu_utilization_ratio',
    'target_info',
  ]);
  // gc: 2 quantiles + _count + _sum; duration: 3 buckets + _count + _sum; 2 status codes; ratio; target_info.
  t.is(series.data.length, 4 + 5 + 2 + 1 + 1);

  // A delta sum is refused, said in partial_success; the rest of the request is stored.
  const delta = exportAt(STEPS);
  delta.resourceMetrics[0]!.scopeMetrics[0]!.metrics.push({
    name: 'jobs.done',
    unit: '',
    sum: {
      aggregationTemporality: 1,
      isMonotonic: true,
      dataPoints: [{ startTimeUnixNano: tns(LAST_MS), timeUnixNano: tns(LAST_MS + STEP_MS), asInt: 3, attributes: [] }],
    },
  } as never);
  const res = await post(p, encodeMetricsRequest(delta));
  t.is(res.status, 200);
  const answer = decodeMetricsResponse(new Uint8Array(await res.arrayBuffer()));
  t.is(answer.partialSuccess?.rejectedDataPoints, '1');
  t.regex(answer.partialSuccess?.errorMessage ?? '', /jobs\.done.*delta temporality refused/);
  const later = await get<Vector>(p, '/api/v1/query', {
    query: 'http_server_requests_total{http_response_status_code="200"}',
    time: String((LAST_MS + STEP_MS) / 1000),
  });
  t.is(later.data.result[0]!.value[1], String((STEPS + 1) * 10), 'the cumulative points of that request are stored');
  t.deepEqual(
    (await get<Vector>(p, '/api/v1/query', { query: 'jobs_done_total', time: String((LAST_MS + STEP_MS) / 1000) })).data.result,
    [],
  );

  // A body that is not OTLP: a 400 with a google.rpc.Status, and the process stays up.
  const bad = await post(p, Buffer.from('\xff\xff not protobuf'));
  t.is(bad.status, 400);
  t.is((await post(p, encodeMetricsRequest(exportAt(0)))).status, 200);
});
