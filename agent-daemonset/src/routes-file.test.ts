import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../runtime/src/common/index.js';
import { ConfigError, resolveAgentConfig, resolveRoutesFile, type RouteConfig } from './config.js';
import { AgentMetrics } from './metrics.js';
import { loadRoutesFile, RoutesFileWatcher } from './routes-file.js';

const base = resolveAgentConfig(
  {
    routes: [{ name: 'platform', endpoint: 'http://platform:8080', namespaces: ['kube-system'] }],
    batch: { maxEntries: 77 },
  },
  'agent.yaml',
);

/** A ConfigMap volume as the kubelet writes it: <dir>/routes.yaml → ..data/routes.yaml, ..data → a timestamped folder. */
class ConfigMapVolume {
  private version = 0;
  constructor(readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
  }
  get file(): string {
    return path.join(this.dir, 'routes.yaml');
  }
  write(text: string): void {
    const folder = `..2026_11_27_${String(++this.version).padStart(4, '0')}`;
    fs.mkdirSync(path.join(this.dir, folder));
    fs.writeFileSync(path.join(this.dir, folder, 'routes.yaml'), text);
    // Same mtime as the first version: a poll must not rely on it.
    fs.utimesSync(path.join(this.dir, folder, 'routes.yaml'), new Date(1_700_000_000_000), new Date(1_700_000_000_000));
    fs.symlinkSync(folder, path.join(this.dir, '..data_tmp'));
    fs.renameSync(path.join(this.dir, '..data_tmp'), path.join(this.dir, '..data')); // the atomic swap
    if (!fs.existsSync(this.file)) fs.symlinkSync('..data/routes.yaml', this.file);
  }
}

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'agent-routes-'));
}

test('routes of the routes file: config file batch as default, keys from files, selectors', (t) => {
  const dir = tmp();
  fs.writeFileSync(path.join(dir, 'team-a'), 'key-a\n');
  const routes = resolveRoutesFile(
    `routes:
  - name: team-a
    endpoint: http://api-ingestion.team-a:8080/
    apiKey: { file: ${path.join(dir, 'team-a')} }
    namespaces: [team-a]
    podSelector: { matchLabels: { app: api } }
`,
    'routes.yaml',
    base,
    'agent.yaml',
  );
  t.is(routes.length, 1);
  t.is(routes[0]!.endpoint, 'http://api-ingestion.team-a:8080');
  t.is(routes[0]!.apiKey, 'key-a');
  t.is(routes[0]!.batch.maxEntries, 77);
  t.true(routes[0]!.match.matches({ namespace: 'team-a', pod: 'p', container: 'c', labels: { app: 'api' } }));
  t.false(routes[0]!.match.matches({ namespace: 'team-a', pod: 'p', container: 'c', labels: { app: 'db' } }));
  t.deepEqual(resolveRoutesFile('', 'routes.yaml', base, 'agent.yaml'), []);
  t.deepEqual(resolveRoutesFile('routes: []', 'routes.yaml', base, 'agent.yaml'), []);
});

test('routes file errors: all at once, with paths, the file named; a name of the config file is a duplicate', (t) => {
  const error = t.throws(
    () =>
      resolveRoutesFile(
        `routes:
  - { name: platform, endpoint: http://x }
  - { name: b, endpoint: nope, apiKey: { file: /nonexistent/key } }
  - { name: b, endpoint: http://y, pods: ["("] }
batch: { maxEntries: 1 }
`,
        '/etc/sextant-agent/routes/routes.yaml',
        base,
        'agent.yaml',
      ),
    { instanceOf: ConfigError },
  ) as ConfigError;
  t.is(error.source, '/etc/sextant-agent/routes/routes.yaml');
  t.deepEqual(error.errors, [
    'batch: unknown field (expected routes)',
    'routes[0].name: duplicate route name "platform" (already a route in agent.yaml)',
    'routes[1].endpoint: not a URL: "nope"',
    'routes[1].apiKey.file: cannot read /nonexistent/key: ENOENT',
    'routes[2].name: duplicate route name "b"',
    'routes[2].pods[0]: invalid regular expression "(": missing closing ) (RE2 syntax; backreferences and lookaround assertions are unsupported)',
  ]);
  const typeError = t.throws(() => resolveRoutesFile('routes: [{ name: 3 }]', 'r.yaml', base, 'agent.yaml'), {
    instanceOf: ConfigError,
  }) as ConfigError;
  t.true(
    typeError.errors.some((e) => /^routes\[0\]\S*name: expected string, got 3$/.test(e)),
    typeError.message,
  );
  t.throws(() => resolveRoutesFile('routes: [', 'r.yaml', base, 'agent.yaml'), { message: /r\.yaml:\n {2}not valid YAML/ });
});

