// Reads the env file that test/infra/infra.sh writes (KEY=value lines) so integration tests
// find the servers it started. Location: $SEXTANT_INFRA_RUN/env, else <repo>/.run/infra/env.
// Variables already set in the process environment win over the file.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export function infraEnvPath(): string {
  const run = process.env['SEXTANT_INFRA_RUN'] ?? join(repoDir, '.run', 'infra');
  return join(run, 'env');
}

export function parseEnvFile(text: string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    vars.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return vars;
}

let cached: Map<string, string> | undefined;

function load(): Map<string, string> {
  if (cached === undefined) {
    let text = '';
    try {
      text = readFileSync(infraEnvPath(), 'utf8');
    } catch {
      // no file: only the process environment can answer
    }
    cached = parseEnvFile(text);
  }
  return cached;
}

/** The value of NAME, or an error that says how to start the servers. */
export function infraVar(name: string): string {
  const value = process.env[name] ?? load().get(name);
  if (value === undefined || value === '') {
    throw new Error(
      `${name} is not set and not in ${infraEnvPath()}: start the servers with ` +
        '`make infra-up` (or `bash test/infra/infra.sh up`) first',
    );
  }
  return value;
}
