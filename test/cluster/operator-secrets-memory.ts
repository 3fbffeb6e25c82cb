/**
 * Measures what the operator's Secret cache costs in memory (issue 5, docs/architecture.md §6): the heap
 * and RSS of `sextant operator` once its Secret informer has synced, without and then with
 * `--count` extra Secrets of `--size` bytes in the real API server (infra `kube`).
 *
 *   npx tsx test/cluster/operator-secrets-memory.ts [--count 200] [--size 51200] [--cli <main.js>]...
 *
 * Each --cli is one build of the CLI (default dist/runtime/src/cli/main.js), so an old and a
 * new build can be compared on the same cluster. Not a test (memory figures vary with the
 * machine); it prints a table.
 *
 * The operator runs with a ServiceAccount that may only read Secrets: its other caches fail
 * with 403, so it never becomes ready and never reconciles — it cannot disturb Pipelines of
 * tests running at the same time — while the Secret cache syncs as usual. The process runs
 * with --expose-gc and a preload that collects every 500 ms, so the figures are live data,
 * not garbage waiting for the next collection.
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import YAML from 'yaml';
import { deleteNamespace, getJson, kubectl, uniqueName, until } from '../support/kube.js';
import { REPO } from '../support/operator-process.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '200' },
    size: { type: 'string', default: String(50 * 1024) },
    cli: { type: 'string', multiple: true },
  },
});
const count = Number(values.count);
const size = Number(values.size);
const clis = (values.cli ?? [path.join(REPO, 'dist/runtime/src/cli/main.js')]).map((c) => path.resolve(c));
if (!Number.isInteger(count) || count < 0) throw new Error(`--count: expected a non-negative integer, got "${values.count}"`);
if (!Number.isInteger(size) || size < 1) throw new Error(`--size: expected a positive integer, got "${values.size}"`);
for (const cli of clis) if (!fs.existsSync(cli)) throw new Error(`--cli ${cli}: no such file (build it with tsc first)`);

const ns = uniqueName('sextant-secmem');
const sa = 'secret-reader';
const role = `${ns}-secret-reader`;

function tokenKubeconfig(): string {
  const admin = getJson<{ clusters: { cluster: Record<string, unknown> }[] }>(['config', 'view', '--raw', '--minify']);
  const token = kubectl(['-n', ns, 'create', 'token', sa, '--duration', '1h']).trim();
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sextant-secmem-')), 'kubeconfig');
  fs.writeFileSync(
    file,
    YAML.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'test', cluster: admin.clusters[0]!.cluster }],
      users: [{ name: 'reader', user: { token } }],
      contexts: [{ name: 'reader', context: { cluster: 'test', user: 'reader' } }],
      'current-context': 'reader',
    }),
    { mode: 0o600 },
  );
  return file;
}

interface Sample {
  heapUsedMiB: number;
  rssMiB: number;
}

const GC_PRELOAD = `data:text/javascript,${encodeURIComponent('setInterval(() => globalThis.gc(), 500).unref();')}`;

async function measure(cli: string, kubeconfig: string): Promise<Sample> {
  const child = spawn(
    process.execPath,
    ['--expose-gc', `--import=${GC_PRELOAD}`, cli, 'operator', '--port', '0', '--kubeconfig', kubeconfig, '--namespace', ns],
    {
      env: { ...process.env, SEXTANT_LOG_LEVEL: process.env.SEXTANT_LOG_LEVEL ?? 'error', SEXTANT_OPERATOR_LEADER_ELECT: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  try {
    const url = await until('the operator listens', () => /is up on (http:\/\/\S+) /.exec(output)?.[1], 60_000);
    // /readyz names the caches not synced yet: wait until "secrets" is not among them.
    await until(
      'the Secret cache synced',
      async () => {
        const body = await (await fetch(`${url}/readyz`)).text();
        const missing = /caches not synced: (.*)/.exec(body)?.[1]?.split(', ') ?? [];
        return missing.includes('secrets') ? undefined : true;
      },
      120_000,
    );
    const samples: Sample[] = [];
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 1_000));
      const text = await (await fetch(`${url}/metrics`)).text();
      const metric = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
      samples.push({
        heapUsedMiB: metric('sextant_process_nodejs_heap_size_used_bytes') / 2 ** 20,
        rssMiB: metric('sextant_process_process_resident_memory_bytes') / 2 ** 20,
      });
    }
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    return { heapUsedMiB: median(samples.map((s) => s.heapUsedMiB)), rssMiB: median(samples.map((s) => s.rssMiB)) };
  } catch (error) {
    throw new Error(`${cli}: ${(error as Error).message}\n${output.slice(-4000)}`);
  } finally {
    child.kill('SIGKILL');
  }
}

async function main(): Promise<void> {
  kubectl(['create', 'namespace', ns]);
  kubectl(['-n', ns, 'create', 'serviceaccount', sa]);
  kubectl(['create', 'clusterrole', role, '--verb=get,list,watch', '--resource=secrets']);
  kubectl(['create', 'clusterrolebinding', role, `--clusterrole=${role}`, `--serviceaccount=${ns}:${sa}`]);
  const kubeconfig = tokenKubeconfig();
  try {
    const rows: string[] = [];
    const clusterSecrets = () => kubectl(['get', 'secrets', '-A', '--no-headers']).trim().split('\n').filter(Boolean).length;
    const run = async (label: string) => {
      for (const cli of clis) {
        const s = await measure(cli, kubeconfig);
        rows.push(
          `${label.padEnd(34)} ${path.relative(REPO, cli).padEnd(40)} heap ${s.heapUsedMiB.toFixed(1).padStart(7)} MiB  rss ${s.rssMiB.toFixed(1).padStart(7)} MiB`,
        );
        console.log(rows.at(-1));
      }
    };
    await run(`baseline (${clusterSecrets()} Secrets)`);
    // kubectl create, not apply: apply would copy every Secret into an annotation.
    for (let start = 0; start < count; start += 20) {
      const items = [];
      for (let i = start; i < Math.min(count, start + 20); i++)
        items.push({
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: `blob-${i}`, namespace: ns },
          data: { blob: crypto.randomBytes(size).toString('base64') },
        });
      kubectl(['create', '-f', '-'], YAML.stringify({ apiVersion: 'v1', kind: 'List', items }));
    }
    await run(`+${count} x ${size} B (${clusterSecrets()} Secrets)`);
    console.log(`\n${rows.join('\n')}`);
  } finally {
    fs.rmSync(path.dirname(kubeconfig), { recursive: true, force: true });
    kubectl(['delete', 'clusterrolebinding', role, '--ignore-not-found']);
    kubectl(['delete', 'clusterrole', role, '--ignore-not-found']);
    deleteNamespace(ns);
  }
}

await main();
