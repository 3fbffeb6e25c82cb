/** OTel → Prometheus naming (the "UnderscoreEscapingWithSuffixes" rules), on names made up here. */
import test from 'ava';
import { formatFloat, labelName, metricName, type MetricKind } from './otel-prometheus-names.js';

const metricCases: Array<[string, string, MetricKind, string | undefined]> = [
  ['http.server.request.duration', 's', 'histogram', 'http_server_request_duration_seconds'],
  ['system.memory.usage', 'By', 'non_monotonic_sum', 'system_memory_usage_bytes'],
  ['app.jobs.done', '1', 'counter', 'app_jobs_done_total'],
  ['app.cpu.utilization', '1', 'gauge', 'app_cpu_utilization_ratio'],
  ['app.cpu.utilization', '1', 'non_monotonic_sum', 'app_cpu_utilization'],
  ['ratio.of.things', '1', 'gauge', 'of_things_ratio'],
  ['queue.depth', '{message}', 'gauge', 'queue_depth'],
  ['queue.items', '{item}', 'counter', 'queue_items_total'],
  ['net.io', 'By/s', 'gauge', 'net_io_bytes_per_second'],
  ['net.packets', '{packet}/s', 'gauge', 'net_packets_per_second'],
  ['distance', 'm/mo', 'gauge', 'distance_meters_per_month'],
  ['speed', 'km/h', 'gauge', 'speed_km_per_hour'],
  ['latency_seconds', 's', 'histogram', 'latency_seconds'],
  ['bytes.sent.bytes', 'By', 'counter', 'bytes_sent_bytes_total'],
  ['total.requests.total', '', 'counter', 'requests_total'],
  ['requests.total', '', 'gauge', 'requests_total'],
  ['2xx.responses', '', 'gauge', '_2xx_responses'],
  ['foo__bar--baz', '', 'gauge', 'foo_bar_baz'],
  ['_leading.underscore', '', 'gauge', 'leading_underscore'],
  ['job:rate.5m', '', 'gauge', 'job:rate_5m'],
  ['disk.used', '%', 'gauge', 'disk_used_percent'],
  ['room.temp', 'Cel', 'gauge', 'room_temp_celsius'],
  ['odd', 'foo bar', 'gauge', 'odd_foo_bar'],
  ['odd', ' s ', 'gauge', 'odd_seconds'],
  ['heap', 'MiBy', 'gauge', 'heap_mebibytes'],
  ['rate', 'By/%', 'gauge', 'rate_bytes'],
  ['...', '', 'gauge', undefined],
  ['', '', 'gauge', undefined],
  ['émoji.only.ü', '', 'gauge', 'moji_only'],
];

for (const [name, unit, kind, expected] of metricCases) {
  test(`metric ${JSON.stringify(name)} unit ${JSON.stringify(unit)} ${kind} → ${expected}`, (t) => {
    t.is(metricName(name, unit, kind), expected);
  });
}

const labelCases: Array<[string, string | undefined]> = [
  ['http.request.method', 'http_request_method'],
  ['k8s.pod.name', 'k8s_pod_name'],
  ['123abc', 'key_123abc'],
  ['_private', '_private'],
  ['a..b__c', 'a_b_c'],
  ['__meta.x__', '__meta_x__'],
  ['__x', '_x'],
  ['a-b', 'a_b'],
  ['ключ', undefined],
  ['...', undefined],
  ['', undefined],
];

for (const [key, expected] of labelCases) {
  test(`label ${JSON.stringify(key)} → ${expected}`, (t) => {
    t.is(labelName(key), expected);
  });
}

test('floats as Go FormatFloat(x, f, -1) writes them', (t) => {
  const cases: Array<[number, string]> = [
    [0.005, '0.005'],
    [1e-7, '0.0000001'],
    [2.5e-10, '0.00000000025'],
    [100, '100'],
    [1e21, '1000000000000000000000'],
    [1.2345e22, '12345000000000000000000'],
    [-3.5e-8, '-0.000000035'],
    [0, '0'],
    [-0, '-0'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
    [NaN, 'NaN'],
  ];
  for (const [x, text] of cases) t.is(formatFloat(x), text, String(x));
});
