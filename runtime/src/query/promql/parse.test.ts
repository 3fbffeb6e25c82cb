import test from 'ava';
import { QueryError } from './errors.js';
import { parsePromQL, parseSeriesSelector } from './parse.js';

const name = (value: string) => ({ name: '__name__', op: '=', value });

function rejects(t: import('ava').ExecutionContext, query: string, message: string | RegExp): void {
  const error = t.throws(() => parsePromQL(query), { instanceOf: QueryError }, query);
  t.is(error?.type, 'bad_data', query);
  if (typeof message === 'string') t.true(error?.message.includes(message), `${query}: ${error?.message}`);
  else t.regex(error?.message ?? '', message, query);
}

test('number literals: decimal, exponent, hex, Inf, NaN, signs, durations as seconds', (t) => {
  t.deepEqual(parsePromQL('1.5'), { type: 'number', value: 1.5 });
  t.deepEqual(parsePromQL('1e3'), { type: 'number', value: 1000 });
  t.deepEqual(parsePromQL('0x1f'), { type: 'number', value: 31 });
  t.deepEqual(parsePromQL('Inf'), { type: 'number', value: Infinity });
  t.deepEqual(parsePromQL('-Inf'), { type: 'number', value: -Infinity });
  t.true(Number.isNaN((parsePromQL('NaN') as { value: number }).value));
  t.deepEqual(parsePromQL('-(2)'), { type: 'number', value: -2 });
  t.deepEqual(parsePromQL('5m'), { type: 'number', value: 300 });
});

test('string literal at top level, with Go escapes', (t) => {
  t.deepEqual(parsePromQL('"a\\tb"'), { type: 'string', value: 'a\tb' });
  t.deepEqual(parsePromQL("'x'"), { type: 'string', value: 'x' });
  t.deepEqual(parsePromQL('`raw\\n`'), { type: 'string', value: 'raw\\n' });
});

test('binary arithmetic keeps Prometheus precedence and associativity', (t) => {
  t.deepEqual(parsePromQL('1 + 2 * 3'), {
    type: 'binary',
    op: '+',
    lhs: { type: 'number', value: 1 },
    rhs: { type: 'binary', op: '*', lhs: { type: 'number', value: 2 }, rhs: { type: 'number', value: 3 }, returnBool: false },
    returnBool: false,
  });
  // ^ is right-associative, and unary minus binds looser than ^: -2 ^ 2 = -(2 ^ 2)
  t.deepEqual(parsePromQL('-2 ^ 2'), {
    type: 'unary',
    op: '-',
    expr: { type: 'binary', op: '^', lhs: { type: 'number', value: 2 }, rhs: { type: 'number', value: 2 }, returnBool: false },
  });
  t.deepEqual(parsePromQL('(1 + 2) % 2'), {
    type: 'binary',
    op: '%',
    lhs: { type: 'binary', op: '+', lhs: { type: 'number', value: 1 }, rhs: { type: 'number', value: 2 }, returnBool: false },
    rhs: { type: 'number', value: 2 },
    returnBool: false,
  });
});

test('comparisons: bool required between scalars, bool only on comparisons', (t) => {
  t.like(parsePromQL('1 > bool 2'), { type: 'binary', op: '>', returnBool: true });
  rejects(t, '1 > 2', 'comparisons between scalars must use BOOL modifier');
  rejects(t, 'foo + bool 1', 'bool modifier can only be used on comparison operators');
  t.like(parsePromQL('foo >= 2'), { type: 'binary', op: '>=', returnBool: false });
});

test('vector selectors: name, all matcher ops, quoted names, offset', (t) => {
  t.deepEqual(parsePromQL('http_requests_total{job="api", code!="500", path=~"/a.*", method!~"GET|HEAD"}'), {
    type: 'vectorSelector',
    matchers: [
      name('http_requests_total'),
      { name: 'job', op: '=', value: 'api' },
      { name: 'code', op: '!=', value: '500' },
      { name: 'path', op: '=~', value: '/a.*' },
      { name: 'method', op: '!~', value: 'GET|HEAD' },
    ],
    offsetMs: 0,
  });
  t.deepEqual(parsePromQL('{"my.metric", "a.b"="c"}'), {
    type: 'vectorSelector',
    matchers: [name('my.metric'), { name: 'a.b', op: '=', value: 'c' }],
    offsetMs: 0,
  });
  t.deepEqual(parsePromQL('{__name__="up"} offset 1h'), { type: 'vectorSelector', matchers: [name('up')], offsetMs: 3_600_000 });
  t.deepEqual(parsePromQL('up offset -5m'), { type: 'vectorSelector', matchers: [name('up')], offsetMs: -300_000 });
});

