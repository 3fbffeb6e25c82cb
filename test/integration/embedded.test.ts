/**
 * `sextant up` end to end, as a child process: 10,000 log entries and 10,000 samples in,
 * every one read back exactly through the native, Loki and Prometheus endpoints; then a
 * SIGKILL mid-ingest, a restart, and proof that every acknowledged record survived and a
 * client's retries create no duplicates.
 */
import test from 'ava';
import { startSextant, tempDataDir, type SextantProcess } from '../support/sextant-process.js';

const KEY = 'integration-test-key';
const STREAMS = ['api', 'web', 'db', 'cache', 'queue'];
const N = 10_000;
const T0_MS = Math.floor(Date.now() / 1000) * 1000 - 3_600_000; // an hour ago, on a second
const T0_NS = BigInt(T0_MS) * 1_000_000n;

interface SentEntry {
  timestamp: string; // ns since epoch, as digits
  labels: { service: string; level: string };
  message: string;
  fields: { i: number; user: string };
}

function makeEntry(i: number): SentEntry {
  return {
    timestamp: (T0_NS + BigInt(i) * 1_000_000n + 123n).toString(), // 1 ms apart, with ns detail
    labels: { service: STREAMS[i % STREAMS.length]!, level: i % 10 === 0 ? 'error' : 'info' },
    message: `entry ${i} GET /items/${i} status=${i % 10 === 0 ? 500 : 200}`,
    fields: { i, user: `u${i % 97}` },
  };
}

function makeSample(i: number) {
  const series = i % 10;
  const step = Math.floor(i / 10);
  return { name: 'sextant_it_value', labels: { series: `s${series}` }, timestamp: T0_MS + step * 1000, value: series * 1000 + step + 0.5 };
}

