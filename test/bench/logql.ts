/**
 * logql: LogQL over 1,000,000 stored lines against a raw read of the same rows, in the same
 * run (`npm run bench -- logql [--lines 1000000] [--runs 3]`).
 *
 * Store: the SQLite store of `sextant up`, written directly (no HTTP), and read through a
 * read-only connection of its own, as a query worker of `sextant up` reads it
 * (storage/sqlite/thread-reader.ts). Data (generated): JSON access-log lines of ~200 bytes
 * over one hour in 4 streams (`{app="bench", pod="p0".."p3"}`).
 *
 * Baseline: every row of the selector read page by page (1,000 per page, as the LogQL
 * engine pages), with no LogQL evaluation. Each query is timed in CPU-seconds of this
 * process (user + system) and in wall time; every query covers all the lines, so the figure
 * is lines scanned per CPU-second, and the ratio is query over raw read. Median of `runs`
 * after a warm-up. Targets (issue 15): ≥ 0.5× the raw read; ≥ 1,000,000 lines/s for the
 * plain line filter.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { LogEntry } from '../../runtime/src/model/types.js';
import type { LogReader } from '../../runtime/src/storage/reader.js';
import { SqliteStore } from '../../runtime/src/storage/sqlite/store.js';
import { evaluateLogQLRange, selectLogStreams, type MetricQueryLimits } from '../../runtime/src/query/logql/evaluate.js';
import type { LogQuery, MetricExpr } from '../../runtime/src/query/logql/ast.js';
import { parseLogQL } from '../../runtime/src/query/logql/parse.js';
import { machine, median, progress, writeResults } from './report.js';

const T0_MS = 1_700_000_000_000;
const HOUR_MS = 3_600_000;
const NS = 1_000_000n;
const PATHS = ['/api/v1/items', '/api/v1/users', '/api/v1/orders', '/healthz', '/api/v1/search'];

function lines(count: number): LogEntry[] {
  let seed = 7;
  const rand = (): number => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
  const out: LogEntry[] = [];
  for (let i = 0; i < count; i++) {
    const t = T0_MS + Math.floor((i * HOUR_MS) / count);
    const status = rand() < 0.05 ? 500 + Math.floor(rand() * 4) : rand() < 0.1 ? 404 : 200;
    const level = status >= 500 ? 'error' : status === 404 ? 'warn' : 'info';
    const message = JSON.stringify({
      ts: new Date(t).toISOString(),
      level,
      method: rand() < 0.7 ? 'GET' : 'POST',
      path: `${PATHS[Math.floor(rand() * PATHS.length)]!}/${Math.floor(rand() * 100_000)}`,
      status,
      duration_ms: Math.round(rand() * rand() * 250_000) / 100,
      user: `user-${Math.floor(rand() * 500)}`,
      msg: rand() < 0.0002 ? 'upstream timeout' : 'request served',
      request_id: Math.floor(rand() * 2 ** 52)
        .toString(16)
        .padStart(13, '0'),
    });
    out.push({ timestampNs: BigInt(t) * NS + BigInt(i % 1000), labels: { app: 'bench', pod: `p${i % 4}` }, message, fields: {} });
  }
  return out;
}

interface Measured {
  cpuS: number;
  wallS: number;
}

async function measure(fn: () => Promise<unknown>, runs: number): Promise<Measured> {
  await fn(); // warm-up
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let r = 0; r < runs; r++) {
    const c0 = process.cpuUsage();
    const w0 = process.hrtime.bigint();
    await fn();
    const c = process.cpuUsage(c0);
    wall.push(Number(process.hrtime.bigint() - w0) / 1e9);
    cpu.push((c.user + c.system) / 1e6);
  }
  return { cpuS: median(cpu), wallS: median(wall) };
}

function logs(query: string): LogQuery {
  const expr = parseLogQL(query);
  if (expr.type !== 'logs') throw new Error(`not a log query: ${query}`);
  return expr;
}

function metric(query: string): MetricExpr {
  const expr = parseLogQL(query);
  if (expr.type === 'logs') throw new Error(`not a metric query: ${query}`);
  return expr;
}

async function rawRead(reader: LogReader, startNs: bigint, endNs: bigint): Promise<number> {
  let rows = 0;
  let cursor: string | undefined;
  do {
    const page = await reader.selectLogs({
      matchers: [{ name: 'app', op: '=', value: 'bench' }],
      startNs,
      endNs,
      direction: 'backward',
      limit: 1000,
      ...(cursor === undefined ? {} : { cursor }),
    });
    rows += page.entries.length;
    cursor = page.entries.length > 0 ? page.nextCursor : undefined;
  } while (cursor !== undefined);
  return rows;
}

export async function runLogqlBench(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { lines: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '3' } },
  });
  const count = Number(values.lines);
  const runs = Number(values.runs);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sextant-bench-logql-'));
  try {
    progress(`generating and storing ${count} lines`);
    const writer = new SqliteStore({ dataDir, sync: 'normal' });
    const all = lines(count);
    const bytes = all.reduce((n, e) => n + Buffer.byteLength(e.message), 0);
    for (let i = 0; i < all.length; i += 5000) writer.writeLogs(all.slice(i, i + 5000));
    writer.close();
    all.length = 0;
    const reader = new SqliteStore({ dataDir, readOnly: true });
    const startNs = BigInt(T0_MS) * NS;
    const endNs = BigInt(T0_MS + HOUR_MS) * NS;
    // Every line of the data may be read by a metric query (the default cap is 1,000,000).
    const limits: MetricQueryLimits = { maxEntries: count + 1 };

    const rows = await rawRead(reader, startNs, endNs);
    if (rows !== count) throw new Error(`the raw read found ${rows} rows, not ${count}`);
    const raw = await measure(() => rawRead(reader, startNs, endNs), runs);
    progress(`raw read: ${(count / raw.cpuS).toFixed(0)} lines per CPU-second`);

    // Every query matches fewer than its limit, so each reads all `count` lines.
    const logQuery = (q: string) => () => selectLogStreams(logs(q), reader, { startNs, endNs, limit: 1000, direction: 'backward' }, limits);
    const rangeQuery = (q: string, stepMs: number) => () =>
      evaluateLogQLRange(metric(q), reader, startNs, endNs, BigInt(stepMs) * NS, limits);
    const queries: [string, string, () => Promise<unknown>][] = [
      ['line filter', '{app="bench"} |= "upstream timeout"', logQuery('{app="bench"} |= "upstream timeout"')],
      [
        'json and label filters',
        '{app="bench"} | json | status >= 500 and path =~ "/healthz.*" and user = "user-7"',
        logQuery('{app="bench"} | json | status >= 500 and path =~ "/healthz.*" and user = "user-7"'),
      ],
      [
        'logs volume (Grafana Explore)',
        'sum by (level, detected_level) (count_over_time({app="bench"} | drop __error__ [1m]))',
        rangeQuery('sum by (level, detected_level) (count_over_time({app="bench"} | drop __error__ [1m]))', 60_000),
      ],
      [
        'rate by a parsed label',
        'sum by (level) (rate({app="bench"} | json [1m]))',
        rangeQuery('sum by (level) (rate({app="bench"} | json [1m]))', 60_000),
      ],
      [
        'quantile over an unwrapped field',
        'quantile_over_time(0.99, {app="bench"} | json | unwrap duration_ms | __error__="" [5m]) by (method)',
        rangeQuery('quantile_over_time(0.99, {app="bench"} | json | unwrap duration_ms | __error__="" [5m]) by (method)', 300_000),
      ],
    ];
    const results: { name: string; query: string; cpuS: number; wallS: number; linesPerCpuS: number; linesPerS: number; ratio: number }[] =
      [];
    for (const [name, query, fn] of queries) {
      const m = await measure(fn, runs);
      const row = { name, query, ...m, linesPerCpuS: count / m.cpuS, linesPerS: count / m.wallS, ratio: raw.cpuS / m.cpuS };
      results.push(row);
      progress(`${name}: ${row.linesPerCpuS.toFixed(0)} lines/CPU-s (${row.ratio.toFixed(2)}× raw), ${row.linesPerS.toFixed(0)} lines/s`);
    }
    reader.close();
    const load = os.loadavg();
    const md = [
      '# logql: LogQL over the SQLite store of sextant up vs a raw read of the same rows, same run',
      '',
      `${count} lines (${(bytes / count).toFixed(0)} B average), 4 streams over 1 h; median of ${runs} runs after a warm-up.`,
      `Load average ${load.map((l) => l.toFixed(1)).join(' ')} on ${machine().cores} cores, Node ${process.version}.`,
      '',
      '| query | CPU-s | wall s | lines / CPU-s | lines / s | × raw read (CPU) |',
      '|---|---:|---:|---:|---:|---:|',
      `| raw read (pages of 1,000, no LogQL) | ${raw.cpuS.toFixed(2)} | ${raw.wallS.toFixed(2)} | ${(count / raw.cpuS).toFixed(0)} | ${(count / raw.wallS).toFixed(0)} | 1 |`,
      ...results.map(
        (r) =>
          `| ${r.name}: \`${r.query.replaceAll('|', '\\|')}\` | ${r.cpuS.toFixed(2)} | ${r.wallS.toFixed(2)} | ${r.linesPerCpuS.toFixed(0)} | ${r.linesPerS.toFixed(0)} | ${r.ratio.toFixed(2)} |`,
      ),
      '',
    ].join('\n');
    writeResults('logql', { machine: machine(), lines: count, bytes, runs, raw, rows: results, loadAverage: load }, md);
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
