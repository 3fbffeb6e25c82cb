/**
 * Loki's live tail over a real websocket, in both modes: `sextant up`, and `sextant
 * ingestion` → Kafka → processor → OpenSearch read by `sextant query`. Entries pushed over
 * HTTP come back through /loki/api/v1/tail exactly once each, in order: first those since
 * `start`, then the ones pushed while the tail is open. The key is passed as the api_key
 * parameter, as a client that cannot set headers does.
 *
 * The live entries carry timestamps 20 s ahead, so they are stored long before the tail's
 * reading (delay_for past their time) reaches them, however slow the machine.
 */
import test from 'ava';
import WebSocket from 'ws';
import { distributed, embedded, KEY, type Target } from './helpers/remote-write-agreement.js';

const AHEAD_NS = 20_000_000_000n;

async function push(target: Target, service: string, lines: Array<[bigint, string]>): Promise<void> {
  const res = await fetch(`${target.writeUrl}/api/v1/logs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ entries: lines.map(([ns, message]) => ({ labels: { service }, message, timestamp: ns.toString() })) }),
  });
  if (res.status !== 204 && res.status !== 200) throw new Error(`push: ${res.status} ${await res.text()}`);
}

async function until(what: string, check: () => boolean, deadlineMs = 90_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function tailsExactly(t: import('ava').ExecutionContext, target: Target): Promise<void> {
  t.teardown(() => target.stop());
  const service = `tail-${Date.now().toString(36)}`;
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  const before: Array<[bigint, string]> = [0, 1, 2].map((i) => [nowNs - 30_000_000_000n + BigInt(i), `before ${i}`]);
  await push(target, service, before);
  // Stored (and, distributed, indexed) before the tail opens, so the first message holds them.
  const stored = async () => {
    const res = await fetch(
      `${target.queryUrl}/loki/api/v1/query_range?${new URLSearchParams({ query: `{service="${service}"}`, start: String(nowNs - 60_000_000_000n), end: String(nowNs) })}`,
      { headers: { authorization: `Bearer ${KEY}` } },
    );
    const body = (await res.json()) as { data: { result: Array<{ values: unknown[] }> } };
    return body.data.result.reduce((n, s) => n + s.values.length, 0);
  };
  const deadline = Date.now() + 90_000;
  while ((await stored()) < 3) {
    if (Date.now() > deadline) throw new Error('the first entries were never readable');
    await new Promise((resolve) => setTimeout(resolve, 500));
  }

  const params = new URLSearchParams({
    query: `{service="${service}"} != "skip"`,
    start: String(nowNs - 60_000_000_000n),
    delay_for: '1',
    api_key: KEY,
  });
  const ws = new WebSocket(`${target.queryUrl.replace(/^http/, 'ws')}/loki/api/v1/tail?${params}`);
  t.teardown(() => ws.close());
  const lines: string[] = [];
  ws.on('message', (data) => {
    const message = JSON.parse(String(data)) as { streams: Array<{ stream: Record<string, string>; values: Array<[string, string]> }> };
    for (const s of message.streams) {
      t.is(s.stream.service, service);
      for (const [ts, line] of s.values) lines.push(`${ts} ${line}`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  await until('the first message', () => lines.length >= 3);

  const live: Array<[bigint, string]> = [0, 1, 2, 3].map((i) => [
    nowNs + AHEAD_NS + BigInt(i) * 1_000_000n,
    i === 2 ? 'skip me' : `live ${i}`,
  ]);
  await push(target, service, live);
  await until('the live entries', () => lines.length >= 6);
  await new Promise((resolve) => setTimeout(resolve, 3000)); // a few more reads: nothing is sent twice
  t.deepEqual(
    lines,
    [...before, ...live.filter(([, l]) => l !== 'skip me')].map(([ns, l]) => `${ns} ${l}`),
  );
}

test.serial('sextant up: the tail sends the entries since start, then each new one once, in order', async (t) => {
  await tailsExactly(t, await embedded());
});

test.serial('sextant query over OpenSearch (ingestion → Kafka → processor): the same tail', async (t) => {
  await tailsExactly(t, await distributed());
});
