/**
 * The ingestion HTTP API on a real express server with the real embedded bus and SQLite
 * store (in a temp dir): status codes, error messages, and that nothing of a rejected
 * request is stored.
 */
import test from 'ava';
import fs from 'node:fs';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { silentLogger } from '../common/log.js';
import { RuntimeMetrics } from '../common/metrics.js';
import { baseApp, boundPort, finishApp, listen } from '../common/server.js';
import { defaultLimits } from '../model/limits.js';
import { SqliteStore } from '../storage/sqlite/store.js';
import { emptyPipeline } from '../processor/pipeline.js';
import { createEmbeddedBus } from '../platform/embedded.js';
import { ingestionRouter } from './app.js';
import { ApiKeys } from './auth.js';

const KEY = 'test-key-1';

interface Harness {
  url: string;
  store: SqliteStore;
  metrics: RuntimeMetrics;
  server: http.Server;
}

async function start(
  rateLimit = { requestsPerSecond: 1000, burst: 1000 },
  maxBodyBytes = 64 * 1024,
  clock?: () => number,
): Promise<Harness> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sextant-ingest-'));
  const store = new SqliteStore({ dataDir: dir, sync: 'normal' });
  const metrics = new RuntimeMetrics();
  const log = silentLogger();
  const bus = createEmbeddedBus({ store, metrics, log, pipeline: emptyPipeline() });
  const app = baseApp(metrics, { notReady: () => [] });
  app.use(
    ingestionRouter({ bus, keys: new ApiKeys([KEY, 'other-key']), limits: defaultLimits, rateLimit, maxBodyBytes, metrics, log, clock }),
  );
  finishApp(app, log);
  const server = await listen(app, 0, '127.0.0.1');
  return { url: `http://127.0.0.1:${boundPort(server)}`, store, metrics, server };
}

function stop(h: Harness): void {
  h.server.closeAllConnections();
  h.server.close();
  h.store.close();
}

