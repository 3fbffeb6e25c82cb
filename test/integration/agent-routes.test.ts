/**
 * `sextant agent --routes` against a real `sextant up`: routes from an operator-rendered
 * routes file (laid out like a ConfigMap volume, API keys like a Secret volume, both
 * changed by the kubelet's atomic `..data` symlink swap) appended to the config file's;
 * reloads that add a route for a running pod, rotate a route's API key (a revoked key gets
 * the receiver's real 401), reject a bad file (routes kept, counted) and remove a route
 * (its files stop shipping, its spool folder goes). Every line is counted through the
 * search API; the receiver's duplicate counter shows nothing was sent twice.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startSextant, tempDataDir, type SextantProcess } from '../support/sextant-process.js';
import {
  CLI,
  containerDir,
  criLine,
  metricSum,
  receiverMetric,
  searchAll,
  startAgentProcess,
  tempDir,
  waitFor,
  type AgentProcess,
} from '../../agent-daemonset/src/testkit/agent-process.js';

const KEYS = ['agent-routes-key-a', 'agent-routes-key-b'];
const T0_MS = Date.now() - 1_800_000;
const START_NS = BigInt(T0_MS - 60_000) * 1_000_000n;
const END_NS = BigInt(Date.now() + 3_600_000) * 1_000_000n;
const DUPLICATES = 'sextant_storage_duplicates_total{signal="logs"}';

let sextant: SextantProcess;
const cleanup: string[] = [];

test.before(async () => {
  sextant = await startSextant({ dataDir: tempDataDir('sextant-agent-routes-'), apiKey: KEYS.join(','), args: ['--sync', 'normal'] });
  cleanup.push(sextant.dataDir);
});

test.after.always(async () => {
  await sextant?.stop();
  for (const dir of cleanup) fs.rmSync(dir, { recursive: true, force: true });
});

/** A kubelet-style projected volume: files under a timestamped folder behind the `..data` symlink, swapped atomically. */
class Volume {
  private version = 0;
  constructor(readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
  }
  path(name: string): string {
    return path.join(this.dir, name);
  }
  write(files: Record<string, string>): void {
    const folder = `..2026_11_27_03_00_00.${++this.version}`;
    fs.mkdirSync(path.join(this.dir, folder));
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(this.dir, folder, name), text);
    fs.symlinkSync(folder, path.join(this.dir, '..data_tmp'));
    fs.renameSync(path.join(this.dir, '..data_tmp'), path.join(this.dir, '..data'));
    for (const name of Object.keys(files)) {
      if (!fs.existsSync(this.path(name))) fs.symlinkSync(path.join('..data', name), this.path(name));
    }
  }
}

function routesYaml(routes: Array<{ name: string; namespaces: string[]; keyFile?: string; endpoint?: string }>): string {
  return `routes:\n${routes
    .map(
      (r) =>
        `  - name: ${r.name}\n    endpoint: ${r.endpoint ?? sextant.url}\n    namespaces: [${r.namespaces.join(', ')}]\n` +
        (r.keyFile ? `    apiKey: { file: ${r.keyFile} }\n` : ''),
    )
    .join('')}`;
}

async function stored(ns: string): Promise<string[]> {
  return (await searchAll(sextant.url, KEYS[0]!, `{namespace="${ns}"}`, START_NS, END_NS)).map((e) => e.message);
}

async function waitStored(ns: string, n: number): Promise<string[]> {
  const found = await waitFor(
    `${n} entries of ${ns}`,
    async () => {
      const messages = await stored(ns);
      return messages.length >= n ? messages : undefined;
    },
    60_000,
    200,
  );
  return found!;
}

async function reloads(agent: AgentProcess, result: 'ok' | 'error'): Promise<number> {
  return metricSum(await agent.metrics(), 'sextant_agent_config_reloads_total', `result="${result}"`);
}