async function post(p: SextantProcess, route: string, body: unknown): Promise<Response> {
  return fetch(`${p.url}${route}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function get<T>(p: SextantProcess, route: string, params: Record<string, string>): Promise<T> {
  const res = await fetch(`${p.url}${route}?${new URLSearchParams(params)}`, { headers: { authorization: `Bearer ${KEY}` } });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${route} → ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

interface NativeEntry {
  id: string;
  timestamp: string;
  labels: Record<string, string>;
  message: string;
  fields: Record<string, unknown>;
}

/** Every entry in [T0, T0 + span) through the native API, forward, following cursors. */
async function nativeAll(p: SextantProcess, query = '{service=~".+"}'): Promise<NativeEntry[]> {
  const out: NativeEntry[] = [];
  let cursor: string | undefined;
  do {
    const page = await get<{ entries: NativeEntry[]; nextCursor?: string }>(p, '/api/v1/logs/search', {
      query,
      start: T0_NS.toString(),
      end: (T0_NS + 3_600_000_000_000n).toString(),
      direction: 'forward',
      limit: '5000',
      ...(cursor ? { cursor } : {}),
    });
    out.push(...page.entries);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

function nsOfRfc3339(text: string): bigint {
  const [whole, frac] = text.replace('Z', '').split('.') as [string, string];
  return BigInt(Date.parse(`${whole}Z`)) * 1_000_000n + BigInt(frac.padEnd(9, '0'));
}

test.serial('10,000 entries and 10,000 samples in, every one read back exactly', async (t) => {
  const p = await startSextant({ dataDir: tempDataDir(), apiKey: KEY });
  t.teardown(() => p.stop());
  const entries = Array.from({ length: N }, (_, i) => makeEntry(i));
  const samples = Array.from({ length: N }, (_, i) => makeSample(i));
  for (let b = 0; b < N; b += 500) {
    const res = await post(p, '/api/v1/logs', { entries: entries.slice(b, b + 500) });
    t.is(res.status, 200, await res.clone().text());
    t.is(((await res.json()) as { accepted: number }).accepted, 500);
    t.is((await post(p, '/api/v1/metrics', { samples: samples.slice(b, b + 500) })).status, 200);
  }

  // Native: all entries, in order, with labels, message, fields and ns timestamps.
  const native = await nativeAll(p);
  t.is(native.length, N);
  native.forEach((e, i) => {
    const sent = entries[i]!;
    if (e.message !== sent.message || nsOfRfc3339(e.timestamp).toString() !== sent.timestamp) {
      t.fail(`native entry ${i}: got ${JSON.stringify(e)}, sent ${JSON.stringify(sent)}`);
    }
    // service_name and detected_level: discovered at ingestion from the service and level labels (runtime/src/ingestion/log-discovery.ts).
    const labels = { level: sent.labels.level, service: sent.labels.service, service_name: sent.labels.service };
    if (JSON.stringify(e.labels) !== JSON.stringify(labels)) t.fail(`labels of ${i}: ${JSON.stringify(e.labels)}`);
    if (JSON.stringify(e.fields) !== JSON.stringify({ ...sent.fields, detected_level: sent.labels.level }))
      t.fail(`fields of ${i}: ${JSON.stringify(e.fields)}`);
  });
  t.is(new Set(native.map((e) => e.id)).size, N, 'ids are unique');

  // Loki: query_range over all streams, paged by time as Grafana does (limit 5000 per call).
  const loki: Array<[string, string, Record<string, string>]> = [];
  let start = T0_NS;
  for (;;) {
    const reply = await get<{
      status: string;
      data: { resultType: string; result: Array<{ stream: Record<string, string>; values: Array<[string, string]> }> };
    }>(p, '/loki/api/v1/query_range', {
      query: '{service=~".+"}',
      start: start.toString(),
      end: (T0_NS + 3_600_000_000_000n).toString(),
      limit: '5000',
      direction: 'forward',
    });
    t.is(reply.status, 'success');
    t.is(reply.data.resultType, 'streams');
    const page = reply.data.result.flatMap((s) =>
      s.values.map(([ts, line]) => [ts, line, s.stream] as [string, string, Record<string, string>]),
    );
    if (page.length === 0) break;
    page.sort((a, b) => (BigInt(a[0]) < BigInt(b[0]) ? -1 : 1));
    loki.push(...page);
    start = BigInt(page[page.length - 1]![0]) + 1n;
    if (page.length < 5000) break;
  }
  t.is(loki.length, N);
  loki.forEach(([ts, line, stream], i) => {
    const sent = entries[i]!;
    if (ts !== sent.timestamp || line !== sent.message || stream.service !== sent.labels.service || stream.level !== sent.labels.level) {
      t.fail(`loki entry ${i}: got ${ts} ${line} ${JSON.stringify(stream)}`);
    }
  });

  // Loki line filters over one stream.
  const errors = await get<{ data: { result: Array<{ values: Array<[string, string]> }> } }>(p, '/loki/api/v1/query_range', {
    query: '{service="api", level="error"} |= "status=500" != "entry 0 "',
    start: T0_NS.toString(),
    end: (T0_NS + 3_600_000_000_000n).toString(),
    limit: '5000',
  });
  const expectedErrors = entries.filter((e, i) => e.labels.service === 'api' && e.labels.level === 'error' && i !== 0).length;
  t.is(errors.data.result.flatMap((s) => s.values).length, expectedErrors);

  // Prometheus: every series, every sample, through query_range at 1 s steps.
  for (let s = 0; s < 10; s++) {
    const reply = await get<{
      status: string;
      data: { resultType: string; result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> };
    }>(p, '/api/v1/query_range', {
      query: `sextant_it_value{series="s${s}"}`,
      start: String(T0_MS / 1000),
      end: String(T0_MS / 1000 + 999),
      step: '1',
    });
    t.is(reply.data.resultType, 'matrix');
    t.is(reply.data.result.length, 1);
    t.deepEqual(reply.data.result[0]!.metric, { __name__: 'sextant_it_value', series: `s${s}` });
    const values = reply.data.result[0]!.values;
    t.is(values.length, 1000);
    values.forEach(([ts, v], step) => {
      if (ts !== T0_MS / 1000 + step || v !== String(s * 1000 + step + 0.5)) t.fail(`series s${s} step ${step}: [${ts}, ${v}]`);
    });
  }

  // Native metrics: the same samples, per 1 s step.
  const nativeMetrics = await get<{ series: Array<{ labels: Record<string, string>; points: Array<[number, number]> }> }>(
    p,
    '/api/v1/metrics/query',
    {
      query: 'sextant_it_value',
      start: String(T0_MS),
      end: String(T0_MS + 999_000),
      step: '1s',
      aggregation: 'max',
    },
  );
  t.is(nativeMetrics.series.length, 10);
  t.is(
    nativeMetrics.series.reduce((n, s) => n + s.points.length, 0),
    N,
  );
  const s3 = nativeMetrics.series.find((s) => s.labels.series === 's3')!;
  t.deepEqual(s3.points[7], [T0_MS + 7000, 3007.5]);

  // Label browsing as Grafana does it.
  const labels = await get<{ status: string; data: string[] }>(p, '/loki/api/v1/labels', {});
  // service_name: discovered at ingestion from `service` (runtime/src/ingestion/log-discovery.ts).
  t.deepEqual(labels.data, ['level', 'service', 'service_name']);
  const values = await get<{ data: string[] }>(p, '/loki/api/v1/label/service/values', {});
  t.deepEqual(values.data, [...STREAMS].sort());
  const names = await get<{ data: string[] }>(p, '/api/v1/label/__name__/values', {});
  t.deepEqual(names.data, ['sextant_it_value']);

  t.is(await p.stop(), 0, 'a SIGTERM stops the process cleanly');
});

test.serial('SIGKILL mid-ingest: every acknowledged entry survives; retries add no duplicates', async (t) => {
  const dataDir = tempDataDir();
  const batches = Array.from({ length: 40 }, (_, b) => Array.from({ length: 250 }, (_, k) => makeEntry(b * 250 + k)));
  const acked = new Set<number>();
  let p = await startSextant({ dataDir, apiKey: KEY });

  // Four concurrent senders; the process is killed once a dozen batches are acknowledged.
  let next = 0;
  let killed = false;
  const sender = async () => {
    while (next < batches.length && !killed) {
      const b = next++;
      try {
        const res = await post(p, '/api/v1/logs', { entries: batches[b] });
        if (res.status === 200) acked.add(b);
      } catch {
        // connection reset by the kill: not acknowledged, the client will retry
      }
      if (acked.size >= 12 && !killed) {
        killed = true;
        await p.kill();
      }
    }
  };
  await Promise.all([sender(), sender(), sender(), sender()]);
  t.true(killed, 'the process was killed mid-ingest');
  t.true(acked.size >= 12 && acked.size < batches.length, `acknowledged ${acked.size} of ${batches.length} batches before the kill`);

  p = await startSextant({ dataDir, apiKey: KEY });
  t.teardown(() => p.stop());
  const afterRestart = await nativeAll(p);
  const stored = new Set(afterRestart.map((e) => e.message));
  for (const b of acked) {
    for (const e of batches[b]!) if (!stored.has(e.message)) t.fail(`acknowledged entry lost: ${e.message}`);
  }
  t.is(new Set(afterRestart.map((e) => e.id)).size, afterRestart.length, 'no duplicates after restart');

  // The client retries what was not acknowledged and, being at-least-once, replays the rest too.
  for (const batch of batches) t.is((await post(p, '/api/v1/logs', { entries: batch })).status, 200);
  const final = await nativeAll(p);
  t.is(final.length, N, 'exactly every entry once');
  t.is(new Set(final.map((e) => e.message)).size, N);
  const metrics = await (await fetch(`${p.url}/metrics`)).text();
  const duplicates = Number(/sextant_storage_duplicates_total\{signal="logs"\} (\d+)/.exec(metrics)?.[1]);
  t.is(duplicates, afterRestart.length, 'every replayed, already stored entry was counted as a duplicate');
});

test.serial('retention deletes expired entries and samples, counted in a metric', async (t) => {
  const dataDir = tempDataDir();
  const config = `${dataDir}/config.yaml`;
  (await import('node:fs')).writeFileSync(config, 'retention: { logs: 30s, metrics: 30s, interval: 200ms }\n');
  const p = await startSextant({ dataDir, apiKey: KEY, args: ['--config', config] });
  t.teardown(() => p.stop());
  const now = Date.now();
  const at = (ms: number, i: number) => ({ timestamp: String(ms), labels: { service: 'ret' }, message: `m${i}` });
  const entries = [
    ...Array.from({ length: 10 }, (_, i) => at(now - 120_000 + i, i)),
    ...Array.from({ length: 5 }, (_, i) => at(now + i, 10 + i)),
  ];
  t.is((await post(p, '/api/v1/logs', { entries })).status, 200);
  const samples = [0, 1, 2].map((i) => ({ name: 'ret_value', value: i, timestamp: now - 120_000 + i }));
  t.is((await post(p, '/api/v1/metrics', { samples: [...samples, { name: 'ret_value', value: 9, timestamp: now }] })).status, 200);
  const deadline = Date.now() + 10_000;
  let text = '';
  while (Date.now() < deadline) {
    text = await (await fetch(`${p.url}/metrics`)).text();
    if (
      /sextant_retention_deleted_total\{tier="embedded",signal="logs",kind="records"\} 10/.test(text) &&
      /sextant_retention_deleted_total\{tier="embedded",signal="metrics",kind="records"\} 3/.test(text)
    )
      break;
    await new Promise((r) => setTimeout(r, 100));
  }
  t.regex(text, /sextant_retention_deleted_total\{tier="embedded",signal="logs",kind="records"\} 10/);
  t.regex(text, /sextant_retention_deleted_total\{tier="embedded",signal="metrics",kind="records"\} 3/);
  const left = await get<{ entries: Array<{ message: string }> }>(p, '/api/v1/logs/search', {
    query: '{service="ret"}',
    start: String(now - 600_000),
    end: String(now + 60_000),
    direction: 'forward',
  });
  t.deepEqual(
    left.entries.map((e) => e.message),
    ['m10', 'm11', 'm12', 'm13', 'm14'],
  );
});
