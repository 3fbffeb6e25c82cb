/** The `sextant` CLI as users meet it: help, flag errors, config errors, generated keys. */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CLI, startSextant, tempDataDir } from '../support/sextant-process.js';

function sextant(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('--help on the command and the subcommand', (t) => {
  const top = sextant(['--help']);
  t.is(top.code, 0);
  t.regex(top.stdout, /Usage: sextant <command> \[options\]/);
  t.regex(top.stdout, /up\s+run ingestion, processor and query in one process/);
  const up = sextant(['up', '--help']);
  t.is(up.code, 0);
  t.regex(up.stdout, /-p, --port <n>\s+HTTP port \(env SEXTANT_PORT, default 8080\)/);
  t.is(sextant(['help', 'up']).stdout, up.stdout);
  t.regex(sextant(['--version']).stdout, /^\d+\.\d+\.\d+\n$/);
});

test('unknown commands and bad flags exit 2 with the reason', (t) => {
  const unknown = sextant(['frobnicate']);
  t.is(unknown.code, 2);
  t.regex(unknown.stderr, /unknown command "frobnicate"/);
  const flag = sextant(['up', '--prot', '1']);
  t.is(flag.code, 2);
  t.regex(flag.stderr, /Unknown option '--prot'/);
  const port = sextant(['up', '--port', 'http']);
  t.is(port.code, 2);
  t.regex(port.stderr, /invalid --port "http": expected 0-65535/);
  const sync = sextant(['up', '--sync', 'sometimes']);
  t.is(sync.code, 2);
  t.regex(sync.stderr, /invalid --sync "sometimes": expected full or normal/);
});

test('a bad config file fails at startup listing every error with its path', (t) => {
  const dir = tempDataDir();
  const file = path.join(dir, 'config.yaml');
  fs.writeFileSync(
    file,
    [
      'processors:',
      '  - parse: { format: yaml }',
      '  - redact: { detectors: [email], patterns: ["("] }',
      '  - sampel: { rate: 0.5 }',
      'limits: { maxLabels: "many" }',
      'extra: 1',
    ].join('\n'),
  );
  const r = sextant(['up', '--port', '0', '--data-dir', dir, '--config', file]);
  t.is(r.code, 2);
  t.regex(r.stderr, /invalid configuration in .*config\.yaml/);
  t.regex(r.stderr, /extra: unknown field/);
  t.regex(r.stderr, /limits\.maxLabels: expected number, got "many"/);
  // Stage errors come after the file's own shape is valid.
  fs.writeFileSync(
    file,
    ['processors:', '  - parse: { format: yaml }', '  - redact: { detectors: [email], patterns: ["("] }', '  - sampel: { rate: 0.5 }'].join(
      '\n',
    ),
  );
  const stages = sextant(['up', '--port', '0', '--data-dir', dir, '--config', file]);
  t.is(stages.code, 2);
  t.regex(stages.stderr, /processors\[0\]\.parse\.format/);
  t.regex(stages.stderr, /processors\[1\]\.redact\.patterns\[0\]: invalid regular expression/);
  t.regex(stages.stderr, /processors\[2\]: unknown stage "sampel"/);
});

test('without SEXTANT_API_KEYS a key is generated once, stored 0600, and reused', async (t) => {
  const dataDir = tempDataDir();
  const env = { SEXTANT_API_KEYS: '' };
  const first = await startSextant({ dataDir, apiKey: '', env });
  const keyFile = path.join(dataDir, 'api-key');
  const key = fs.readFileSync(keyFile, 'utf8').trim();
  t.regex(key, /^sx_[A-Za-z0-9_-]{32}$/);
  t.is(fs.statSync(keyFile).mode & 0o777, 0o600);
  t.true(first.output().includes(key), 'shown once on the terminal');
  const ready = await fetch(`${first.url}/readyz`);
  t.is(ready.status, 200);
  const res = await fetch(`${first.url}/api/v1/labels`, { headers: { authorization: `Bearer ${key}` } });
  t.is(res.status, 200);
  t.is(await first.stop(), 0);
  const second = await startSextant({ dataDir, apiKey: '', env });
  t.false(second.output().includes(key), 'not shown again');
  t.is((await fetch(`${second.url}/api/v1/labels`, { headers: { authorization: `Bearer ${key}` } })).status, 200);
  t.is((await fetch(`${second.url}/api/v1/labels`)).status, 401);
  await second.stop();
});
