/**
 * agent: `sextant agent` (a child process) tails one CRI log file of N lines of 200 bytes
 * and ships it to a receiver in this process that gunzips and JSON-decodes every entry and
 * acknowledges each batch without storing anything, so the agent is what is measured.
 * Same-run baseline: `cat` of the same file into /dev/null (docs/architecture.md §9). Reports lines/s,
 * the agent's CPU-seconds and peak RSS (VmHWM of the agent process alone; the receiver runs
 * in this process), and the ratio to cat. Peak RSS is given as the median of the runs and
 * their maximum: it depends on when V8 happens to collect, so single runs vary by ±10 MB.
 *
 * A second, in-process comparison measures the file readers alone over the same file:
 * node-tail (the `tail` package, from the beginning, each line event CRI-parsed) against
 * the agent's positioned reads + line splitting + CRI parsing (FileDecoder).
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import zlib from 'node:zlib';
import { Tail } from 'tail';
import { FileDecoder } from '../../agent-daemonset/src/tail/decoder.js';
import { parseCriLine } from '../../runtime/src/processor/parsers/cri.js';
import { CLI } from '../support/sextant-process.js';
import { cpuSeconds, machine, median, peakRssMb, progress, writeResults } from './report.js';

const LINE_BYTES = 200;

/** N CRI lines of exactly LINE_BYTES bytes (newline included), timestamps 1 µs apart. */
export function writeCriFile(file: string, lines: number, t0Ms = Date.now() - 3_600_000): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fd = fs.openSync(file, 'w');
  const t0 = BigInt(t0Ms) * 1_000_000n;
  const chunk: string[] = [];
  for (let i = 0; i < lines; i++) {
    const ns = t0 + BigInt(i) * 1000n;
    const ts = `${new Date(Number(ns / 1_000_000n)).toISOString().slice(0, 19)}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}Z`;
    const head = `${ts} stdout F ${i} GET /api/items/${i % 1000} 200 `;
    chunk.push(head + 'x'.repeat(LINE_BYTES - head.length - 1) + '\n');
    if (chunk.length === 10_000) {
      fs.writeSync(fd, chunk.join(''));
      chunk.length = 0;
    }
  }
  fs.writeSync(fd, chunk.join(''));
  fs.closeSync(fd);
}

/** The receiver: decodes every entry of every batch, stores nothing. */
function startReceiver(): Promise<{ port: number; received: () => number; requests: () => number; close: () => void }> {
  let received = 0;
  let requests = 0;
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      let body = Buffer.concat(parts);
      if (req.headers['content-encoding'] === 'gzip') body = zlib.gunzipSync(body);
      let n = 0;
      for (const line of body.toString('utf8').split('\n')) {
        if (line.length === 0) continue;
        const e = JSON.parse(line) as { message?: unknown };
        if (typeof e.message !== 'string') throw new Error('entry without message');
        n++;
      }
      received += n;
      requests++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(`{"accepted":${n}}`);
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: (server.address() as AddressInfo).port,
        received: () => received,
        requests: () => requests,
        close: () => server.close(),
      }),
    ),
  );
}

interface AgentRun {
  linesPerSecond: number;
  seconds: number;
  cpuSeconds: number;
  peakRssMb: number;
  requests: number;
}

async function runAgent(
  root: string,
  lines: number,
  batch: { maxEntries: number; maxBytes: number; gzipLevel: number },
): Promise<AgentRun> {
  const receiver = await startReceiver();
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'sextant-bench-agent-state-'));
  const config = path.join(state, 'agent.json');
  fs.writeFileSync(
    config,
    JSON.stringify({
      routes: [{ name: 'bench', endpoint: `http://127.0.0.1:${receiver.port}` }],
      batch: { ...batch, maxWait: '200ms' },
      ...(process.env.BENCH_AGENT_EXTRA ? JSON.parse(process.env.BENCH_AGENT_EXTRA) : {}),
    }),
  );
  const started = process.hrtime.bigint();
  const child = spawn(
    process.execPath,
    [CLI, 'agent', '--config', config, '--root', root, '--state-dir', path.join(state, 'state'), '--port', '0', '--kube', 'off'],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, SEXTANT_LOG_LEVEL: 'warn' } },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const deadline = Date.now() + 600_000;
    let cpu = 0;
    let rss = 0;
    while (receiver.received() < lines) {
      if (child.exitCode !== null) throw new Error(`agent exited with ${child.exitCode}:\n${stderr}`);
      if (Date.now() > deadline) throw new Error(`timeout: ${receiver.received()} of ${lines} lines received`);
      cpu = cpuSeconds(child.pid!);
      rss = peakRssMb(child.pid!);
      await new Promise((r) => setTimeout(r, 20));
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    cpu = cpuSeconds(child.pid!);
    rss = peakRssMb(child.pid!);
    if (receiver.received() !== lines) throw new Error(`received ${receiver.received()} entries for ${lines} lines`);
    return { linesPerSecond: lines / seconds, seconds, cpuSeconds: cpu, peakRssMb: rss, requests: receiver.requests() };
  } finally {
    child.kill('SIGTERM');
    await exited;
    receiver.close();
    fs.rmSync(state, { recursive: true, force: true });
  }
}

function runCat(file: string): number {
  const started = process.hrtime.bigint();
  execFileSync('sh', ['-c', `cat '${file}' > /dev/null`]);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** node-tail from the beginning, each line CRI-parsed: seconds until every line event arrived. */
function readWithNodeTail(file: string, lines: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    let n = 0;
    const tail = new Tail(file, { fromBeginning: true, follow: false, useWatchFile: true, fsWatchOptions: { interval: 50 } });
    tail.on('line', (line: string) => {
      if (!parseCriLine(line).ok) reject(new Error(`unparseable line: ${line.slice(0, 60)}`));
      if (++n === lines) {
        tail.unwatch();
        resolve(Number(process.hrtime.bigint() - started) / 1e9);
      }
    });
    tail.on('error', reject);
  });
}

