/**
 * Test support: `sextant agent` as a child process (the built CLI in dist/), a pods log
 * folder in a temp dir with CRI line writers, and readers of the receiver's native search
 * API and of Prometheus text metrics.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const CLI = path.join(ROOT, 'dist/runtime/src/cli/main.js');

export interface AgentProcess {
  port: number;
  child: ChildProcess;
  output(): string;
  metrics(): Promise<Map<string, number>>;
  stop(): Promise<number | null>;
  kill(): Promise<void>;
}

export async function startAgentProcess(options: {
  root: string;
  stateDir: string;
  config: object;
  env?: Record<string, string>;
  args?: string[];
}): Promise<AgentProcess> {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run "make build" first`);
  fs.mkdirSync(options.stateDir, { recursive: true });
  const configFile = path.join(options.stateDir, '..', `agent-config-${path.basename(options.stateDir)}.json`);
  fs.writeFileSync(configFile, JSON.stringify(options.config));
  const child = spawn(
    process.execPath,
    [
      CLI,
      'agent',
      '--config',
      configFile,
      '--root',
      options.root,
      '--state-dir',
      options.stateDir,
      '--port',
      '0',
      '--kube',
      'off',
      '--node-name',
      'it-node',
      ...(options.args ?? []),
    ],
    { env: { ...process.env, SEXTANT_LOG_LEVEL: 'warn', ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`agent did not start within 30s:\n${output}`)), 30_000);
    const check = () => {
      const m = /sextant agent is up on port (\d+)/.exec(output);
      if (m) {
        clearTimeout(deadline);
        resolve(Number(m[1]));
      }
    };
    child.stderr!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(deadline);
      reject(new Error(`agent exited with ${code} before listening:\n${output}`));
    });
  });
  return {
    port,
    child,
    output: () => output,
    metrics: async () => parseMetrics(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()),
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Prometheus text → "name{labels}" → value (labels as printed). */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}

/** Sum of every series of `name` (any labels) in parsed metrics. */
export function metricSum(m: Map<string, number>, name: string, labelFilter = ''): number {
  let sum = 0;
  for (const [key, value] of m) {
    if ((key === name || key.startsWith(`${name}{`)) && key.includes(labelFilter)) sum += value;
  }
  return sum;
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** The folder of one container's logs under the pods root. */
export function containerDir(root: string, namespace: string, pod: string, container: string, uid = `${pod}-uid`): string {
  const dir = path.join(root, `${namespace}_${pod}_${uid}`, container);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** RFC 3339 with ns of t0 + i µs (unique, increasing timestamps per line). */
export function criTime(t0Ms: number, i: number): string {
  const ns = BigInt(t0Ms) * 1_000_000n + BigInt(i) * 1000n;
  return `${new Date(Number(ns / 1_000_000n)).toISOString().slice(0, 19)}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}Z`;
}

export function criLine(t0Ms: number, i: number, message: string, tag: 'F' | 'P' = 'F', stream = 'stdout'): string {
  return `${criTime(t0Ms, i)} ${stream} ${tag} ${message}\n`;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `condition` until it returns a truthy value or the deadline passes. */
export async function waitFor<T>(what: string, condition: () => Promise<T> | T, timeoutMs = 60_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface StoredEntry {
  timestamp: string;
  labels: Record<string, string>;
  message: string;
  fields: Record<string, unknown>;
}

/** Every entry matching `query` in [startNs, endNs) through the native search API, forward, following cursors. */
export async function searchAll(url: string, key: string, query: string, startNs: bigint, endNs: bigint): Promise<StoredEntry[]> {
  const out: StoredEntry[] = [];
  let cursor: string | undefined;
  do {
    const params = new URLSearchParams({
      query,
      start: startNs.toString(),
      end: endNs.toString(),
      direction: 'forward',
      limit: '5000',
      ...(cursor ? { cursor } : {}),
    });
    const res = await fetch(`${url}/api/v1/logs/search?${params}`, { headers: { authorization: `Bearer ${key}` } });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`search → ${res.status}: ${text}`);
    const page = JSON.parse(text) as { entries: StoredEntry[]; nextCursor?: string };
    out.push(...page.entries);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

/** A receiver's own metric (e.g. sextant_storage_duplicates_total{signal="logs"}). */
export async function receiverMetric(url: string, series: string): Promise<number> {
  const m = parseMetrics(await (await fetch(`${url}/metrics`)).text());
  return m.get(series) ?? 0;
}
