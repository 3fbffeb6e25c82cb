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
      pipeline: [],
    },
  });
  t.deepEqual(parseLogQL('({app="api"})'), {
    type: 'logs',
    selector: { matchers: [{ name: 'app', op: '=', value: 'api' }], lineFilters: [], pipeline: [] },
  });
});

test('pipeline stages: plain line filters before a line rewrite are pushed down, the rest stays in order', (t) => {
  t.deepEqual(parseLogQL('{app="api"} |= "x" | json | status >= 500 != "y" | line_format "{{.msg}}" |= "z" | drop __error__'), {
    type: 'logs',
    selector: {
      matchers: [{ name: 'app', op: '=', value: 'api' }],
      lineFilters: [
        { op: '|=', value: 'x' },
        { op: '!=', value: 'y' },
      ],
      pipeline: [
        { type: 'json', params: [] },
        { type: 'labelFilter', filter: { type: 'number', name: 'status', op: '>=', value: 500 } },
        { type: 'lineFormat', template: '{{.msg}}' },
        { type: 'lineFilter', op: '|=', values: [{ kind: 'text', value: 'z' }] },
        { type: 'drop', names: ['__error__'], matchers: [] },
      ],
    },
  });
  // or-chains, ip(), pattern filters and regex flags are evaluated in memory.
  t.like(parseLogQL('{app="api"} |= "a" or "b" |= ip("10.0.0.0/8") |> "<_> GET <_>" |~ "(?i)error"'), {
    selector: {
      lineFilters: [],
      pipeline: [
        {
          type: 'lineFilter',
          op: '|=',
          values: [
            { kind: 'text', value: 'a' },
            { kind: 'text', value: 'b' },
          ],
        },
        { type: 'lineFilter', op: '|=', values: [{ kind: 'ip', value: '10.0.0.0/8' }] },
        { type: 'lineFilter', op: '|>', values: [{ kind: 'text', value: '<_> GET <_>' }] },
        { type: 'lineFilter', op: '|~', values: [{ kind: 'text', value: '(?i)error' }] },
      ],
    },
  });
  t.like(parseLogQL('{app="api"} | logfmt --strict --keep-empty a="b", c | json x="a.b[0]", y'), {
    selector: {
      pipeline: [
        {
          type: 'logfmt',
          strict: true,
          keepEmpty: true,
          params: [
            { label: 'a', expr: 'b' },
            { label: 'c', expr: 'c' },
          ],
        },
        {
          type: 'json',
          params: [
            { label: 'x', expr: 'a.b[0]' },
            { label: 'y', expr: 'y' },
          ],
        },
      ],
    },
  });
  t.like(parseLogQL('{app="api"} | a="1" or b=~"2" and c > 1.5s , (d <= 2KB or e != 3)'), {
    selector: {
      pipeline: [
        {
          type: 'labelFilter',
          // `and` and `,` bind tighter than `or`, as in Loki.
          filter: {
            type: 'or',
            left: { type: 'string', matcher: { name: 'a', op: '=', value: '1' } },
            right: {
              type: 'and',
              left: {
                type: 'and',
                left: { type: 'string', matcher: { name: 'b', op: '=~', value: '2' } },
                right: { type: 'duration', name: 'c', op: '>', value: 1.5 },
              },
              right: {
                type: 'or',
                left: { type: 'bytes', name: 'd', op: '<=', value: 2000 },
                right: { type: 'number', name: 'e', op: '!=', value: 3 },
              },
            },
          },
        },
      ],
    },
  });
  t.like(
    parseLogQL('{app="api"} | label_format a=b, c="{{.d}}" | keep x, y="1" | decolorize | unpack | pattern "<a> <_>" | regexp "(?P<x>.)"'),
    {
      selector: {
        pipeline: [
          {
            type: 'labelFormat',
            ops: [
              { dst: 'a', src: 'b' },
              { dst: 'c', template: '{{.d}}' },
            ],
          },
          { type: 'keep', names: ['x'], matchers: [{ name: 'y', op: '=', value: '1' }] },
          { type: 'decolorize' },
          { type: 'unpack' },
          { type: 'pattern', pattern: '<a> <_>' },
          { type: 'regexp', pattern: '(?P<x>.)' },
        ],
      },
    },
  );
  rejects(t, '{app="api"} |~ "("', 'invalid regular expression');
  rejects(t, '{app="api"} | regexp "(.)"', 'at least one named capture');
  rejects(t, '{app="api"} | pattern "<a><b>"', 'consecutive captures');
  rejects(t, '{app="api"} | line_format "{{.a"', 'unclosed action');
  rejects(t, '{app="api"} | line_format "{{ nosuch .a }}"', 'function "nosuch" not defined');
  rejects(t, '{app="api"} | line_format "{{ range .a }}x{{ end }}"', 'may not loop');
  rejects(t, '{app="api"} | label_format a=b, a=c', "multiple label name 'a'");
  rejects(t, '{app="api"} |= ip("nope")', 'invalid ip pattern');
  rejects(t, '{app="api"} | json x="a..b"', 'invalid json expression');
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
    selector: { matchers: [{ name: 'app', op: '=', value: 'api' }], lineFilters: [{ op: '|=', value: 'GET' }], pipeline: [] },
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
  t.like(parseLogQL('avg_over_time({app="api"} | unwrap latency [1m])'), {
    op: 'avg_over_time',
    unwrap: { label: 'latency', conversion: 'number', postFilters: [] },
  });
  t.like(parseLogQL('quantile_over_time(0.99, {app="api"} | json | unwrap duration(d) | __error__="" [5m]) by (path)'), {
    op: 'quantile_over_time',
    param: 0.99,
    unwrap: { label: 'd', conversion: 'duration', postFilters: [{ type: 'string', matcher: { name: '__error__', op: '=', value: '' } }] },
    grouping: { labels: ['path'], without: false },
  });
  t.like(parseLogQL('sum_over_time({app="api"}[5m] offset 1m | logfmt | unwrap bytes(size)) without (pod)'), {
    offsetNs: 60n * NS,
    unwrap: { label: 'size', conversion: 'bytes' },
    grouping: { labels: ['pod'], without: true },
  });
  t.like(parseLogQL('absent_over_time({app="api"}[1m])'), { op: 'absent_over_time' });
  rejects(t, 'rate_counter({app="api"}[1m])', 'invalid aggregation rate_counter without unwrap');
  rejects(t, 'sum_over_time({app="api"}[1m])', 'invalid aggregation sum_over_time without unwrap');
  rejects(t, 'bytes_rate({app="api"} | unwrap x [1m])', 'invalid aggregation bytes_rate with unwrap');
  rejects(t, 'count_over_time({app="api"}[1m]) by (x)', 'grouping not allowed for count_over_time');
  rejects(t, 'quantile_over_time({app="api"} | unwrap x [1m])', /parse error/);
});

