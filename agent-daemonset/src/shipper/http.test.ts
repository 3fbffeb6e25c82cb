import test from 'ava';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { backoffMs, parseRetryAfter, post } from './http.js';

test('full jitter: uniform under min(max, base·2^attempt)', (t) => {
  t.is(
    backoffMs(0, 500, 30_000, () => 0.999999),
    499,
  );
  t.is(
    backoffMs(3, 500, 30_000, () => 0.5),
    2000,
  );
  t.is(
    backoffMs(20, 500, 30_000, () => 0.999999),
    29_999,
  );
  t.is(
    backoffMs(5, 500, 30_000, () => 0),
    0,
  );
});

test('Retry-After in seconds or as an HTTP date', (t) => {
  t.is(parseRetryAfter('3'), 3000);
  t.is(parseRetryAfter(new Date(10_000).toUTCString(), 4_000), 6_000);
  t.is(parseRetryAfter(null), undefined);
  t.is(parseRetryAfter('soon'), undefined);
});

test('answers are classified: 2xx ok, 413 split, 408/429/5xx retry, other 4xx final, refused retry', async (t) => {
  let status = 200;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (status === 429) res.setHeader('Retry-After', '2');
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `entries[0].labels: bad ${status}` }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/logs`;
  const send = () => post({ url, apiKey: 'k', body: Buffer.from('{}'), contentType: 'application/json', gzip: false, timeoutMs: 5000 });
  t.deepEqual(await send(), { kind: 'ok' });
  status = 413;
  t.is((await send()).kind, 'too_large');
  status = 429;
  t.deepEqual(await send(), { kind: 'retry', reason: 'http_429', detail: 'entries[0].labels: bad 429', retryAfterMs: 2000 });
  for (const s of [408, 500, 503]) {
    status = s;
    t.is((await send()).kind, 'retry');
  }
  for (const s of [400, 401, 403, 404]) {
    status = s;
    t.deepEqual((await send()).kind, 'fatal');
  }
  server.close();
  const refused = await post({
    url,
    apiKey: undefined,
    body: Buffer.from('{}'),
    contentType: 'application/json',
    gzip: false,
    timeoutMs: 5000,
  });
  t.is(refused.kind, 'retry');
  t.is((refused as { reason: string }).reason, 'network');
});
