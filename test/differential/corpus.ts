/**
 * The query corpus of the PromQL differential tier, written for the data set in data.ts: every
 * function, aggregation, operator and modifier of PromQL 3 (not the experimental ones), each
 * evaluated as instant queries at awkward times and as a range query with an awkward step.
 */
import { T0 } from './data.js';

/** One evaluation of a query: instant at `time`, or range over [start, end] by step (ms). */
export type Evaluation = { time: number } | { start: number; end: number; step: number };

const min = 60_000;

/** The evaluations every query gets: inside the data, near its start, past its end, and a range. */
export const EVALUATIONS: Evaluation[] = [
  { time: T0 + 63 * min + 7_123 },
  { time: T0 + 2 * min + 11 },
  { time: T0 + 123 * min + 500 },
  { start: T0 + 17 * min + 3_001, end: T0 + 118 * min, step: 63_000 },
];

const COUNTERS = [
  'http_requests_total',
  'http_requests_total{method="get"}',
  'process_cpu_seconds_total',
  'request_duration_seconds_count',
];
const GAUGES = ['memory_bytes', 'temperature_celsius', 'queue_length', 'up'];
const SELECTORS = [
  ...COUNTERS,
  ...GAUGES,
  'memory_bytes{instance=~"a|c"}',
  'http_requests_total{instance!="b",status=~"2.."}',
  '{__name__=~"memory_bytes|up"}',
  '{job="node"}',
  'http_requests_total{method!~"g.*"}',
  'nonexistent_metric',
  'label_source',
  'build_info',
  'request_duration_seconds_bucket{instance="a"}',
];

const RANGE_FUNCTIONS = [
  'rate',
  'irate',
  'increase',
  'delta',
  'idelta',
  'deriv',
  'changes',
  'resets',
  'sum_over_time',
  'avg_over_time',
  'min_over_time',
  'max_over_time',
  'count_over_time',
  'last_over_time',
  'first_over_time',
  'present_over_time',
  'stddev_over_time',
  'stdvar_over_time',
  'absent_over_time',
];

const ELEMENT_FUNCTIONS = [
  'abs',
  'ceil',
  'floor',
  'round',
  'sqrt',
  'exp',
  'ln',
  'log2',
  'log10',
  'sgn',
  'sin',
  'cos',
  'tan',
  'asin',
  'acos',
  'atan',
  'sinh',
  'cosh',
  'tanh',
  'asinh',
  'acosh',
  'atanh',
  'deg',
  'rad',
  'timestamp',
];

const DATE_FUNCTIONS = ['year', 'month', 'day_of_month', 'day_of_week', 'day_of_year', 'days_in_month', 'hour', 'minute'];

const AGGREGATIONS = ['sum', 'avg', 'min', 'max', 'count', 'group', 'stddev', 'stdvar'];
const GROUPINGS = ['', ' by (job)', ' by (instance)', ' without (instance)', ' by (job, instance)', ' without (method, status)', ' by ()'];