/** The agent's reader: positioned reads, line splitting and CRI parsing, no shipping. */
function readWithDecoder(file: string, lines: number): number {
  const started = process.hrtime.bigint();
  let n = 0;
  const decoder = new FileDecoder({ format: 'cri', maxLineBytes: 256 * 1024 }, () => n++);
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.allocUnsafe(256 * 1024);
  let offset = 0;
  for (;;) {
    const got = fs.readSync(fd, buf, 0, buf.length, offset);
    if (got === 0) break;
    decoder.feed(buf.subarray(0, got), offset);
    offset += got;
  }
  fs.closeSync(fd);
  if (n !== lines) throw new Error(`decoder produced ${n} entries for ${lines} lines`);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

export async function runAgentBench(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      lines: { type: 'string', default: '1000000' },
      runs: { type: 'string', default: '3' },
      'batch-entries': { type: 'string', default: '5000' },
      'batch-bytes': { type: 'string', default: String(1024 * 1024) },
      'gzip-level': { type: 'string', default: '1' },
    },
  });
  const lines = Number(values.lines);
  const runs = Number(values.runs);
  const batch = {
    maxEntries: Number(values['batch-entries']),
    maxBytes: Number(values['batch-bytes']),
    gzipLevel: Number(values['gzip-level']),
  };
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run "make build" first`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sextant-bench-agent-'));
  const root = path.join(dir, 'pods');
  const file = path.join(root, 'bench_gen-0_0000-uid', 'app', '0.log');
  try {
    progress(`writing ${lines} lines of ${LINE_BYTES} bytes`);
    writeCriFile(file, lines);
    const agent: AgentRun[] = [];
    const cat: number[] = [];
    for (let r = 0; r < runs; r++) {
      cat.push(runCat(file));
      const a = await runAgent(root, lines, batch);
      agent.push(a);
      progress(
        `run ${r + 1}/${runs}: agent ${Math.round(a.linesPerSecond)} lines/s (${a.seconds.toFixed(2)} s, ${a.cpuSeconds.toFixed(2)} CPU-s, peak RSS ${a.peakRssMb.toFixed(0)} MB, ${a.requests} requests); cat ${cat[r]!.toFixed(3)} s`,
      );
    }
    progress('readers alone: node-tail vs the agent decoder');
    const nodeTail: number[] = [];
    const decoder: number[] = [];
    for (let r = 0; r < runs; r++) {
      nodeTail.push(await readWithNodeTail(file, lines));
      decoder.push(readWithDecoder(file, lines));
    }
    const catLinesPerSecond = lines / median(cat);
    const agentLinesPerSecond = median(agent.map((a) => a.linesPerSecond));
    const result = {
      benchmark: 'agent',
      machine: machine(),
      lines,
      lineBytes: LINE_BYTES,
      runs,
      batch,
      agent: {
        linesPerSecond: agentLinesPerSecond,
        seconds: median(agent.map((a) => a.seconds)),
        cpuSeconds: median(agent.map((a) => a.cpuSeconds)),
        linesPerCpuSecond: median(agent.map((a) => lines / a.cpuSeconds)),
        peakRssMb: median(agent.map((a) => a.peakRssMb)),
        peakRssMbMax: Math.max(...agent.map((a) => a.peakRssMb)),
        requests: median(agent.map((a) => a.requests)),
        all: agent,
      },
      cat: { seconds: median(cat), linesPerSecond: catLinesPerSecond, all: cat },
      ratioToCat: agentLinesPerSecond / catLinesPerSecond,
      readers: {
        nodeTail: { linesPerSecond: lines / median(nodeTail), all: nodeTail },
        agentDecoder: { linesPerSecond: lines / median(decoder), all: decoder },
      },
    };
    const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
    const m = result.machine;
    const markdown = `# agent benchmark

${lines.toLocaleString('en-US')} CRI lines of ${LINE_BYTES} bytes, ${runs} runs (median), batches of ${batch.maxEntries} entries / ${batch.maxBytes} bytes, gzip level ${batch.gzipLevel}.
Machine: ${m.cores} cores, ${m.cpu}, ${m.memoryGiB} GiB, Node ${m.node}.

| | lines/s | seconds | CPU-s | lines per CPU-s | peak RSS MB (median / max) |
|---|---:|---:|---:|---:|---:|
| sextant agent (tail → batch → gzip → HTTP, receiver decodes) | ${fmt(agentLinesPerSecond)} | ${result.agent.seconds.toFixed(2)} | ${result.agent.cpuSeconds.toFixed(2)} | ${fmt(result.agent.linesPerCpuSecond)} | ${result.agent.peakRssMb.toFixed(0)} / ${result.agent.peakRssMbMax.toFixed(0)} |
| cat file > /dev/null (same run) | ${fmt(catLinesPerSecond)} | ${result.cat.seconds.toFixed(3)} | | | |

Agent / cat: ${result.ratioToCat.toFixed(3)}.

Readers alone (in process, same file): node-tail + CRI parse ${fmt(result.readers.nodeTail.linesPerSecond)} lines/s (no offsets per line, so no exact checkpoints);
agent FileDecoder (positioned reads + split + CRI parse) ${fmt(result.readers.agentDecoder.linesPerSecond)} lines/s.
`;
    writeResults('agent', result, markdown);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
