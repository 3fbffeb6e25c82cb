/**
 * RouteShipper.retire against a refusing endpoint: what it held is dropped and counted, and
 * entries handed over after the retirement began are neither sent nor acknowledged (the
 * file is read again by the route it moves to), so a routes reload racing a read loses
 * nothing silently. And batch buffers, reused once compressed, never mix two batches.
 */
import test from 'ava';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { silentLogger } from '../../../runtime/src/common/index.js';
import { resolveAgentConfig } from '../config.js';
import { AgentMetrics } from '../metrics.js';
import { RouteShipper, type AckTarget } from './route.js';

async function refusedUrl(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

class File implements AckTarget {
  acked = 0;
  ack(_generation: number, end: number): void {
    this.acked = Math.max(this.acked, end);
  }
  identity() {
    return { dev: '1', ino: '2', head: '' };
  }
}

test('retire: held entries are dropped as route_removed; entries added after it began are not acknowledged', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipper-unit-'));
  const config = resolveAgentConfig(
    { routes: [{ name: 'gone', endpoint: await refusedUrl() }], retry: { initialBackoff: '10ms', maxBackoff: '20ms' } },
    'test',
  );
  const metrics = new AgentMetrics();
  const shipper = new RouteShipper({
    route: config.routes[0]!,
    queue: config.queue,
    retry: config.retry,
    spoolDir: path.join(dir, 'spool'),
    metrics,
    log: silentLogger(),
    ackStored: () => {},
  });
  const file = new File();
  try {
    shipper.loadSpool();
    shipper.start();
    shipper.add('{"message":"held 1"', file, 0, 10);
    shipper.add('{"message":"held 2"', file, 0, 20);
    const retired = shipper.retire(100);
    t.false(shipper.accepting);
    shipper.add('{"message":"late"', file, 0, 30); // a read that was in flight when the route was removed
    t.is(await retired, 2);
    t.is(file.acked, 20, 'the held entries are given up on and acknowledged; the late one is not');
    const dropped = (await metrics.entriesDropped.get()).values;
    t.deepEqual(
      dropped.map((v) => [v.labels.reason, v.value]),
      [['route_removed', 2]],
    );
    t.false(fs.existsSync(path.join(dir, 'spool')), 'the spool folder is removed');
  } finally {
    await shipper.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('batch buffers are reused only after compression: every entry arrives once, intact, in order', async (t) => {
  const received: string[] = [];
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      for (const line of zlib.gunzipSync(Buffer.concat(parts)).toString('utf8').split('\n')) if (line) received.push(line);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipper-unit-'));
  const endpoint = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  // Small batches (about 40 entries each), so hundreds of them pass through the reused buffers.
  const config = resolveAgentConfig({ routes: [{ name: 'r', endpoint, batch: { maxBytes: 4096, maxWait: '10ms' } }] }, 'test');
  const shipper = new RouteShipper({
    route: config.routes[0]!,
    queue: config.queue,
    retry: config.retry,
    spoolDir: path.join(dir, 'spool'),
    metrics: new AgentMetrics(),
    log: silentLogger(),
    ackStored: () => {},
  });
  const file = new File();
  const n = 20_000;
  const sent: string[] = [];
  try {
    shipper.loadSpool();
    shipper.start();
    for (let i = 0; i < n; i++) {
      while (!shipper.accepting) await new Promise((r) => setImmediate(r));
      const entry = `{"message":"entry ${i} ${String(i * 7919).repeat(1 + (i % 5))}"}`;
      sent.push(entry);
      shipper.add(entry, file, 0, i + 1);
    }
    shipper.seal(); // the last, partly filled batch (the tailer's tick would seal it after maxWait)
    while (file.acked < n) await new Promise((r) => setTimeout(r, 5));
    t.is(received.length, n);
    t.deepEqual(received, sent);
  } finally {
    await shipper.close();
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