test('selector rules: a non-empty matcher, a valid regex, one metric name', (t) => {
  rejects(t, '{job=~".*"}', 'vector selector must contain at least one non-empty matcher');
  rejects(t, '{job=""}', 'vector selector must contain at least one non-empty matcher');
  t.notThrows(() => parsePromQL('{job!=""}'));
  rejects(t, 'up{job=~"("}', 'invalid regular expression');
  rejects(t, 'up{__name__="x"}', 'metric name must not be set twice');
  rejects(t, '1 offset 5m', 'offset modifier must be preceded by an instant vector selector');
});

test('matrix selectors with range and offset', (t) => {
  t.deepEqual(parsePromQL('up[5m] offset 1m'), {
    type: 'matrixSelector',
    selector: { type: 'vectorSelector', matchers: [name('up')], offsetMs: 60_000 },
    rangeMs: 300_000,
  });
  t.like(parsePromQL('up[1h30m]'), { rangeMs: 5_400_000 });
  rejects(t, 'up offset 5m [1m]', 'no offset modifiers allowed before range');
});

test('functions: arity and argument types are checked', (t) => {
  t.deepEqual(parsePromQL('rate(up[5m])'), {
    type: 'call',
    func: 'rate',
    args: [{ type: 'matrixSelector', selector: { type: 'vectorSelector', matchers: [name('up')], offsetMs: 0 }, rangeMs: 300_000 }],
    returns: 'vector',
  });
  t.deepEqual(parsePromQL('vector(1)'), { type: 'call', func: 'vector', args: [{ type: 'number', value: 1 }], returns: 'vector' });
  t.deepEqual(parsePromQL('time()'), { type: 'call', func: 'time', args: [], returns: 'scalar' });
  t.like(parsePromQL('round(up, 0.5)'), { type: 'call', func: 'round' });
  for (const f of [
    'irate',
    'increase',
    'delta',
    'sum_over_time',
    'avg_over_time',
    'min_over_time',
    'max_over_time',
    'count_over_time',
    'last_over_time',
  ]) {
    t.like(parsePromQL(`${f}(up[1m])`), { type: 'call', func: f });
  }
  for (const f of ['abs', 'ceil', 'floor', 'scalar']) t.like(parsePromQL(`${f}(up)`), { type: 'call', func: f });
  rejects(t, 'rate(up)', 'expected type range vector in call to function "rate", got instant vector');
  rejects(t, 'abs(up[1m])', 'expected type instant vector in call to function "abs", got range vector');
  rejects(t, 'up[5m] + 1', 'binary expression must contain only scalar and instant vector types');
});

test('aggregations with by/without in either position, topk/bottomk', (t) => {
  t.deepEqual(parsePromQL('sum by (job, instance) (up)'), {
    type: 'aggregate',
    op: 'sum',
    expr: { type: 'vectorSelector', matchers: [name('up')], offsetMs: 0 },
    grouping: ['job', 'instance'],
    without: false,
  });
  t.like(parsePromQL('avg(up) without (instance)'), { type: 'aggregate', op: 'avg', grouping: ['instance'], without: true });
  t.like(parsePromQL('count(up)'), { op: 'count', grouping: [], without: false });
  t.like(parsePromQL('topk(3, up)'), { op: 'topk', param: { type: 'number', value: 3 } });
  t.like(parsePromQL('bottomk by (job) (1, up)'), { op: 'bottomk', grouping: ['job'] });
});