test.serial('routes file: appended to the config routes, reloaded on a ConfigMap swap; add, key rotation, bad file, remove', async (t) => {
  const base = tempDir('agent-it-routes-');
  cleanup.push(base);
  const root = path.join(base, 'pods');
  const routesVol = new Volume(path.join(base, 'routes'));
  const keysVol = new Volume(path.join(base, 'route-keys'));
  keysVol.write({ 'team-a': KEYS[0]!, 'team-b': KEYS[1]! });
  routesVol.write({ 'routes.yaml': routesYaml([{ name: 'team-a', namespaces: ['team-a'], keyFile: keysVol.path('team-a') }]) });

  const files = {
    platform: path.join(containerDir(root, 'platform', 'dns-0', 'dns'), '0.log'),
    a: path.join(containerDir(root, 'team-a', 'api-0', 'api'), '0.log'),
    b: path.join(containerDir(root, 'team-b', 'web-0', 'web'), '0.log'),
  };
  let i = 0;
  const write = (file: keyof typeof files, n: number, tag: string) => {
    const lines: string[] = [];
    for (let k = 0; k < n; k++) lines.push(criLine(T0_MS, i++, `${file} ${tag} ${k}`));
    fs.appendFileSync(files[file], lines.join(''));
  };
  write('platform', 100, 'start');
  write('a', 1000, 'start');
  write('b', 1000, 'start');
  const dupBefore = await receiverMetric(sextant.url, DUPLICATES);

  const agent = await startAgentProcess({
    root,
    stateDir: path.join(base, 'state'),
    config: {
      routes: [{ name: 'platform', endpoint: sextant.url, apiKey: { value: KEYS[0] }, namespaces: ['platform'] }],
      tail: { pollInterval: '50ms', rescanInterval: '200ms' },
      batch: { maxEntries: 500, maxWait: '100ms' },
      routesFile: { pollInterval: '200ms', drainTimeout: '5s' },
    },
    args: ['--routes', routesVol.path('routes.yaml')],
  });
  try {
    // Both sources of routes are in force; team-b matches none.
    t.is((await waitStored('platform', 100)).length, 100);
    t.is((await waitStored('team-a', 1000)).length, 1000);
    await waitFor('team-b counted as unrouted', async () => metricSum(await agent.metrics(), 'sextant_agent_lines_unrouted_total') >= 1000);
    t.deepEqual(await stored('team-b'), []);
    let m = await agent.metrics();
    t.is(metricSum(m, 'sextant_agent_routes', 'source="config"'), 1);
    t.is(metricSum(m, 'sextant_agent_routes', 'source="routes_file"'), 1);

    // Add team-b (the pod runs already: the lines read while it was unrouted ship, then the new ones).
    routesVol.write({
      'routes.yaml': routesYaml([
        { name: 'team-a', namespaces: ['team-a'], keyFile: keysVol.path('team-a') },
        { name: 'team-b', namespaces: ['team-b'], keyFile: keysVol.path('team-b') },
      ]),
    });
    await waitFor('reload 1', async () => (await reloads(agent, 'ok')) === 1);
    write('b', 500, 'added');
    write('a', 500, 'added');
    t.deepEqual(
      (await waitStored('team-b', 1500)).sort(),
      [...Array.from({ length: 1000 }, (_, k) => `b start ${k}`), ...Array.from({ length: 500 }, (_, k) => `b added ${k}`)].sort(),
    );
    t.is((await waitStored('team-a', 1500)).length, 1500);

    // Rotate team-a's key in the Secret only (routes.yaml unchanged) to a revoked one: the
    // receiver answers 401, the entries are dropped and counted; rotating back ships again.
    keysVol.write({ 'team-a': 'revoked-key', 'team-b': KEYS[1]! });
    await waitFor('reload 2 (key rotated)', async () => (await reloads(agent, 'ok')) === 2);
    write('a', 10, 'revoked');
    await waitFor(
      'the 10 entries dropped with 401',
      async () => metricSum(await agent.metrics(), 'sextant_agent_entries_dropped_total', 'route="team-a",reason="http_401"') === 10,
    );
    keysVol.write({ 'team-a': KEYS[1]!, 'team-b': KEYS[1]! });
    await waitFor('reload 3 (key rotated back)', async () => (await reloads(agent, 'ok')) === 3);
    write('a', 100, 'rotated');
    t.is((await waitStored('team-a', 1600)).length, 1600);

    // A bad file: the routes in force stay, the error is counted once and logged with its path.
    routesVol.write({
      'routes.yaml': 'routes:\n  - { name: team-a, endpoint: "not a url" }\n  - { name: platform, endpoint: http://x }\n',
    });
    await waitFor('the rejection', async () => (await reloads(agent, 'error')) === 1);
    m = await agent.metrics();
    t.is(metricSum(m, 'sextant_agent_config_last_reload_successful'), 0);
    write('b', 100, 'kept');
    t.is((await waitStored('team-b', 1600)).length, 1600);
    t.regex(agent.output(), /routes file rejected/);
    t.regex(agent.output(), /routes\[0\]\.endpoint: not a URL/);
    t.regex(agent.output(), /routes\[1\]\.name: duplicate route name \\"platform\\"/);
    t.is(await reloads(agent, 'error'), 1, 'polled again, counted once');

    // Remove team-b: its lines stop shipping, its spool folder goes.
    routesVol.write({ 'routes.yaml': routesYaml([{ name: 'team-a', namespaces: ['team-a'], keyFile: keysVol.path('team-a') }]) });
    await waitFor('reload 4 (team-b removed)', async () => (await reloads(agent, 'ok')) === 4);
    t.is(metricSum(await agent.metrics(), 'sextant_agent_config_last_reload_successful'), 1);
    await waitFor('the team-b spool folder removed', () => !fs.existsSync(path.join(base, 'state', 'spool', 'team-b')), 10_000);
    const unroutedBefore = metricSum(await agent.metrics(), 'sextant_agent_lines_unrouted_total');
    write('b', 50, 'removed');
    write('a', 50, 'after');
    t.is((await waitStored('team-a', 1650)).length, 1650);
    await waitFor(
      'the 50 team-b lines counted as unrouted',
      async () => metricSum(await agent.metrics(), 'sextant_agent_lines_unrouted_total') === unroutedBefore + 50,
    );
    t.is((await stored('team-b')).length, 1600);

    t.is((await receiverMetric(sextant.url, DUPLICATES)) - dupBefore, 0, 'no entry reached the ingestion twice');
    const a = await stored('team-a');
    t.is(new Set(a).size, a.length);
    t.false(
      a.some((x) => x.includes('revoked')),
      'entries refused with 401 were not stored',
    );
  } finally {
    await agent.stop();
  }
});

