import http from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import WebSocket from 'ws';
import { silentLogger } from '../../common/log.js';
import { ApiKeys } from '../../ingestion/auth.js';
import { inProcessEngine } from '../limits/engine.js';
import { FakeReader } from '../promql/fake-reader.js';
import { attachLokiTail } from './loki-tail.js';

const KEY = 'tail-test-key';
const S = 1_000_000_000n;
const T0 = 1_800_000_000n * S;

interface Harness {
  reader: FakeReader;
  url: string;
  clock: { now: bigint };
  close(): Promise<void>;
}

async function serve(): Promise<Harness> {
  const reader = new FakeReader();
  const clock = { now: T0 };
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  const tail = attachLokiTail(server, {
    keys: new ApiKeys([KEY]),
    engine: inProcessEngine(reader),
    log: silentLogger(),
    pollMs: 20,
    now: () => clock.now,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    reader,
    clock,
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      tail.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface Message {
  streams: Array<{ stream: Record<string, string>; values: Array<[string, string]> }>;
}

/** Opens a tail and collects its messages' lines, in order. */
function open(h: Harness, params: Record<string, string>, headers: Record<string, string> = { authorization: `Bearer ${KEY}` }) {
  const ws = new WebSocket(`${h.url}/loki/api/v1/tail?${new URLSearchParams(params)}`, { headers });
  const lines: string[] = [];
  const messages: Message[] = [];
  ws.on('message', (data) => {
    const message = JSON.parse(String(data)) as Message;
    messages.push(message);
    for (const s of message.streams) for (const [, line] of s.values) lines.push(line);
  });
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, lines, messages, opened };
}

/** The status and body an upgrade was refused with. */
function refused(h: Harness, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${h.url}${path}`, { headers });
    ws.once('open', () => reject(new Error('the upgrade was accepted')));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
  });
}

async function until(what: string, check: () => boolean, deadlineMs = 10_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test('first the newest `limit` entries since start, oldest first; then each new entry once, in order', async (t) => {
  const h = await serve();
  t.teardown(() => h.close());
  for (let i = 0; i < 5; i++) h.reader.addLog({ app: 'api' }, T0 - 50n * S + BigInt(i) * S, `old ${i}`);
  h.reader.addLog({ app: 'db' }, T0 - 10n * S, 'other app');
  const tail = open(h, { query: '{app="api"}', limit: '3', start: String(T0 - 60n * S) });
  t.teardown(() => tail.ws.close());
  await tail.opened;
  await until('the first message', () => tail.lines.length === 3);
  t.deepEqual(tail.lines, ['old 2', 'old 3', 'old 4']);
  t.deepEqual(tail.messages[0]!.streams[0]!.stream, { app: 'api' });

  // New entries, two of them at one nanosecond, then the clock passes them.
  h.reader.addLog({ app: 'api' }, T0 + 1n * S, 'new a');
  h.reader.addLog({ app: 'api' }, T0 + 2n * S, 'new b');
  h.reader.addLog({ app: 'api' }, T0 + 2n * S, 'new c');
  h.clock.now = T0 + 2n * S + 1n;
  await until('the new entries', () => tail.lines.length === 6);
  h.reader.addLog({ app: 'api' }, T0 + 3n * S, 'new d');
  h.clock.now = T0 + 4n * S;
  await until('one more', () => tail.lines.length === 7);
  await new Promise((resolve) => setTimeout(resolve, 100)); // a few more polls: nothing is sent twice
  t.deepEqual(tail.lines, ['old 2', 'old 3', 'old 4', 'new a', 'new b', 'new c', 'new d']);
});

test('delay_for: an entry is sent once the clock is that far past it; a pipeline applies', async (t) => {
  const h = await serve();
  t.teardown(() => h.close());
  const tail = open(h, { query: '{app="api"} |= "keep"', delay_for: '2', start: String(T0) });
  t.teardown(() => tail.ws.close());
  await tail.opened;
  h.reader.addLog({ app: 'api' }, T0 + 1n * S, 'keep me');
  h.reader.addLog({ app: 'api' }, T0 + 1n * S + 1n, 'drop me');
  h.clock.now = T0 + 2n * S;
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.deepEqual(tail.lines, [], 'not yet: within delay_for of now');
  h.clock.now = T0 + 3n * S + 1n;
  await until('the entry', () => tail.lines.length === 1);
  t.deepEqual(tail.lines, ['keep me']);
});

test('the key from the headers or the api_key parameter; refusals are plain HTTP answers naming the problem', async (t) => {
  const h = await serve();
  t.teardown(() => h.close());
  const byParam = open(h, { query: '{app="api"}', api_key: KEY }, {});
  await byParam.opened;
  byParam.ws.close();
  const basic = open(h, { query: '{app="api"}' }, { authorization: `Basic ${Buffer.from(`grafana:${KEY}`).toString('base64')}` });
  await basic.opened;
  basic.ws.close();

  const missing = await refused(h, `/loki/api/v1/tail?${new URLSearchParams({ query: '{app="api"}' })}`);
  t.is(missing.status, 401);
  t.regex(missing.body, /missing API key/);
  const wrong = await refused(h, '/loki/api/v1/tail?query=%7Bapp%3D%22api%22%7D&api_key=nope');
  t.is(wrong.status, 401);
  t.regex(wrong.body, /invalid API key/);
  const auth = { authorization: `Bearer ${KEY}` };
  const metric = await refused(h, `/loki/api/v1/tail?${new URLSearchParams({ query: 'rate({app="api"}[1m])' })}`, auth);
  t.is(metric.status, 400);
  t.regex(metric.body, /the tail takes a log query/);
  const syntax = await refused(h, `/loki/api/v1/tail?${new URLSearchParams({ query: '{app=' })}`, auth);
  t.is(syntax.status, 400);
  t.regex(syntax.body, /invalid parameter "query"/);
  const delay = await refused(h, `/loki/api/v1/tail?${new URLSearchParams({ query: '{app="api"}', delay_for: '9' })}`, auth);
  t.is(delay.status, 400);
  t.regex(delay.body, /delay_for.*from 0 to 5/);
  const elsewhere = await refused(h, '/somewhere', auth);
  t.is(elsewhere.status, 404);
});
