/**
 * Starts the real `sextant up` (the built CLI in dist/) as a child process for integration
 * tests and benchmarks, and waits until it listens.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(ROOT, 'dist/runtime/src/cli/main.js');

export interface SextantProcess {
  url: string;
  child: ChildProcess;
  dataDir: string;
  /** Everything the process wrote to stderr and stdout so far (for failure messages). */
  output(): string;
  /** SIGTERM and wait for exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
}

export function tempDataDir(prefix = 'sextant-it-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function startSextant(options: {
  dataDir: string;
  apiKey: string;
  args?: string[];
  env?: Record<string, string>;
}): Promise<SextantProcess> {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run "make build" first`);
  const child = spawn(process.execPath, [CLI, 'up', '--port', '0', '--data-dir', options.dataDir, ...(options.args ?? [])], {
    env: { ...process.env, SEXTANT_API_KEYS: options.apiKey, SEXTANT_LOG_LEVEL: 'warn', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`sextant up did not start within 30s:\n${output}`)), 30_000);
    const check = () => {
      const match = /sextant is up on (http:\/\/[^\s]+)/.exec(output);
      if (match) {
        clearTimeout(deadline);
        resolve(match[1]!);
      }
    };
    child.stderr!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(deadline);
      reject(new Error(`sextant up exited with ${code} before listening:\n${output}`));
    });
  });
  return {
    url,
    child,
    dataDir: options.dataDir,
    output: () => output,
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
