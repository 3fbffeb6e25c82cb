/**
 * Runs a real Prometheus server (Debian's /usr/bin/prometheus, or $PROMETHEUS_BIN, or the
 * `binary` given, e.g. prometheus3.ts's build) as a child process for tests: its own port and data directory, a config written by the test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export const PROMETHEUS_BIN = process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus';

export interface PrometheusProcess {
  url: string;
  pid: number;
  output(): string;
  /** SIGTERM (Prometheus flushes its remote-write queues and closes the WAL) and wait. */
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function startPrometheus(options: {
  dataDir: string;
  port: number;
  config: string;
  args?: string[];
  binary?: string;
}): Promise<PrometheusProcess> {
  const configFile = path.join(options.dataDir, 'prometheus.yml');
  fs.writeFileSync(configFile, options.config);
  const url = `http://127.0.0.1:${options.port}`;
  const child: ChildProcess = spawn(
    options.binary ?? PROMETHEUS_BIN,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${path.join(options.dataDir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${options.port}`,
      '--log.level=warn',
      ...(options.args ?? []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}:\n${output}`);
    try {
      if ((await fetch(`${url}/-/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`prometheus was not ready within 60s:\n${output}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    pid: child.pid!,
    output: () => output,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
