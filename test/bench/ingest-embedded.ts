/**
 * ingest-embedded: log events through HTTP into SQLite via a real `sextant up` process,
 * against the same-run baseline of raw better-sqlite3 inserts of the same rows into the
 * same schema (docs/architecture.md §9). Reports events/s, server CPU-seconds per million events, and
 * the server's peak RSS.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { messageHash, streamFingerprint } from '../../runtime/src/model/fingerprint.js';
import { sortedLabels } from '../../runtime/src/model/labels.js';
import { SCHEMA } from '../../runtime/src/storage/sqlite/schema.js';
import { startSextant, tempDataDir } from '../support/sextant-process.js';
import { cpuSeconds, machine, median, peakRssMb, progress, writeResults } from './report.js';

const KEY = 'bench-key';

interface Options {
  events: number;
  batch: number;
  concurrency: number;
  runs: number;
  sync: 'full' | 'normal';
}

function makeBodies(o: Options, t0Ns: bigint): string[] {
  const bodies: string[] = [];
  const filler = 'x'.repeat(120);
  for (let b = 0; b < o.events; b += o.batch) {
    const entries = [];
    for (let i = b; i < Math.min(o.events, b + o.batch); i++) {
      entries.push({
        timestamp: (t0Ns + BigInt(i) * 1000n).toString(),
        labels: { service: `svc${i % 8}`, level: i % 20 === 0 ? 'error' : 'info' },
        // ~200-byte lines, like the agent benchmark's
        message: `${i} GET /api/items/${i % 1000} 200 ${filler}`,
      });
    }
    bodies.push(JSON.stringify({ entries }));
  }
  return bodies;
}

async function runServer(
  o: Options,
  bodies: string[],
): Promise<{ eventsPerSecond: number; cpuSecondsPerMillion: number; peakRssMb: number }> {
  const p = await startSextant({ dataDir: tempDataDir('sextant-bench-'), apiKey: KEY, args: ['--sync', o.sync] });
  try {
    const pid = p.child.pid!;
    const cpuBefore = cpuSeconds(pid);
    const started = process.hrtime.bigint();
    let next = 0;
    const worker = async () => {
      while (next < bodies.length) {
        const body = bodies[next++]!;
        const res = await fetch(`${p.url}/api/v1/logs`, {
          method: 'POST',
          headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
          body,
        });
        if (res.status !== 200) throw new Error(`ingest answered ${res.status}: ${await res.text()}`);
        await res.arrayBuffer();
      }
    };
    await Promise.all(Array.from({ length: o.concurrency }, worker));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const cpu = cpuSeconds(pid) - cpuBefore;
    const rss = peakRssMb(pid);
    return { eventsPerSecond: o.events / seconds, cpuSecondsPerMillion: (cpu / o.events) * 1e6, peakRssMb: rss };
  } finally {
    await p.stop();
    fs.rmSync(p.dataDir, { recursive: true, force: true });
  }
}

/** The floor: the same rows (fingerprints and hashes precomputed) inserted with prepared statements, batch per transaction. */
function runRaw(o: Options, bodies: string[]): { eventsPerSecond: number; cpuSecondsPerMillion: number } {
  const dir = tempDataDir('sextant-bench-raw-');
  const db = new Database(path.join(dir, 'raw.db'));
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${o.sync.toUpperCase()}`);
  db.exec(SCHEMA);
  const insertStream = db.prepare('INSERT INTO streams (fingerprint, labels) VALUES (?, ?)');
  const insertLog = db.prepare('INSERT INTO logs (stream_id, ts, hash, message, fields) VALUES (?, ?, ?, ?, NULL) ON CONFLICT DO NOTHING');
  const insertFts = db.prepare('INSERT INTO logs_fts (rowid, message) VALUES (?, ?)');
  const streams = new Map<string, number>();
  const batches = bodies.map((body) =>
    (JSON.parse(body) as { entries: Array<{ timestamp: string; labels: Record<string, string>; message: string }> }).entries.map((e) => {
      const fp = streamFingerprint(e.labels);
      if (!streams.has(fp)) streams.set(fp, Number(insertStream.run(fp, JSON.stringify(sortedLabels(e.labels))).lastInsertRowid));
      return [streams.get(fp)!, BigInt(e.timestamp), messageHash(e.message), e.message] as const;
    }),
  );
  const insertBatch = db.transaction((rows: (typeof batches)[number]) => {
    for (const [stream, ts, hash, message] of rows) {
      const info = insertLog.run(stream, ts, hash, message);
      if (info.changes === 1) insertFts.run(info.lastInsertRowid, message);
    }
  });
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  for (const rows of batches) insertBatch(rows);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return { eventsPerSecond: o.events / seconds, cpuSecondsPerMillion: ((cpu.user + cpu.system) / 1e6 / o.events) * 1e6 };
}

export async function runIngestEmbedded(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      events: { type: 'string', default: '1000000' },
      batch: { type: 'string', default: '1000' },
      concurrency: { type: 'string', default: '4' },
      runs: { type: 'string', default: '3' },
      sync: { type: 'string', default: 'full' },
    },
  });
  const o: Options = {
    events: Number(values.events),
    batch: Number(values.batch),
    concurrency: Number(values.concurrency),
    runs: Number(values.runs),
    sync: values.sync === 'normal' ? 'normal' : 'full',
  };
  const t0Ns = BigInt(Date.now() - 3_600_000) * 1_000_000n;
  progress(
    `ingest-embedded: ${o.events} events of ~200 B in batches of ${o.batch}, ${o.concurrency} concurrent requests, ${o.runs} runs, sync=${o.sync}`,
  );
  const bodies = makeBodies(o, t0Ns);
  const server: Array<Awaited<ReturnType<typeof runServer>>> = [];
  const raw: Array<ReturnType<typeof runRaw>> = [];
  for (let r = 1; r <= o.runs; r++) {
    // Alternate so drift in machine load hits both sides alike.
    progress(`run ${r}/${o.runs}: raw better-sqlite3 baseline`);
    raw.push(runRaw(o, bodies));
    progress(`run ${r}/${o.runs}: raw ${Math.round(raw[raw.length - 1]!.eventsPerSecond)} events/s; now sextant up over HTTP`);
    server.push(await runServer(o, bodies));
    progress(`run ${r}/${o.runs}: sextant ${Math.round(server[server.length - 1]!.eventsPerSecond)} events/s`);
  }
  const ratios = server.map((s, i) => s.eventsPerSecond / raw[i]!.eventsPerSecond);
  const result = {
    benchmark: 'ingest-embedded',
    date: new Date().toISOString(),
    machine: machine(),
    options: o,
    sextant: {
      eventsPerSecondMedian: Math.round(median(server.map((s) => s.eventsPerSecond))),
      cpuSecondsPerMillionMedian: +median(server.map((s) => s.cpuSecondsPerMillion)).toFixed(2),
      peakRssMbMax: Math.round(Math.max(...server.map((s) => s.peakRssMb))),
      runs: server,
    },
    rawSqlite: {
      eventsPerSecondMedian: Math.round(median(raw.map((s) => s.eventsPerSecond))),
      cpuSecondsPerMillionMedian: +median(raw.map((s) => s.cpuSecondsPerMillion)).toFixed(2),
      runs: raw,
    },
    ratioMedian: +median(ratios).toFixed(3),
    ratios: ratios.map((r) => +r.toFixed(3)),
    targets: { eventsPerSecond: 50_000, ratio: 0.5, peakRssMb: 300 },
  };
  const m = result.machine;
  const md = `## ingest-embedded (${result.date.slice(0, 10)})

Machine: ${m.cores} cores, ${m.cpu}, ${m.memoryGiB} GiB, Node ${m.node}. ${o.events} events (~200 B), batches of ${o.batch}, ${o.concurrency} concurrent requests, sync=${o.sync}, median of ${o.runs} runs.

| path | events/s (median) | CPU-s per 1M events | peak RSS |
|---|---:|---:|---:|
| sextant up: HTTP → validate → SQLite | ${result.sextant.eventsPerSecondMedian} | ${result.sextant.cpuSecondsPerMillionMedian} | ${result.sextant.peakRssMbMax} MB |
| raw better-sqlite3 inserts, same rows (baseline) | ${result.rawSqlite.eventsPerSecondMedian} | ${result.rawSqlite.cpuSecondsPerMillionMedian} | — |

Same-run ratio sextant/raw: median ${result.ratioMedian} (runs: ${result.ratios.join(', ')}). Targets: ≥ 50,000 events/s, ratio ≥ 0.5, RSS ≤ 300 MB.
`;
  writeResults('ingest-embedded', result, md);
}