test('loadRoutesFile: a missing file is no routes (not rendered yet); an unreadable one is an error', (t) => {
  const dir = tmp();
  t.deepEqual(loadRoutesFile(path.join(dir, 'routes.yaml'), base, 'agent.yaml'), { routes: [], missing: true });
  t.throws(() => loadRoutesFile(dir, base, 'agent.yaml'), { instanceOf: ConfigError, message: /cannot read file/ });
});

function watcher(file: string, initial: RouteConfig[]) {
  const metrics = new AgentMetrics();
  const applied: string[][] = [];
  const w = new RoutesFileWatcher({
    file,
    base,
    baseSource: 'agent.yaml',
    initial,
    metrics,
    log: silentLogger(),
    apply: async (routes) => {
      applied.push(routes.map((r) => `${r.name}=${r.endpoint}`));
    },
  });
  const reloads = async (result: string) =>
    (await metrics.registry.getSingleMetric('sextant_agent_config_reloads_total')!.get()).values.find((v) => v.labels.result === result)
      ?.value ?? 0;
  const lastOk = async () =>
    (await metrics.registry.getSingleMetric('sextant_agent_config_last_reload_successful')!.get()).values[0]!.value;
  return { w, applied, reloads, lastOk };
}

test('watcher: a ConfigMap symlink swap is seen (same mtime); a bad version keeps the routes and is counted once', async (t) => {
  const vol = new ConfigMapVolume(path.join(tmp(), 'routes'));
  vol.write('routes: [{ name: a, endpoint: "http://a:1" }]\n');
  const { routes } = loadRoutesFile(vol.file, base, 'agent.yaml');
  const { w, applied, reloads, lastOk } = watcher(vol.file, routes);
  await w.check();
  t.deepEqual(applied, [], 'unchanged: nothing applied');

  vol.write('routes: [{ name: a, endpoint: "http://a:2" }, { name: b, endpoint: "http://b:1" }]\n');
  await w.check();
  t.deepEqual(applied, [['a=http://a:2', 'b=http://b:1']]);
  t.is(await reloads('ok'), 1);

  vol.write('routes: [{ name: a, endpoint: "not a url" }]\n');
  await w.check();
  await w.check();
  t.is(applied.length, 1, 'a bad file changes nothing');
  t.is(await reloads('error'), 1, 'counted once per bad content');
  t.is(await lastOk(), 0);

  vol.write('routes: []\n');
  await w.check();
  t.deepEqual(applied[1], []);
  t.is(await reloads('ok'), 2);
  t.is(await lastOk(), 1);
});

test('watcher: a rotated API key in the key file is a change; a deleted key file is an error', async (t) => {
  const dir = tmp();
  const keyFile = path.join(dir, 'key-a');
  fs.writeFileSync(keyFile, 'one');
  const file = path.join(dir, 'routes.yaml');
  fs.writeFileSync(file, `routes: [{ name: a, endpoint: "http://a:1", apiKey: { file: ${keyFile} } }]\n`);
  const { w, applied, reloads } = watcher(file, loadRoutesFile(file, base, 'agent.yaml').routes);
  await w.check();
  t.is(applied.length, 0);
  fs.writeFileSync(keyFile, 'two');
  await w.check();
  t.is(applied.length, 1);
  fs.rmSync(keyFile);
  await w.check();
  t.is(applied.length, 1);
  t.is(await reloads('error'), 1);
});