test('vector matching: on/ignoring, group_left/group_right with extra labels', (t) => {
  t.like(parsePromQL('a / on(job) b'), { type: 'binary', op: '/', matching: { on: true, labels: ['job'] } });
  t.like(parsePromQL('a - ignoring(instance) b'), { matching: { on: false, labels: ['instance'] } });
  t.like(parsePromQL('a and b'), { op: 'and' });
  t.like(parsePromQL('a * on(job) group_left(x) b'), { matching: { on: true, labels: ['job'], card: 'many-to-one', include: ['x'] } });
  t.like(parsePromQL('a * on(job) group_right b'), { matching: { on: true, labels: ['job'], card: 'one-to-many', include: [] } });
  rejects(t, 'a and on(job) group_left b', 'no grouping allowed for "and" operation');
  rejects(t, 'a * on(job) group_left(job) b', 'must not occur in ON and GROUP clause at once');
  rejects(t, '1 and 2', 'set operator "and" not allowed in binary scalar expression');
});

test('offset and @ bind to the selector before them, as in Prometheus', (t) => {
  t.like(parsePromQL('a / b offset 1h'), { type: 'binary', lhs: { offsetMs: 0 }, rhs: { offsetMs: 3_600_000 } });
  t.like(parsePromQL('a - -b offset 5m'), { rhs: { type: 'unary', expr: { offsetMs: 300_000 } } });
  t.like(parsePromQL('a + b @ 100'), { lhs: { at: undefined }, rhs: { at: 100_000 } });
  t.like(parsePromQL('a @ start() offset 1m'), { type: 'vectorSelector', at: 'start', offsetMs: 60_000 });
  t.like(parsePromQL('rate(a[5m] @ end())'), { args: [{ type: 'matrixSelector', selector: { at: 'end' } }] });
  t.like(parsePromQL('max_over_time(rate(a[5m])[30m:1m] offset 2m)'), {
    args: [{ type: 'subquery', rangeMs: 1_800_000, stepMs: 60_000, offsetMs: 120_000 }],
  });
  t.like(parsePromQL('avg_over_time(a[10m:])'), { args: [{ type: 'subquery', stepMs: 0 }] });
  rejects(t, '(a / b) offset 1h', 'offset modifier must be preceded by an instant vector selector');
  rejects(t, 'sum(a) @ 100', '@ modifier must be preceded by an instant vector selector');
  rejects(t, 'a offset 1m offset 2m', 'offset may not be set multiple times');
  rejects(t, '(1 + 2)[5m:1m]', 'subquery is only allowed on instant vector');
});

test('every aggregation parses with its parameter type checked', (t) => {
  t.like(parsePromQL('quantile(0.5, up)'), { op: 'quantile', param: { type: 'number', value: 0.5 } });
  t.like(parsePromQL('count_values("v", up)'), { op: 'count_values', param: { type: 'string', value: 'v' } });
  for (const op of ['stddev', 'stdvar', 'group']) t.like(parsePromQL(`${op}(up)`), { op });
  rejects(t, 'count_values(1, up)', 'expected type string in aggregation parameter, got scalar');
  rejects(t, 'quantile("a", up)', 'expected type scalar in aggregation parameter, got string');
});

test('constructs outside the subset are rejected naming the construct', (t) => {
  rejects(t, 'up[5m+1m]', 'unsupported: duration expression');
  rejects(t, 'info(up)', 'unsupported: function info');
  rejects(t, 'sort_by_label(up, "job")', 'unsupported: function sort_by_label');
});

test('syntax errors are bad_data with line:column', (t) => {
  rejects(t, 'up{job=', /^1:8: parse error: unexpected end of input$/);
  rejects(t, 'sum(up', /^1:7: parse error: unexpected end of input$/);
  rejects(t, '1 +', /^1:4: parse error/);
  rejects(t, 'up )', /^1:4: parse error: unexpected "\)"$/);
  rejects(t, '', 'no expression found in input');
});

test('series selectors for match[]', (t) => {
  t.deepEqual(parseSeriesSelector('{__name__!=""}'), [{ name: '__name__', op: '!=', value: '' }]);
  t.deepEqual(parseSeriesSelector('up{job="a"}'), [name('up'), { name: 'job', op: '=', value: 'a' }]);
  t.throws(() => parseSeriesSelector('rate(up[5m])'), { message: /not a series selector/ });
});