test('a bad routes file at start: exit 2, every error with its path and the file named', (t) => {
  const base = tempDir('agent-it-routes-bad-');
  cleanup.push(base);
  const config = path.join(base, 'agent.json');
  fs.writeFileSync(config, JSON.stringify({ routes: [{ name: 'dup', endpoint: 'http://x' }] }));
  const routes = path.join(base, 'routes.yaml');
  fs.writeFileSync(
    routes,
    'routes:\n  - { name: dup, endpoint: http://y }\n  - { name: b, endpoint: ftp://z, apiKey: { file: /nonexistent } }\n',
  );
  const run = spawnSync(process.execPath, [CLI, 'agent', '--config', config, '--root', base, '--state-dir', base, '--kube', 'off'], {
    env: { ...process.env, SEXTANT_AGENT_ROUTES: routes },
    encoding: 'utf8',
  });
  t.is(run.status, 2, run.stderr);
  t.true(run.stderr.includes(`invalid configuration in ${routes}:`), run.stderr);
  t.regex(
    run.stderr,
    new RegExp(`routes\\[0\\]\\.name: duplicate route name "dup" \\(already a route in ${config.replace(/[.]/g, '\\.')}\\)`),
  );
  t.regex(run.stderr, /routes\[1\]\.endpoint: must be http\(s\), got ftp:/);
  t.regex(run.stderr, /routes\[1\]\.apiKey\.file: cannot read \/nonexistent: ENOENT/);
});