function post(h: Harness, route: string, body: string | Buffer, headers: Record<string, string> = {}) {
  return fetch(`${h.url}${route}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', ...headers },
    body,
  });
}

const entry = (message: string, extra: object = {}) => ({
  labels: { service: 'api' },
  message,
  timestamp: '2026-11-26T10:00:00Z',
  ...extra,
});

test('valid logs: 200 only after commit, and stored', async (t) => {
  const h = await start();
  const res = await post(h, '/api/v1/logs', JSON.stringify({ entries: [entry('a'), entry('b')] }));
  t.is(res.status, 200);
  t.deepEqual(await res.json(), { accepted: 2, stored: 2 });
  t.is(h.store.counts().entries, 2);
  stop(h);
});

test('NDJSON and gzip bodies are accepted', async (t) => {
  const h = await start();
  const ndjson = [entry('one'), entry('two'), entry('three')].map((e) => JSON.stringify(e)).join('\n') + '\n';
  const res = await post(h, '/api/v1/logs', zlib.gzipSync(ndjson), { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' });
  t.is(res.status, 200);
  const samples = await post(
    h,
    '/api/v1/metrics',
    JSON.stringify({ samples: [{ name: 'up', labels: { job: 'x' }, value: 1, timestamp: 1795687200000 }] }),
  );
  t.is(samples.status, 200);
  t.deepEqual(h.store.counts(), { streams: 1, entries: 3, series: 1, samples: 1 });
  stop(h);
});

test('authentication: missing, malformed and invalid keys are 401; X-API-Key works', async (t) => {
  const h = await start();
  const body = JSON.stringify({ entries: [entry('x')] });
  const none = await post(h, '/api/v1/logs', body, { authorization: '' });
  t.is(none.status, 401);
  t.is(none.headers.get('www-authenticate'), 'Bearer realm="sextant"');
  t.regex(((await none.json()) as { error: string }).error, /missing API key/);
  const bad = await post(h, '/api/v1/logs', body, { authorization: 'Bearer nope' });
  t.deepEqual(await bad.json(), { error: 'invalid API key', code: 401, reason: 'unauthorized' });
  const basic = await post(h, '/api/v1/logs', body, { authorization: 'Basic abc' });
  t.regex(((await basic.json()) as { error: string }).error, /malformed Authorization header/);
  const x = await fetch(`${h.url}/api/v1/logs`, {
    method: 'POST',
    headers: { 'x-api-key': 'other-key', 'content-type': 'application/json' },
    body,
  });
  t.is(x.status, 200);
  t.is(h.store.counts().entries, 1);
  stop(h);
});

test('bad input: the right 4xx, a message naming the problem, nothing stored', async (t) => {
  const h = await start();
  const cases: Array<[string, string | Buffer, Record<string, string>, number, RegExp]> = [
    ['malformed JSON', '{"entries": [', {}, 400, /^malformed JSON: /],
    [
      'wrong type',
      JSON.stringify({ entries: [entry('ok'), { labels: { service: 1 }, message: 'x' }] }),
      {},
      400,
      /^entries\[1\]\.labels\.service: expected string, got 1$/,
    ],
    ['missing field', JSON.stringify({ entries: [{ labels: { a: 'b' } }] }), {}, 400, /^entries\[0\]\.message: is required/],
    ['not an object', '[1,2]', {}, 400, /must be a JSON object/],
    ['entries not an array', '{"entries": 5}', {}, 400, /^entries: must be an array$/],
    ['unknown top-level field', '{"entries": [], "extra": 1}', {}, 400, /^extra: unknown field/],
    [
      'invalid UTF-8',
      Buffer.concat([Buffer.from('{"entries":[{"labels":{"a":"b"},"message":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}]}')]),
      {},
      400,
      /not valid UTF-8/,
    ],
    ['wrong content type', 'x', { 'content-type': 'text/plain' }, 415, /unsupported Content-Type "text\/plain"/],
    ['unknown encoding', 'x', { 'content-encoding': 'br' }, 415, /unsupported Content-Encoding "br"/],
    ['corrupt gzip', 'not gzip', { 'content-encoding': 'gzip' }, 400, /not valid gzip data/],
    [
      'NaN timestamp',
      '{"entries":[{"labels":{"a":"b"},"message":"m","timestamp":"NaN"}]}',
      {},
      400,
      /^entries\[0\]\.timestamp: invalid timestamp "NaN"/,
    ],
    ['negative timestamp', '{"entries":[{"labels":{"a":"b"},"message":"m","timestamp":-1}]}', {}, 400, /must not be negative/],
    ['far future', JSON.stringify({ entries: [entry('m', { timestamp: '2999-01-01T00:00:00Z' })] }), {}, 400, /too far in the future/],
    [
      'deep fields',
      JSON.stringify({ entries: [entry('m', { fields: JSON.parse('{"a":'.repeat(20) + '1' + '}'.repeat(20)) })] }),
      {},
      400,
      /nested deeper than the limit of 8 levels/,
    ],
    [
      'absurd nesting',
      '{"entries":[' + '['.repeat(20000) + ']'.repeat(20000) + ']}',
      {},
      400,
      /^entries\[0\]: expected LogEntry, got \[deeply nested array\]$/,
    ],
    [
      'string over limit',
      JSON.stringify({ entries: [entry('m', { labels: { a: 'x'.repeat(5000) } })] }),
      {},
      400,
      /label value is 5000 characters, over the limit of 2048/,
    ],
  ];
  for (const [name, body, headers, status, message] of cases) {
    const res = await post(h, '/api/v1/logs', body, headers);
    t.is(res.status, status, name);
    const reply = (await res.json()) as { error: string; code: number };
    t.regex(reply.error, message, name);
    t.is(reply.code, status, name);
  }
  t.is(h.store.counts().entries, 0);
  const health = await fetch(`${h.url}/healthz`);
  t.is(health.status, 200, 'the process stays up');
  stop(h);
});

test('10,000 labels are one clear 400', async (t) => {
  const h = await start(undefined, 1024 * 1024);
  const labels: Record<string, string> = {};
  for (let i = 0; i < 10_000; i++) labels[`l${i}`] = 'v';
  const res = await post(h, '/api/v1/logs', JSON.stringify({ entries: [{ labels, message: 'm' }] }));
  t.is(res.status, 400);
  t.is(((await res.json()) as { error: string }).error, 'entries[0].labels: 10000 labels, over the limit of 30');
  stop(h);
});

test('body limits: 413 for a large body and for a gzip bomb', async (t) => {
  const h = await start(undefined, 64 * 1024);
  const big = JSON.stringify({ entries: [entry('x'.repeat(100 * 1024))] });
  const res = await post(h, '/api/v1/logs', big);
  t.is(res.status, 413);
  t.regex(((await res.json()) as { error: string }).error, /request body is larger than the limit of 65536 bytes/);
  // 50 MB of zeros compresses to ~50 KB: under the wire limit, far over the decompressed one.
  const bomb = zlib.gzipSync(Buffer.alloc(50 * 1024 * 1024, 0x20), { level: 9 });
  t.true(bomb.length < 64 * 1024);
  const bombed = await post(h, '/api/v1/logs', bomb, { 'content-encoding': 'gzip' });
  t.is(bombed.status, 413);
  t.regex(((await bombed.json()) as { error: string }).error, /decompressed request body is larger than the limit/);
  t.is(h.store.counts().entries, 0);
  stop(h);
});

test('rate limit per key: 429 with Retry-After and RateLimit headers; other keys unaffected', async (t) => {
  // The limiter's clock stands still, so the 2-second window cannot run out between the
  // requests however slow the machine is.
  const frozen = Date.now();
  const h = await start({ requestsPerSecond: 1, burst: 2 }, undefined, () => frozen);
  const body = JSON.stringify({ entries: [entry('x')] });
  t.is((await post(h, '/api/v1/logs', body)).status, 200);
  t.is((await post(h, '/api/v1/logs', body)).status, 200);
  const limited = await post(h, '/api/v1/logs', body);
  t.is(limited.status, 429);
  t.truthy(limited.headers.get('retry-after'));
  t.true(Number(limited.headers.get('retry-after')) >= 1);
  t.regex(limited.headers.get('ratelimit') ?? '', /r=0/);
  t.regex(((await limited.json()) as { error: string }).error, /rate limit of 1 requests\/s \(burst 2\) exceeded/);
  const other = await fetch(`${h.url}/api/v1/logs`, {
    method: 'POST',
    headers: { 'x-api-key': 'other-key', 'content-type': 'application/json' },
    body,
  });
  t.is(other.status, 200);
  const metrics = await (await fetch(`${h.url}/metrics`)).text();
  t.regex(metrics, /sextant_ingest_requests_rejected_total\{signal="logs",reason="rate_limited"\} 1/);
  stop(h);
});

test('metrics count accepted and rejected events by reason', async (t) => {
  const h = await start();
  await post(h, '/api/v1/logs', JSON.stringify({ entries: [entry('a'), entry('b'), entry('c')] }));
  await post(h, '/api/v1/logs', JSON.stringify({ entries: [entry('a'), { labels: {}, message: 'x' }] }));
  const text = await (await fetch(`${h.url}/metrics`)).text();
  t.regex(text, /sextant_ingest_events_accepted_total\{signal="logs"\} 3/);
  t.regex(text, /sextant_ingest_events_rejected_total\{signal="logs",reason="invalid"\} 2/);
  t.regex(text, /sextant_http_requests_total\{route="\/api\/v1\/logs",method="POST",code="400"\} 1/);
  t.regex(text, /sextant_storage_records_written_total\{signal="logs"\} 3/);
  stop(h);
});

test('rate limit: a new window opens when the clock passes the old one', async (t) => {
  let now = Date.now();
  const h = await start({ requestsPerSecond: 1, burst: 1 }, undefined, () => now);
  const body = JSON.stringify({ entries: [entry('x')] });
  t.is((await post(h, '/api/v1/logs', body)).status, 200);
  const limited = await post(h, '/api/v1/logs', body);
  t.is(limited.status, 429);
  t.is(limited.headers.get('retry-after'), '1');
  now += 999;
  t.is((await post(h, '/api/v1/logs', body)).status, 429, 'still inside the 1 s window');
  now += 1;
  t.is((await post(h, '/api/v1/logs', body)).status, 200, 'the window has passed');
  stop(h);
});

test('Basic auth with the key as the password is accepted; a wrong password is 401', async (t) => {
  const h = await start();
  const body = JSON.stringify({ entries: [entry('x')] });
  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  t.is((await post(h, '/api/v1/logs', body, { authorization: basic('prometheus', KEY) })).status, 200);
  const other = JSON.stringify({ entries: [entry('y')] });
  t.is((await post(h, '/api/v1/logs', other, { authorization: basic('', KEY) })).status, 200);
  t.is((await post(h, '/api/v1/logs', body, { authorization: basic(KEY, 'wrong') })).status, 401);
  t.is((await post(h, '/api/v1/logs', body, { authorization: basic(KEY, '') })).status, 401);
  t.is(h.store.counts().entries, 2);
  stop(h);
});