function corpus(): string[] {
  const q: string[] = [];
  // Selectors, offsets, @.
  q.push(...SELECTORS);
  q.push(
    'memory_bytes offset 5m',
    'memory_bytes offset -7m',
    'http_requests_total offset 1h',
    'memory_bytes / memory_bytes offset 1h',
    'memory_bytes - memory_bytes offset 30s',
    `memory_bytes @ ${(T0 + 45 * min) / 1000}`,
    `memory_bytes @ ${(T0 + 45 * min + 500) / 1000} offset 10m`,
    'memory_bytes @ start()',
    'memory_bytes @ end()',
    'rate(http_requests_total[5m] @ end())',
    'rate(http_requests_total[5m] @ start() offset 1m)',
    'sum(rate(http_requests_total[5m])) / sum(rate(http_requests_total[5m] @ end()))',
    'memory_bytes[5m]',
    'http_requests_total{instance="a"}[2m] offset 10m',
    'queue_length[10m]',
    `temperature_celsius[3m] @ ${(T0 + 30 * min) / 1000}`,
  );
  // Range functions.
  for (const f of RANGE_FUNCTIONS) {
    for (const s of ['http_requests_total', 'memory_bytes', 'temperature_celsius', 'queue_length']) q.push(`${f}(${s}[5m])`);
    q.push(`${f}(http_requests_total{instance="b"}[1m])`, `${f}(process_cpu_seconds_total[7m30s] offset 3m)`);
  }
  q.push('absent_over_time(nonexistent_metric[5m])', 'absent_over_time(nonexistent_metric{job="x",env=~"p.*"}[5m])');
  q.push('absent_over_time(queue_length{queue="q2"}[5m])');
  for (const p of ['0', '0.25', '0.5', '0.9', '1', '-1', '2', 'NaN']) q.push(`quantile_over_time(${p}, temperature_celsius[10m])`);
  q.push('quantile_over_time(0.75, http_requests_total[5m])');
  for (const s of ['memory_bytes[10m], 600', 'memory_bytes[5m], -300', 'http_requests_total[15m], 3600', 'temperature_celsius[20m], 0']) {
    q.push(`predict_linear(${s})`);
  }
  // Element-wise functions.
  for (const f of ELEMENT_FUNCTIONS) {
    const extra = f === 'round' ? ', 0.5' : '';
    q.push(`${f}(temperature_celsius${extra})`, `${f}(up)`);
  }
  q.push('round(temperature_celsius)', 'round(memory_bytes, 1000)', 'round(temperature_celsius, 3)', 'round(temperature_celsius, -2)');
  q.push(
    'sqrt(memory_bytes)',
    'ln(memory_bytes)',
    'exp(temperature_celsius / 10)',
    'abs(-temperature_celsius)',
    'timestamp(memory_bytes offset 2m)',
  );
  q.push('timestamp(rate(http_requests_total[5m]))', 'timestamp(timestamp(memory_bytes))');
  for (const c of ['clamp(temperature_celsius, -5, 5)', 'clamp(temperature_celsius, 5, -5)', 'clamp(temperature_celsius, 0, NaN)'])
    q.push(c);
  q.push(
    'clamp_min(temperature_celsius, 0)',
    'clamp_max(temperature_celsius, 2.5)',
    'clamp_max(memory_bytes, 1.5e8)',
    'clamp_min(up, NaN)',
  );
  for (const f of DATE_FUNCTIONS) q.push(`${f}()`, `${f}(timestamp(memory_bytes))`, `${f}(vector(1709251199))`);
  q.push('day_of_week(vector(0))', 'days_in_month(vector(1707000000))', 'hour(memory_bytes)');
  q.push(
    'pi()',
    'time()',
    'vector(1)',
    'vector(time())',
    'scalar(memory_bytes)',
    'scalar(memory_bytes{instance="a"})',
    'scalar(nonexistent_metric)',
  );
  q.push('deg(pi())', 'rad(vector(180))', 'time() - timestamp(memory_bytes)');
  q.push(
    'sort(temperature_celsius)',
    'sort_desc(memory_bytes)',
    'sort(rate(http_requests_total[5m]))',
    'sort_desc(sum by (instance) (up))',
  );
  q.push('absent(nonexistent_metric)', 'absent(nonexistent_metric{job="x",instance="y"})', 'absent(nonexistent_metric{job=~"x",env="a"})');
  q.push('absent(up)', 'absent(sum(nonexistent_metric))', 'absent(queue_length{queue="q2"})', 'absent(rate(nonexistent_metric[5m]))');
  // Label functions.
  q.push(
    'label_replace(label_source, "first", "$1", "src", "([^-]*)-.*")',
    'label_replace(label_source, "src", "", "src", ".*")',
    'label_replace(label_source, "nomatch", "$1", "src", "zzz(.*)")',
    'label_replace(memory_bytes, "host", "host-$1", "instance", "(.*)")',
    'label_replace(memory_bytes, "instance", "same", "instance", ".*")',
    'label_replace(label_source, "p", "${1}_x", "path", "/api/(v[0-9]+)/.*")',
    'label_replace(up, "__name__", "renamed", "job", "(.*)")',
    'label_join(label_source, "joined", "-", "src", "dst")',
    'label_join(label_source, "joined", "", "src", "nonexistent", "dst")',
    'label_join(memory_bytes, "id", ":", "job", "instance")',
    'label_join(label_source, "src", ",")',
  );
  // Aggregations.
  for (const op of AGGREGATIONS) {
    for (const g of GROUPINGS) q.push(`${op}${g} (http_requests_total)`);
    q.push(
      `${op} by (instance) (rate(http_requests_total[5m]))`,
      `${op}(temperature_celsius)`,
      `${op} without (room) (temperature_celsius)`,
    );
  }
  q.push('sum(nonexistent_metric)', 'count(nonexistent_metric)', 'sum by (job) (memory_bytes) / count by (job) (memory_bytes)');
  q.push('avg(memory_bytes)', 'stddev by (job) (memory_bytes)', 'sum by (site) (temperature_celsius)', 'group by (job) ({job=~".+"})');
  for (const k of ['1', '2', '5', '0', '-1', '2.9']) q.push(`topk(${k}, http_requests_total)`, `bottomk(${k}, temperature_celsius)`);
  q.push(
    'topk by (instance) (1, http_requests_total)',
    'bottomk without (method) (1, http_requests_total)',
    'topk(1, sum by (instance) (up))',
  );
  q.push('topk(scalar(count(up)), memory_bytes)', 'sort_desc(topk(3, rate(http_requests_total[5m])))');
  // k is refused before the input is read, also where the input is empty.
  q.push('topk(1e20, nonexistent_metric)', 'bottomk(NaN, nonexistent_metric)', 'topk(-1e20, http_requests_total)');
  for (const p of ['0', '0.5', '0.9', '0.99', '1', '-0.5', '1.5', 'NaN']) q.push(`quantile(${p}, http_requests_total)`);
  q.push('quantile by (instance) (0.5, http_requests_total)', 'quantile without (room) (0.5, temperature_celsius)');
  q.push(
    'count_values("value", up)',
    'count_values by (job) ("v", up)',
    'count_values("version", build_info)',
    'count_values("instance", up)',
  );
  q.push('count_values("t", round(temperature_celsius))', 'count_values("job", http_requests_total > 1e9)');
  // Histograms.
  for (const p of ['0', '0.25', '0.5', '0.9', '0.99', '1', '-1', '2', 'NaN']) {
    q.push(`histogram_quantile(${p}, sum by (le) (rate(request_duration_seconds_bucket[5m])))`);
  }
  q.push(
    'histogram_quantile(0.9, rate(request_duration_seconds_bucket[5m]))',
    'histogram_quantile(0.5, sum by (instance, le) (rate(request_duration_seconds_bucket[10m])))',
    'histogram_quantile(0.99, request_duration_seconds_bucket)',
    'histogram_quantile(0.5, request_duration_seconds_bucket{instance="d"})',
    'histogram_quantile(0.75, request_duration_seconds_bucket{instance="c"})',
    'histogram_quantile(0.9, sum by (job, le) (increase(request_duration_seconds_bucket[1h])))',
    'histogram_quantile(0.5, label_replace(request_duration_seconds_bucket{instance="a"}, "le", "x", "le", "0.1"))',
    'histogram_quantile(0.5, sum without (le) (request_duration_seconds_bucket))',
    'rate(request_duration_seconds_sum[5m]) / rate(request_duration_seconds_count[5m])',
    'histogram_count(request_duration_seconds_bucket)',
    'histogram_sum(request_duration_seconds_bucket)',
    'histogram_fraction(0, 0.5, request_duration_seconds_bucket)',
  );
  // Binary operators.
  for (const op of ['+', '-', '*', '/', '%', '^', 'atan2']) {
    q.push(`memory_bytes ${op} 3`, `2 ${op} temperature_celsius`, `temperature_celsius ${op} on(room) temperature_celsius offset 5m`);
  }
  for (const op of ['==', '!=', '>', '<', '>=', '<=']) {
    q.push(
      `temperature_celsius ${op} 5`,
      `5 ${op} temperature_celsius`,
      `temperature_celsius ${op} bool 5`,
      `up ${op} ignoring(job) up offset 1m`,
    );
  }
  q.push(
    '1 + 2 * 3',
    '2 ^ 3 ^ 2',
    '-2 ^ 2',
    '10 % 3',
    '5 > bool 3',
    '(1 > bool 2) + 1',
    'NaN == bool NaN',
    'Inf - Inf',
    '1 / 0',
    '-1 / 0',
    '0 / 0',
  );
  q.push('-memory_bytes', '+memory_bytes', '--temperature_celsius', 'memory_bytes * -1 + memory_bytes');
  q.push(
    'up and up{instance="a"}',
    'up or memory_bytes',
    'memory_bytes unless memory_bytes{instance="b"}',
    'up and on(instance) build_info',
    'up unless ignoring(job) build_info',
    'http_requests_total or on(instance) memory_bytes',
    'nonexistent_metric or up',
    'up and nonexistent_metric',
  );
  q.push(
    'http_requests_total / on(instance) group_left memory_bytes',
    'rate(http_requests_total[5m]) * on(instance) group_left(version) build_info',
    'up * on(instance) group_left(version, goversion) build_info',
    'build_info * on(instance) group_right(version) http_requests_total',
    'memory_bytes / ignoring(job) group_left up',
    'http_requests_total > on(instance) group_left memory_bytes',
    'sum by (instance, method) (http_requests_total) / on(instance) group_left sum by (instance) (http_requests_total)',
    'http_requests_total + on(job) memory_bytes',
    'http_requests_total / ignoring(method, status) up',
    'http_requests_total / on(instance) memory_bytes',
    'up == bool on(instance) group_left(version) build_info',
  );
  // Subqueries.
  q.push(
    'max_over_time(rate(http_requests_total[5m])[30m:1m])',
    'avg_over_time(memory_bytes[10m:])',
    'rate(http_requests_total[5m])[10m:2m]',
    'min_over_time(sum by (instance) (rate(http_requests_total[1m]))[17m:43s])',
    'max_over_time(deriv(memory_bytes[5m])[20m:1m] offset 10m)',
    'sum_over_time(up[1h:5m])',
    'count_over_time(temperature_celsius[7m:13s])',
    'quantile_over_time(0.9, rate(http_requests_total[2m])[15m:30s])',
    'max_over_time(max_over_time(memory_bytes[5m:1m])[20m:2m])',
    'last_over_time(memory_bytes[5m:30s] @ end())',
    'rate(sum(http_requests_total)[10m:1m])',
    'changes(up[30m:1m])',
    'memory_bytes[5m:1m]',
  );
  // Combinations.
  q.push(
    '-up offset 5m',
    'sum(up) by (job)',
    'count by (le) (request_duration_seconds_bucket)',
    'count(count by (instance) (up))',
    'timestamp(up @ 1700003600)',
    'time() - timestamp(memory_bytes @ end())',
    'max_over_time(memory_bytes[10m:1m] @ 1700003000)',
    'predict_linear(sum(memory_bytes)[30m:1m], 1800)',
    'label_join(up, "__name__", "_", "job", "instance")',
    'rate(http_requests_total[5m] offset -10m)',
    'deriv(rate(http_requests_total[5m])[20m:1m] offset 5m)',
    '1 - up',
    'up == 1',
    'up != bool 0',
    'histogram_quantile(0.9, sum by (le) (rate(request_duration_seconds_bucket{instance=~"a|b"}[5m])))',
    'build_info > on(instance) group_right(version) up',
    'http_requests_total % 7 > 3',
    '2 * 3 > bool 5',
    'bottomk(2, rate(http_requests_total[5m]))',
    'avg(rate(http_requests_total[5m])) by (method) > 0',
    'sum by (job) (rate(http_requests_total[5m])) * on(job) group_left sum by (job) (up)',
    'stddev_over_time(temperature_celsius[30m:1m])',
    'absent_over_time(memory_bytes{instance="c"}[5m])',
    'absent(memory_bytes{instance="c"})',
    'resets(process_cpu_seconds_total[1h])',
    'changes(temperature_celsius[1h])',
    'quantile(0.5, rate(http_requests_total[5m])) by (instance)',
    'clamp(rate(http_requests_total[5m]), 0.5, 2)',
    'vector(1) + on() group_left up',
    'scalar(sum(up)) * up',
  );
  // Experimental functions and aggregations: Prometheus refuses them without a feature flag.
  q.push('sort_by_label(up, "instance")', 'limitk(2, up)', 'mad_over_time(memory_bytes[5m])', 'info(up)');
  // Errors Prometheus reports: sextant must report the same kind.
  q.push('http_requests_total + ', 'rate(memory_bytes)', 'sum(memory_bytes[5m])', 'memory_bytes + on(job) memory_bytes');
  q.push(
    'label_replace(up, "1bad", "$1", "job", "(.*)")',
    'label_replace(up, "x", "$1", "job", "(.*")',
    'topk("a", up)',
    'nonexistent_fn(up)',
  );
  return q;
}

export const QUERIES: readonly string[] = [...new Set(corpus())];

/** Queries on the staleness data set (evaluated in process). */
export const STALE_QUERIES: readonly string[] = [
  'stale_gauge',
  'stale_counter_total',
  'count_over_time(stale_gauge[5m])',
  'last_over_time(stale_gauge[10m])',
  'rate(stale_counter_total[5m])',
  'sum(stale_gauge)',
  'stale_gauge offset 3m',
  'absent(stale_gauge{target="ended"})',
  'present_over_time(stale_gauge[2m])',
  'timestamp(stale_gauge)',
  'max_over_time(stale_gauge[3m:1m])',
  'changes(stale_gauge[10m])',
];

/** Evaluations for the staleness data set, around the markers. */
export const STALE_EVALUATIONS: Evaluation[] = [
  { time: T0 + 40 * min + 20_000 },
  { time: T0 + 41 * min },
  { time: T0 + 5 * min + 15_300 },
  { start: T0 + 30 * min + 1, end: T0 + 80 * min, step: 14_000 },
];
