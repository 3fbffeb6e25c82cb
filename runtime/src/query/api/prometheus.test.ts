import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import type http from 'node:http';
import test from 'ava';
import express from 'express';
import { silentLogger } from '../../common/log.js';
import { FakeReader } from '../promql/fake-reader.js';
import { createPrometheusRouter } from './prometheus.js';

const S = 1000;

function reader(): FakeReader {
  const r = new FakeReader();
  const every15 = (perSecond: number): [number, number][] => Array.from({ length: 9 }, (_, i) => [i * 15 * S, i * 15 * perSecond]);
  r.addSeries({ __name__: 'requests_total', job: 'api', instance: 'a' }, every15(1));
  r.addSeries({ __name__: 'requests_total', job: 'api', instance: 'b' }, every15(2));
  r.addSeries({ __name__: 'requests_total', job: 'db', instance: 'c' }, every15(0.5));
  r.addSeries({ __name__: 'up', job: 'api' }, [[0, 1]]);
  r.addMetadata('requests_total', 'counter', 'Requests served.', '', 2);
  r.addMetadata('requests_total', 'counter', 'Requests served (old text).', '', 1);
  r.addMetadata('rpc_seconds', 'histogram', 'RPC latency.', 'seconds', 1);
  r.addMetadata('up', 'gauge', 'Whether the target answered.', '', 1);
  return r;
}

interface Server {
  url: string;
  close(): Promise<void>;
}

