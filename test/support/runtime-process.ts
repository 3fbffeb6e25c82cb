/**
 * Starts a distributed runtime (`sextant ingestion|processor|query --config <file>`, the built CLI
 * in dist/) as a child process for integration tests, and waits until it listens.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import type { Component } from '../../runtime/src/cli/runtime.js';
import { CLI } from './sextant-process.js';

export interface RuntimeProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  /** SIGTERM and wait for exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
}

export async function startRuntime(component: Component, configFile: string, env: Record<string, string> = {}): Promise<RuntimeProcess> {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run "make build" first`);
  const child = spawn(process.execPath, [CLI, component, '--config', configFile], {
    env: { ...process.env, SEXTANT_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`sextant ${component} did not start within 60s:\n${output}`)), 60_000);
    const check = () => {
      const match = new RegExp(`sextant ${component} is up on (https?://[^\\s]+)`).exec(output);
      if (match) {
        clearTimeout(deadline);
        resolve(match[1]!);
      }
    };
    child.stderr!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(deadline);
      reject(new Error(`sextant ${component} exited with ${code} before listening:\n${output}`));
    });
  });
  return {
    url,
    child,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