test('vector aggregations, the Grafana logs-volume query', (t) => {
  t.deepEqual(parseLogQL('sum by (level, detected_level) (count_over_time({app="api"} |= "x" | drop __error__ [1m]))'), {
    type: 'vectorAggregation',
    op: 'sum',
    expr: {
      type: 'rangeAggregation',
      op: 'count_over_time',
      selector: {
        matchers: [{ name: 'app', op: '=', value: 'api' }],
        lineFilters: [{ op: '|=', value: 'x' }],
        pipeline: [{ type: 'drop', names: ['__error__'], matchers: [] }],
      },
      rangeNs: 60n * NS,
      offsetNs: 0n,
    },
    grouping: ['level', 'detected_level'],
    without: false,
  });
  t.like(parseLogQL('sum(rate({app="api"}[1m])) by (pod)'), { op: 'sum', grouping: ['pod'], without: false });
  t.like(parseLogQL('avg without (pod) (rate({app="api"}[1m]))'), { op: 'avg', grouping: ['pod'], without: true });
  t.like(parseLogQL('topk(2, count_over_time({app="api"}[1m]))'), { op: 'topk', param: 2 });
  t.like(parseLogQL('stddev by (x) (count_over_time({app="api"}[1m]))'), { op: 'stddev', grouping: ['x'] });
  t.like(parseLogQL('sort_desc(count_over_time({app="api"}[1m]))'), { op: 'sort_desc' });
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
  t.like(parseLogQL('rate({a="b"}[1m]) / on(pod) group_left rate({a="c"}[1m])'), {
    matching: { on: true, labels: ['pod'], card: 'many-to-one', include: [] },
  });
  t.like(parseLogQL('rate({a="b"}[1m]) / ignoring(level) group_right(app, env) rate({a="c"}[1m])'), {
    matching: { on: false, labels: ['level'], card: 'one-to-many', include: ['app', 'env'] },
  });
  rejects(t, 'rate({a="b"}[1m]) / on(pod) group_left(pod) rate({a="c"}[1m])', 'label "pod" must not occur in ON and GROUP clause at once');
  t.like(parseLogQL('label_replace(rate({a="b"}[1m]), "x", "$1", "a", "(.*)")'), {
    type: 'labelReplace',
    dst: 'x',
    replacement: '$1',
    src: 'a',
    regex: '(.*)',
  });
  rejects(t, 'label_replace(rate({a="b"}[1m]), "x", "$1", "a", "(")', 'invalid regular expression');
});

test('syntax errors are bad_data with a position', (t) => {
  rejects(t, '{app="api"', /^1:11: parse error: unexpected end of input$/);
  rejects(t, 'count_over_time({app="api"})', /^1:\d+: parse error/);
  rejects(t, '', 'empty query');
});
