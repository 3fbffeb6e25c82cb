import test from 'ava';
import { windowProblems } from './query.js';
import { hotWindows, resolveRuntimeConfig } from './runtime-config.js';

const H = 3_600_000;

function config(extra: Record<string, unknown>) {
  return resolveRuntimeConfig(
    {
      pipeline: { namespace: 'team-a', name: 'api' },
      kafka: { brokers: ['kafka:9092'] },
      sinks: { opensearch: { endpoints: ['http://os:9200'], indexPrefix: 'team-a' } },
      ...extra,
    },
    'test.json',
  );
}

test('hot window: query.hotWindow, else retention.<signal>.hot, else 7d', (t) => {
  t.deepEqual(hotWindows(config({})), { logs: 7 * 24 * H, metrics: 7 * 24 * H });
  t.deepEqual(hotWindows(config({ retention: { logs: { hot: '2d' } } })), { logs: 48 * H, metrics: 7 * 24 * H });
  t.deepEqual(hotWindows(config({ retention: { logs: { hot: '2d' } }, query: { hotWindow: '90m' } })), { logs: 1.5 * H, metrics: 1.5 * H });
});

test('query.hotWindow is a duration of at least 1s; unknown keys are named', (t) => {
  const error = t.throws(() => config({ query: { hotWindow: 'soon', window: '1h' } }));
  t.regex(error?.message ?? '', /query\.hotWindow: invalid duration "soon"/);
  t.regex(error?.message ?? '', /query\.window: unknown field/);
  t.regex(t.throws(() => config({ query: { hotWindow: '500ms' } }))?.message ?? '', /query\.hotWindow: must be at least 1s/);
});

test('a hot window longer than the hot retention, or not longer than the S3 flush age, is reported', (t) => {
  const c = config({
    retention: { logs: { hot: '1h' } },
    query: { hotWindow: '2h' },
    sinks: {
      opensearch: { endpoints: ['http://os:9200'], indexPrefix: 'team-a' },
      s3: { bucket: 'archive', flush: { maxAge: '3h' } },
    },
  });
  const problems = windowProblems(c, hotWindows(c));
  t.is(problems.filter((p) => p.includes('retention.logs.hot')).length, 1);
  t.is(problems.filter((p) => p.includes('flush.maxAge')).length, 2);
  const fine = config({ retention: { logs: { hot: '7d' } } });
  t.deepEqual(windowProblems(fine, hotWindows(fine)), []);
});