async function serve(): Promise<Server> {
  const app = express();
  app.use('/api/v1', createPrometheusRouter({ reader: reader(), log: silentLogger(), now: () => 60 * S }));
  // Stands in for the native routes the caller mounts on the same prefix.
  app.use((_req, res) => {
    res.status(418).send('not prometheus');
  });
  const server: http.Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/v1`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

let server: Server;
test.before(async () => {
  server = await serve();
});
test.after.always(async () => {
  await server.close();
});

async function get(path: string): Promise<{ status: number; body: string; json: unknown; type: string | null }> {
  const res = await fetch(`${server.url}${path}`);
  const body = await res.text();
  return { status: res.status, body, json: safeJson(body), type: res.headers.get('content-type') };
}

async function post(path: string, form: Record<string, string | string[]>): Promise<{ status: number; body: string; json: unknown }> {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(form)) for (const value of Array.isArray(v) ? v : [v]) params.append(k, value);
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: params.toString(),
  });
  const body = await res.text();
  return { status: res.status, body, json: safeJson(body) };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const q = encodeURIComponent;

test('Grafana save & test: POST query=1+1&time=4 answers the scalar [4,"2"] byte for byte', async (t) => {
  const res = await post('/query', { query: '1+1', time: '4' });
  t.is(res.status, 200);
  t.is(res.body, '{"status":"success","data":{"resultType":"scalar","result":[4,"2"]}}');
  const viaGet = await get(`/query?query=${q('1+1')}&time=4`);
  t.is(viaGet.body, res.body);
  t.regex(viaGet.type ?? '', /^application\/json/);
});

test('buildinfo: package version, empty features', async (t) => {
  const pkg = JSON.parse(fs.readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version: string };
  const res = await get('/status/buildinfo');
  t.is(res.status, 200);
  t.deepEqual(res.json, {
    status: 'success',
    data: { version: pkg.version, revision: '', branch: '', buildUser: '', buildDate: '', goVersion: '', features: {} },
  });
});

test('metadata: every family, newest first; metric, limit and limit_per_metric as Prometheus reads them', async (t) => {
  const all = {
    requests_total: [
      { type: 'counter', help: 'Requests served.', unit: '' },
      { type: 'counter', help: 'Requests served (old text).', unit: '' },
    ],
    rpc_seconds: [{ type: 'histogram', help: 'RPC latency.', unit: 'seconds' }],
    up: [{ type: 'gauge', help: 'Whether the target answered.', unit: '' }],
  };
  t.deepEqual((await get('/metadata')).json, { status: 'success', data: all });
  t.deepEqual((await get('/metadata?metric=rpc_seconds')).json, { status: 'success', data: { rpc_seconds: all.rpc_seconds } });
  t.deepEqual((await get('/metadata?metric=nope')).json, { status: 'success', data: {} });
  t.deepEqual(Object.keys(((await get('/metadata?limit=2')).json as { data: object }).data), ['requests_total', 'rpc_seconds']);
  t.deepEqual((await get('/metadata?limit=0')).json, { status: 'success', data: {} }, 'limit=0: no family');
  t.deepEqual((await get('/metadata?limit=-1')).json, { status: 'success', data: all }, 'a negative limit: no limit');
  t.deepEqual((await get('/metadata?limit_per_metric=1&metric=requests_total')).json, {
    status: 'success',
    data: { requests_total: [all.requests_total[0]] },
  });
  t.deepEqual((await get('/metadata?limit_per_metric=0')).json, { status: 'success', data: all }, 'limit_per_metric=0: no limit');
  const bad = await get('/metadata?limit=ten');
  t.is(bad.status, 400);
  t.deepEqual(bad.json, { status: 'error', errorType: 'bad_data', error: 'invalid parameter "limit": cannot parse "ten" to an integer' });
});

test('rules and exemplars answer empty', async (t) => {
  t.deepEqual((await get('/rules')).json, { status: 'success', data: { groups: [] } });
  t.deepEqual((await post('/query_exemplars', { query: 'up', start: '0', end: '60' })).json, { status: 'success', data: [] });
});

test('label browsing: names, values (incl. __name__), match[] filters, series', async (t) => {
  t.deepEqual((await get('/labels?start=0&end=200')).json, { status: 'success', data: ['__name__', 'instance', 'job'] });
  t.deepEqual((await get(`/labels?match[]=${q('up')}`)).json, { status: 'success', data: ['__name__', 'job'] });
  t.deepEqual((await get('/label/__name__/values?start=0&end=200')).json, { status: 'success', data: ['requests_total', 'up'] });
  t.deepEqual((await get('/label/job/values')).json, { status: 'success', data: ['api', 'db'] });
  t.deepEqual((await get(`/label/instance/values?match[]=${q('requests_total{job="api"}')}&match[]=${q('{job="db"}')}`)).json, {
    status: 'success',
    data: ['a', 'b', 'c'],
  });
  // Time bounds reach the reader: nothing stored after 200 s.
  t.deepEqual((await get('/label/job/values?start=300&end=400')).json, { status: 'success', data: [] });
  t.deepEqual((await post('/series', { 'match[]': 'requests_total{job="db"}', start: '0', end: '200' })).json, {
    status: 'success',
    data: [{ __name__: 'requests_total', instance: 'c', job: 'db' }],
  });
  const all = (await get(`/series?match[]=${q('{__name__!=""}')}&limit=2`)).json as { data: unknown[]; warnings: string[] };
  t.is(all.data.length, 2);
  t.deepEqual(all.warnings, ['results truncated due to limit']);
  t.deepEqual((await get('/series')).json, { status: 'error', errorType: 'bad_data', error: 'no match[] parameter provided' });
  t.is((await get('/series')).status, 400);
  const bad = await get(`/labels?match[]=${q('rate(up[5m])')}`);
  t.is(bad.status, 400);
  t.regex((bad.json as { error: string }).error, /^invalid parameter "match\[\]": /);
});

test('instant vector and matrix result shapes', async (t) => {
  t.deepEqual((await get(`/query?query=${q('sum by (job) (requests_total)')}&time=60`)).json, {
    status: 'success',
    data: {
      resultType: 'vector',
      result: [
        { metric: { job: 'api' }, value: [60, '180'] },
        { metric: { job: 'db' }, value: [60, '30'] },
      ],
    },
  });
  // Without time: "now" (60 s here).
  t.deepEqual((await get(`/query?query=${q('up')}`)).json, {
    status: 'success',
    data: { resultType: 'vector', result: [{ metric: { __name__: 'up', job: 'api' }, value: [60, '1'] }] },
  });
  t.deepEqual((await get(`/query?query=${q('requests_total{instance="c"}[30s]')}&time=60.5`)).json, {
    status: 'success',
    data: {
      resultType: 'matrix',
      result: [
        {
          metric: { __name__: 'requests_total', instance: 'c', job: 'db' },
          values: [
            [45, '22.5'],
            [60, '30'],
          ],
        },
      ],
    },
  });
  t.deepEqual((await get(`/query?query=${q('vector(1/0) or vector(-1/0)')}&time=1`)).json, {
    status: 'success',
    data: { resultType: 'vector', result: [{ metric: {}, value: [1, '+Inf'] }] },
  });
  t.deepEqual((await get(`/query?query=${q('0/0')}&time=1.25`)).json, {
    status: 'success',
    data: { resultType: 'scalar', result: [1.25, 'NaN'] },
  });
});

test('query_range: steps from start to end, float seconds, durations and RFC 3339', async (t) => {
  // increase over 1m of counters at 1/s and 2/s sampled every 15 s: 60 and 120 at every step.
  const expected = {
    status: 'success',
    data: {
      resultType: 'matrix',
      result: [
        {
          metric: { instance: 'a', job: 'api' },
          values: [
            [60, '60'],
            [90, '60'],
            [120, '60'],
          ],
        },
        {
          metric: { instance: 'b', job: 'api' },
          values: [
            [60, '120'],
            [90, '120'],
            [120, '120'],
          ],
        },
      ],
    },
  };
  const query = 'increase(requests_total{job="api"}[1m])';
  t.deepEqual((await post('/query_range', { query, start: '60', end: '120', step: '30' })).json, expected);
  t.deepEqual((await get(`/query_range?query=${q(query)}&start=60&end=120&step=30s`)).json, expected);
  t.deepEqual(
    (await get(`/query_range?query=${q(query)}&start=1970-01-01T00:01:00Z&end=${q('1970-01-01T00:02:00.000+00:00')}&step=0.5m`)).status,
    400, // "0.5m" is not a Prometheus duration
  );
  t.deepEqual(
    (await get(`/query_range?query=${q(query)}&start=1970-01-01T00:01:00Z&end=${q('1970-01-01T00:02:00.000+00:00')}&step=30000ms`)).json,
    expected,
  );
  // A step that does not divide the range: the last point is the last step <= end.
  const odd = (await get(`/query_range?query=${q('time()')}&start=0&end=10&step=4`)).json;
  t.deepEqual(odd, {
    status: 'success',
    data: {
      resultType: 'matrix',
      result: [
        {
          metric: {},
          values: [
            [0, '0'],
            [4, '4'],
            [8, '8'],
          ],
        },
      ],
    },
  });
});

test('errors: Prometheus format, status and errorType, naming the parameter or construct', async (t) => {
  const unsupported = await post('/query', { query: 'info(up)', time: '1' });
  t.is(unsupported.status, 400);
  t.deepEqual(unsupported.json, {
    status: 'error',
    errorType: 'bad_data',
    error: `unsupported: function info (not in Sextant's query subset)`,
  });
  const syntax = await get(`/query?query=${q('up{job=')}`);
  t.is(syntax.status, 400);
  t.deepEqual(syntax.json, {
    status: 'error',
    errorType: 'bad_data',
    error: 'invalid parameter "query": 1:8: parse error: unexpected end of input',
  });
  t.deepEqual((await get(`/query?query=up&time=yesterday`)).json, {
    status: 'error',
    errorType: 'bad_data',
    error: 'invalid parameter "time": cannot parse "yesterday" to a valid timestamp',
  });
  t.deepEqual((await get(`/query_range?query=up&end=10&step=1`)).json, {
    status: 'error',
    errorType: 'bad_data',
    error: 'invalid parameter "start": cannot parse "" to a valid timestamp',
  });
  t.deepEqual((await get(`/query_range?query=up&start=10&end=5&step=1`)).json, {
    status: 'error',
    errorType: 'bad_data',
    error: 'invalid parameter "end": end timestamp must not be before start time',
  });
  t.deepEqual((await get(`/query_range?query=up&start=0&end=5&step=0`)).json, {
    status: 'error',
    errorType: 'bad_data',
    error: 'invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer',
  });
  t.deepEqual((await get(`/query_range?query=up&start=0&end=5&step=soon`)).json, {
    status: 'error',
    errorType: 'bad_data',
    error: 'invalid parameter "step": cannot parse "soon" to a valid duration',
  });
  const tooMany = await get(`/query_range?query=up&start=0&end=11001&step=1`);
  t.is(tooMany.status, 400);
  t.deepEqual(tooMany.json, {
    status: 'error',
    errorType: 'bad_data',
    error: 'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)',
  });
  const execution = await get(`/query?query=${q('requests_total - on(job) up')}&time=60`);
  t.is(execution.status, 422);
  t.is((execution.json as { errorType: string }).errorType, 'execution');
});

test('only the Prometheus paths are registered on the shared /api/v1 prefix', async (t) => {
  const res = await get('/logs/search?q=x');
  t.is(res.status, 418);
  t.is(res.body, 'not prometheus');
});
