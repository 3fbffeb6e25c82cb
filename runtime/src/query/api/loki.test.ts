import type { AddressInfo } from 'node:net';
import type http from 'node:http';
import test from 'ava';
import express from 'express';
import { silentLogger } from '../../common/log.js';
import { FakeReader } from '../promql/fake-reader.js';
import { createLokiRouter } from './loki.js';

const NS = 1_000_000_000n;
/** The clock of the router under test: 100 s after the epoch. */
const NOW = 100n * NS;

/**
 * info:  10 s "GET /a 200", 20 s "GET /b 200", 70 s "POST /c 201"
 * error: 30 s "GET /d 500", 80 s "GET /e 500"
 * db:    15 s "query ok"
 */
function logs(): FakeReader {
  return new FakeReader()
    .addLog({ app: 'api', level: 'info' }, 10n * NS, 'GET /a 200')
    .addLog({ app: 'api', level: 'info' }, 20n * NS, 'GET /b 200')
    .addLog({ app: 'api', level: 'info' }, 70n * NS, 'POST /c 201')
    .addLog({ app: 'api', level: 'error' }, 30n * NS, 'GET /d 500')
    .addLog({ app: 'api', level: 'error' }, 80n * NS, 'GET /e 500')
    .addLog({ app: 'db' }, 15n * NS, 'query ok');
}

let server: http.Server;
let base: string;

test.before(async () => {
  const app = express();
  app.use('/loki/api/v1', createLokiRouter({ reader: logs(), log: silentLogger(), now: () => NOW }));
  server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/loki/api/v1`;
});

test.after.always(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function get(path: string): Promise<{ status: number; body: string; json: unknown; type: string | null }> {
  const res = await fetch(`${base}${path}`);
  const body = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  return { status: res.status, body, json, type: res.headers.get('content-type') };
}

const q = encodeURIComponent;

test('Grafana health check: instant vector(1)+vector(1) answers one sample of value 2', async (t) => {
  const res = await get(`/query?query=${q('vector(1)+vector(1)')}&time=1700000000123456789`);
  t.is(res.status, 200);
  t.is(res.body, '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000.123,"2"]}],"stats":{}}}');
});

test('Grafana health check: /labels with start and end lists the stored labels', async (t) => {
  const res = await get(`/labels?start=0&end=${NOW}`);
  t.is(res.status, 200);
  t.is(res.body, '{"status":"success","data":["app","level"]}');
});

test('label browsing: values, query selector, time bounds in ns/seconds/RFC 3339', async (t) => {
  t.deepEqual((await get(`/label/app/values?start=0&end=${NOW}`)).json, { status: 'success', data: ['api', 'db'] });
  t.deepEqual((await get(`/label/level/values?query=${q('{app="api"}')}`)).json, { status: 'success', data: ['error', 'info'] });
  t.deepEqual((await get(`/labels?query=${q('{app="db"}')}`)).json, { status: 'success', data: ['app'] });
  // Only the db entry (15 s) lies in [12 s, 16 s]: seconds (<= 10 digits), RFC 3339.
  t.deepEqual((await get(`/label/app/values?start=12&end=${q('1970-01-01T00:00:16Z')}`)).json, { status: 'success', data: ['db'] });
  t.deepEqual((await get(`/series?match[]=${q('{app="api"}')}&start=0&end=${NOW}`)).json, {
    status: 'success',
    data: [
      { app: 'api', level: 'info' },
      { app: 'api', level: 'error' },
    ],
  });
  t.deepEqual((await get(`/index/stats?query=${q('{app="api", level="error"}')}&start=0&end=${NOW}`)).json, {
    streams: 1,
    chunks: 0,
    bytes: 20,
    entries: 2,
  });
});

test('log query range: streams grouped by label set, backward by default, limit across streams', async (t) => {
  const res = await get(`/query_range?query=${q('{app="api"}')}&start=0&end=${NOW}&limit=3`);
  t.is(res.status, 200);
  t.deepEqual(res.json, {
    status: 'success',
    data: {
      resultType: 'streams',
      result: [
        {
          stream: { app: 'api', level: 'error' },
          values: [
            ['80000000000', 'GET /e 500'],
            ['30000000000', 'GET /d 500'],
          ],
        },
        { stream: { app: 'api', level: 'info' }, values: [['70000000000', 'POST /c 201']] },
      ],
      stats: {},
    },
  });
});

test('log query range: forward, line filters, end exclusive, defaults to the last hour', async (t) => {
  const res = await get(`/query_range?query=${q('{app="api"} |= "GET" !~ "/[ab] "')}&start=10000000000&end=80000000000&direction=forward`);
  t.deepEqual(res.json, {
    status: 'success',
    data: {
      resultType: 'streams',
      result: [{ stream: { app: 'api', level: 'error' }, values: [['30000000000', 'GET /d 500']] }],
      stats: {},
    },
  });
  // No start/end: [now - 1h, now) = everything stored here.
  const all = (await get(`/query_range?query=${q('{app=~"api|db"}')}&limit=100`)).json as { data: { result: { values: unknown[] }[] } };
  t.is(
    all.data.result.reduce((n, s) => n + s.values.length, 0),
    6,
  );
});

test('metric query range: Grafana logs volume with step in ms, matrix in float seconds', async (t) => {
  const query = 'sum by (level, detected_level) (count_over_time({app="api"} |= "GET" | drop __error__ [1m]))';
  const res = await get(`/query_range?query=${q(query)}&start=60000000000&end=120000000000&step=30000ms`);
  t.is(res.status, 200);
  // 60 s: (0, 60] info 10,20 → 2, error 30 → 1; 90 s: error 80 → 1 (info only has POST);
  // 120 s: error 80 → 1.
  t.deepEqual(res.json, {
    status: 'success',
    data: {
      resultType: 'matrix',
      result: [
        {
          metric: { level: 'error' },
          values: [
            [60, '1'],
            [90, '1'],
            [120, '1'],
          ],
        },
        { metric: { level: 'info' }, values: [[60, '2']] },
      ],
      stats: {},
    },
  });
  const rate = await get(`/query_range?query=${q('rate({app="db"}[1m])')}&start=30&end=60&step=30`);
  t.deepEqual(rate.json, {
    status: 'success',
    data: {
      resultType: 'matrix',
      result: [
        {
          metric: { app: 'db' },
          values: [
            [30, '0.016666666666666666'],
            [60, '0.016666666666666666'],
          ],
        },
      ],
      stats: {},
    },
  });
});

test('form-encoded POST is accepted like GET', async (t) => {
  const res = await fetch(`${base}/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ query: 'vector(1)+vector(1)', time: '1700000000' }).toString(),
  });
  t.deepEqual(await res.json(), {
    status: 'success',
    data: { resultType: 'vector', result: [{ metric: {}, value: [1700000000, '2'] }], stats: {} },
  });
});

