/**
 * Builds (once, cached by the hash of its sources) and runs the Go PromQL oracle of
 * test/promql-oracle: the real Prometheus engine evaluating a corpus over a data set.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { DataSeries } from './data.js';
import type { Evaluation } from './corpus.js';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SOURCE = path.join(ROOT, 'test/promql-oracle');

/** The oracle binary: $XDG_CACHE_HOME (~/.cache)/sextant/promql-oracle-<hash of go.mod, go.sum, *.go>. */
export async function oracleBinary(): Promise<string> {
  const hash = createHash('sha256');
  for (const file of fs.readdirSync(SOURCE).sort()) {
    if (file === 'go.mod' || file === 'go.sum' || file.endsWith('.go')) hash.update(file).update(fs.readFileSync(path.join(SOURCE, file)));
  }
  const dir = path.join(process.env['XDG_CACHE_HOME'] ?? path.join(os.homedir(), '.cache'), 'sextant');
  const binary = path.join(dir, `promql-oracle-${hash.digest('hex').slice(0, 16)}`);
  if (fs.existsSync(binary)) return binary;
  fs.mkdirSync(dir, { recursive: true });
  const partial = `${binary}.${process.pid}.tmp`;
  // -mod=mod: the build resolves everything from go.sum and the module proxy alone.
  await run('go', ['build', '-o', partial, '.'], {
    cwd: SOURCE,
    env: { ...process.env, GOFLAGS: '-mod=mod -buildvcs=false' },
    maxBuffer: 64 << 20,
  });
  fs.renameSync(partial, binary);
  return binary;
}

export interface OracleQuery {
  id: string;
  query: string;
  evaluation: Evaluation;
}

/** One answer, times in ms and values as strings ("NaN", "+Inf", …). */
export type OracleAnswer =
  | { id: string; status: 'success'; resultType: 'scalar' | 'string'; result: { t?: number; v?: string } }
  | { id: string; status: 'success'; resultType: 'vector'; result: { metric: Record<string, string>; t?: number; v: string }[] }
  | { id: string; status: 'success'; resultType: 'matrix'; result: { metric: Record<string, string>; values: [number, string][] }[] }
  | { id: string; status: 'error'; errorType: string; error: string };

export async function runOracle(
  series: DataSeries[],
  queries: OracleQuery[],
  benchRuns = 0,
): Promise<Map<string, OracleAnswer & { nanos?: number }>> {
  const binary = await oracleBinary();
  const input = JSON.stringify({
    series: series.map((s) => ({ labels: s.labels, samples: s.samples.map(([t, v]) => [t, String(v)]) })),
    queries: queries.map((q) => ({ id: q.id, query: q.query, ...q.evaluation })),
  });
  const file = path.join(os.tmpdir(), `promql-oracle-input-${process.pid}.json`);
  fs.writeFileSync(file, input);
  try {
    const { stdout } = await run('sh', ['-c', `"$0" ${benchRuns > 0 ? `-bench ${benchRuns}` : ''} < "$1"`, binary, file], {
      maxBuffer: 1 << 30,
    });
    const answers = JSON.parse(stdout) as (OracleAnswer & { nanos?: number })[];
    return new Map(answers.map((a) => [a.id, a]));
  } finally {
    fs.rmSync(file, { force: true });
  }
}
