import test from 'ava';
import { QueryError } from '../promql/errors.js';
import { parseLogQL, parseStreamSelector } from './parse.js';

const NS = 1_000_000_000n;

function rejects(t: import('ava').ExecutionContext, query: string, message: string | RegExp): void {
  const error = t.throws(() => parseLogQL(query), { instanceOf: QueryError }, query);
  t.is(error?.type, 'bad_data', query);
  if (typeof message === 'string') t.true(error?.message.includes(message), `${query}: ${error?.message}`);
  else t.regex(error?.message ?? '', message, query);
}

test('stream selector with all matcher ops and chained line filters', (t) => {
  t.deepEqual(parseLogQL('{app="api", env!="dev", pod=~"api-.*", ns!~"kube-.*"} |= "GET" != "health" |~ `\\d{3}` !~ "debug"'), {
    type: 'logs',
    selector: {
      matchers: [
        { name: 'app', op: '=', value: 'api' },
        { name: 'env', op: '!=', value: 'dev' },
        { name: 'pod', op: '=~', value: 'api-.*' },
        { name: 'ns', op: '!~', value: 'kube-.*' },
      ],
      lineFilters: [
        { op: '|=', value: 'GET' },
        { op: '!=', value: 'health' },
        { op: '|~', value: '\\d{3}' },
        { op: '!~', value: 'debug' },
      ],
    },
  });
  t.deepEqual(parseLogQL('({app="api"})'), {
    type: 'logs',
    selector: { matchers: [{ name: 'app', op: '=', value: 'api' }], lineFilters: [] },
  });
});

test('| drop __error__ is accepted as a no-op; other stages are rejected naming the stage', (t) => {
  t.deepEqual(parseLogQL('{app="api"} |= "x" | drop __error__, __error_details__'), {
    type: 'logs',
    selector: { matchers: [{ name: 'app', op: '=', value: 'api' }], lineFilters: [{ op: '|=', value: 'x' }] },
  });
  rejects(t, '{app="api"} | json', 'unsupported: log pipeline stage | json');
  rejects(t, '{app="api"} | logfmt', 'unsupported: log pipeline stage | logfmt');
  rejects(t, '{app="api"} | level="error"', 'unsupported: log pipeline stage | level="error"');
  rejects(t, '{app="api"} | line_format "{{.msg}}"', 'unsupported: log pipeline stage | line_format');
  rejects(t, '{app="api"} | drop level', 'unsupported: log pipeline stage | drop level');
  rejects(t, '{app="api"} | decolorize', 'unsupported: log pipeline stage | decolorize');
  rejects(t, '{app="api"} |= "a" or "b"', 'unsupported: "or" in line filter');
  rejects(t, '{app="api"} |= ip("10.0.0.1")', 'unsupported: line filter function');
  rejects(t, '{app="api"} |> "<_> GET"', 'unsupported: pattern line filter |>');
  rejects(t, '{app="api"} |~ "("', 'invalid regular expression in line filter');
});

test('selectors need a non-empty matcher and valid regexes', (t) => {
  rejects(t, '{app=~".*"}', 'queries require at least one regexp or equality matcher that does not have an empty-compatible value');
  rejects(t, '{app=~"("}', 'invalid regular expression');
  t.deepEqual(parseStreamSelector('{app="api"} |= "x"'), [{ name: 'app', op: '=', value: 'api' }]);
  t.throws(() => parseStreamSelector('count_over_time({app="api"}[1m])'), { message: /not a stream selector/ });
});

test('range aggregations with range, offset and line filters in either position', (t) => {
  t.deepEqual(parseLogQL('count_over_time({app="api"} |= "GET" [5m] offset 1h)'), {
    type: 'rangeAggregation',
    op: 'count_over_time',
    selector: { matchers: [{ name: 'app', op: '=', value: 'api' }], lineFilters: [{ op: '|=', value: 'GET' }] },
    rangeNs: 300n * NS,
    offsetNs: 3600n * NS,
  });
  t.like(parseLogQL('rate({app="api"}[1m] |= "x")'), {
    op: 'rate',
    selector: { lineFilters: [{ op: '|=', value: 'x' }] },
    rangeNs: 60n * NS,
  });
  t.like(parseLogQL('bytes_over_time({app="api"}[1h30m])'), { op: 'bytes_over_time', rangeNs: 5400n * NS });
  t.like(parseLogQL('bytes_rate({app="api"}[500ms])'), { op: 'bytes_rate', rangeNs: 500_000_000n });
  rejects(t, 'avg_over_time({app="api"} | unwrap latency [1m])', 'unsupported: unwrap in avg_over_time');
  rejects(t, 'absent_over_time({app="api"}[1m])', 'unsupported: range aggregation absent_over_time');
  rejects(t, 'rate_counter({app="api"}[1m])', 'unsupported: range aggregation rate_counter');
});