test('instant metric query on /query', async (t) => {
  t.deepEqual((await get(`/query?query=${q('sum(count_over_time({app="api"}[1m]))')}&time=60000000000`)).json, {
    status: 'success',
    data: { resultType: 'vector', result: [{ metric: {}, value: [60, '3'] }], stats: {} },
  });
});

test('errors: plain-text 400 naming the parameter or the construct', async (t) => {
  const instantLogs = await get(`/query?query=${q('{app="api"}')}`);
  t.is(instantLogs.status, 400);
  t.regex(instantLogs.type ?? '', /^text\/plain/);
  t.is(
    instantLogs.body,
    'invalid parameter "query": log queries are not supported as an instant query type, please change your query to a range query type',
  );
  const groupLeft = await get(`/query_range?query=${q('rate({a="b"}[1m]) / on(pod) group_left(pod) rate({a="c"}[1m])')}`);
  t.is(groupLeft.status, 400);
  t.regex(groupLeft.body, /label "pod" must not occur in ON and GROUP clause at once/);
  const loop = await get(`/query_range?query=${q('{app="api"} | line_format "{{ range . }}x{{ end }}"')}`);
  t.is(loop.status, 400);
  t.is(
    loop.body,
    'invalid parameter "query": template at character 1: {{range}} is not supported (LogQL templates may not loop or include templates)',
  );
  const syntax = await get(`/query_range?query=${q('{app="api"')}`);
  t.is(syntax.body, 'invalid parameter "query": 1:11: parse error: unexpected end of input');
  t.is(
    (await get(`/query_range?query=${q('{app="api"}')}&limit=abc`)).body,
    'invalid parameter "limit": must be a positive integer, got "abc"',
  );
  t.is(
    (await get(`/query_range?query=${q('{app="api"}')}&limit=6000`)).body,
    'invalid parameter "limit": max entries limit per query exceeded, limit > max_entries_limit_per_query (6000 > 5000)',
  );
  t.is(
    (await get(`/query_range?query=${q('{app="api"}')}&direction=sideways`)).body,
    'invalid parameter "direction": must be "forward" or "backward", got "sideways"',
  );
  t.is(
    (await get(`/query_range?query=${q('{app="api"}')}&start=tomorrow`)).body,
    'invalid parameter "start": cannot parse "tomorrow" to a valid timestamp: expected Unix nanoseconds, seconds or RFC 3339',
  );
  t.is(
    (await get(`/query_range?query=${q('{app="api"}')}&start=50&end=40`)).body,
    'invalid parameter "end": end timestamp must not be before start time',
  );
  t.is(
    (await get(`/query_range?query=${q('vector(1)')}&start=0&end=20000&step=1`)).body,
    'exceeded maximum resolution of 11,000 points per timeseries. Try increasing the value of the step parameter',
  );
  t.is((await get(`/query_range`)).body, 'invalid parameter "query": a LogQL query is required');
});

test('detected_labels and detected_fields answer (details in logql/drilldown.test.ts)', async (t) => {
  const labels = await get('/detected_labels?query=%7Bapp%3D%22api%22%7D&start=0');
  t.is(labels.status, 200);
  t.deepEqual(labels.json, {
    detectedLabels: [
      { label: 'app', cardinality: 1 },
      { label: 'level', cardinality: 2 },
    ],
  });
  const fields = await get('/detected_fields?query=%7Bapp%3D%22api%22%7D&start=0');
  t.is(fields.status, 200);
  t.deepEqual(fields.json, { fields: [], limit: 1000 });
});
