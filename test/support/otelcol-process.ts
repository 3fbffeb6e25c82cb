/**
 * The real OpenTelemetry Collector for tests: a slim distribution built from the Go module
 * proxy with the collector's builder by test/infra/otelcol/build-otelcol.sh (on first use,
 * then cached under $XDG_CACHE_HOME/sextant), run as a child process with a config the test
 * writes.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BUILD_SCRIPT = path.join(ROOT, 'test/infra/otelcol/build-otelcol.sh');

/** How long a cold build may take on a loaded two-core machine (module downloads included). */
export const OTELCOL_BUILD_TIMEOUT_MS = 45 * 60_000;

/** The collector binary ($OTELCOL_BIN, else the cached build, built now if missing). */
export async function otelcolBinary(): Promise<string> {
  if (process.env.OTELCOL_BIN) return process.env.OTELCOL_BIN;
  const child = run('bash', [BUILD_SCRIPT], { maxBuffer: 64 << 20, timeout: OTELCOL_BUILD_TIMEOUT_MS });
  // The script's progress (and the Go tools' output) is on stderr: pass it through as it comes.
  child.child.stderr?.pipe(process.stderr);
  const { stdout } = await child;
  const binary = stdout.trim().split('\n').pop() ?? '';
  if (!fs.existsSync(binary)) throw new Error(`${BUILD_SCRIPT} printed no binary: ${JSON.stringify(stdout.slice(-500))}`);
  return binary;
}

export interface OtelcolProcess {
  pid: number;
  output(): string;
  /** SIGTERM (the collector drains its batches and queues, and saves its checkpoints) and wait. */
  stop(): Promise<number | null>;
}

/** Starts the collector on `config` (YAML, written to dir/otelcol.yaml) and waits until its pipelines run. */
export async function startOtelcol(
  binary: string,
  options: { dir: string; config: string; featureGates?: string[] },
): Promise<OtelcolProcess> {
  const configFile = path.join(options.dir, 'otelcol.yaml');
  fs.writeFileSync(configFile, options.config);
  const gates = options.featureGates?.length ? [`--feature-gates=${options.featureGates.join(',')}`] : [];
  const child: ChildProcess = spawn(binary, ['--config', configFile, ...gates], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  // The collector has no readiness endpoint without an extension; it logs this line once every
  // component started.
  while (!output.includes('Everything is ready')) {
    if (child.exitCode !== null) throw new Error(`otelcol exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`otelcol was not ready within 60s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    pid: child.pid!,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