test('vector aggregations, the Grafana logs-volume query', (t) => {
  t.deepEqual(parseLogQL('sum by (level, detected_level) (count_over_time({app="api"} |= "x" | drop __error__ [1m]))'), {
    type: 'vectorAggregation',
    op: 'sum',
    expr: {
      type: 'rangeAggregation',
      op: 'count_over_time',
      selector: { matchers: [{ name: 'app', op: '=', value: 'api' }], lineFilters: [{ op: '|=', value: 'x' }] },
      rangeNs: 60n * NS,
      offsetNs: 0n,
    },
    grouping: ['level', 'detected_level'],
    without: false,
  });
  t.like(parseLogQL('sum(rate({app="api"}[1m])) by (pod)'), { op: 'sum', grouping: ['pod'], without: false });
  t.like(parseLogQL('avg without (pod) (rate({app="api"}[1m]))'), { op: 'avg', grouping: ['pod'], without: true });
  t.like(parseLogQL('topk(2, count_over_time({app="api"}[1m]))'), { op: 'topk', param: 2 });
  rejects(t, 'stddev(count_over_time({app="api"}[1m]))', 'unsupported: aggregation stddev');
  rejects(t, 'sort(count_over_time({app="api"}[1m]))', 'unsupported: aggregation sort');
});

test('binary operators get Loki precedence although the grammar has none', (t) => {
  // The lezer tree is ((1 + 2) * 3) ^ 2; Loki means 1 + (2 * (3 ^ 2)).
  t.deepEqual(parseLogQL('1 + 2 * 3 ^ 2'), {
    type: 'binary',
    op: '+',
    lhs: { type: 'number', value: 1 },
    rhs: {
      type: 'binary',
      op: '*',
      lhs: { type: 'number', value: 2 },
      rhs: { type: 'binary', op: '^', lhs: { type: 'number', value: 3 }, rhs: { type: 'number', value: 2 }, returnBool: false },
      returnBool: false,
    },
    returnBool: false,
  });
  t.deepEqual(parseLogQL('(1 + 2) * 3'), {
    type: 'binary',
    op: '*',
    lhs: { type: 'binary', op: '+', lhs: { type: 'number', value: 1 }, rhs: { type: 'number', value: 2 }, returnBool: false },
    rhs: { type: 'number', value: 3 },
    returnBool: false,
  });
  t.deepEqual(parseLogQL('vector(1)+vector(1)'), {
    type: 'binary',
    op: '+',
    lhs: { type: 'vector', value: 1 },
    rhs: { type: 'vector', value: 1 },
    returnBool: false,
  });
  t.like(parseLogQL('-1'), { type: 'number', value: -1 });
  t.like(parseLogQL('count_over_time({a="b"}[1m]) > bool 1'), { type: 'binary', op: '>', returnBool: true });
  t.like(parseLogQL('rate({a="b"}[1m]) / on(pod) rate({a="c"}[1m])'), { matching: { on: true, labels: ['pod'] } });
  rejects(t, '1 > 2', 'comparisons between scalars must use BOOL modifier');
  rejects(t, 'rate({a="b"}[1m]) / on(pod) group_left rate({a="c"}[1m])', 'unsupported: group_left');
  rejects(t, 'label_replace(rate({a="b"}[1m]), "x", "$1", "a", "(.*)")', 'unsupported: function label_replace');
});

test('syntax errors are bad_data with a position', (t) => {
  rejects(t, '{app="api"', /^1:11: parse error: unexpected end of input$/);
  rejects(t, 'count_over_time({app="api"})', /^1:\d+: parse error/);
  rejects(t, '', 'empty query');
});
