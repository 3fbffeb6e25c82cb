import test from 'ava';
import fs from 'node:fs';
import YAML from 'yaml';
import { ConfigError, resolveAgentConfig, sanitiseLabelName } from './config.js';

test('defaults, per-route batch overrides, API keys from env, durations', (t) => {
  const c = resolveAgentConfig(
    {
      routes: [
        { name: 'team-a', endpoint: 'http://ingest:8080/', apiKey: { env: 'KEY_A' }, namespaces: ['team-a'], batch: { maxEntries: 10 } },
        { name: 'web', endpoint: 'https://web', pods: ['web-.*'], podSelector: { matchLabels: { app: 'web' } }, nodeMetrics: true },
      ],
      multiline: [{ containers: ['java'], startPattern: '^\\S', timeout: '2s' }],
      tail: { pollInterval: '100ms' },
    },
    'test',
    { KEY_A: 'secret-a' },
  );
  t.is(c.routes[0]!.endpoint, 'http://ingest:8080');
  t.is(c.routes[0]!.apiKey, 'secret-a');
  t.is(c.routes[0]!.batch.maxEntries, 10);
  t.is(c.routes[0]!.batch.maxBytes, 1024 * 1024);
  t.false(c.routes[0]!.match.usesLabels);
  t.true(c.routes[1]!.match.usesLabels);
  t.true(c.routes[1]!.nodeMetrics);
  t.is(c.multiline[0]!.timeoutMs, 2000);
  t.is(c.tail.pollIntervalMs, 100);
  t.is(c.tail.maxLineBytes, 256 * 1024);
});

test('every error is reported at once with its path; key values never appear', (t) => {
  const error = t.throws(
    () =>
      resolveAgentConfig(
        {
          routes: [
            { name: 'Bad Name', endpoint: 'ftp://x', apiKey: { env: 'MISSING' } },
            { name: 'dup', endpoint: 'nope' },
            { name: 'dup', endpoint: 'http://x', pods: ['('], podSelector: { matchExpressions: [{ key: 'a', operator: 'In' }] } },
          ],
          tail: { pollInterval: 'soon', maxLineBytes: 1 },
          podMetrics: { interval: '30s', timeout: '1m' },
          routesFile: { pollInterval: '1ms' },
          surprise: true,
        },
        'agent.yaml',
        {},
      ),
    { instanceOf: ConfigError },
  )!;
  const text = error.message;
  for (const expected of [
    'surprise: unknown field',
    'routes[0].name:',
    'routes[0].endpoint: must be http(s)',
    'routes[0].apiKey.env: environment variable MISSING is not set',
    'routes[1].endpoint: not a URL',
    'routes[2].name: duplicate route name "dup"',
    'routes[2].pods[0]: invalid regular expression',
    'routes[2].podSelector.matchExpressions[0].values: must be non-empty for In',
    'tail.pollInterval: invalid duration',
    'tail.maxLineBytes: must be an integer >= 64',
    'podMetrics.timeout: must not be longer than podMetrics.interval',
    'routesFile.pollInterval: must be at least 100ms, got 1ms',
  ]) {
    t.true(text.includes(expected), `missing: ${expected}\n${text}`);
  }
});

test('selectors: namespaces, pod name patterns, containers, matchLabels and matchExpressions', (t) => {
  const c = resolveAgentConfig(
    {
      routes: [
        {
          name: 'r',
          endpoint: 'http://x',
          namespaces: ['a', 'b'],
          pods: ['api-.*'],
          podSelector: {
            matchLabels: { app: 'api' },
            matchExpressions: [
              { key: 'tier', operator: 'In', values: ['web', 'edge'] },
              { key: 'canary', operator: 'DoesNotExist' },
            ],
          },
        },
      ],
    },
    'test',
  );
  const m = c.routes[0]!.match;
  const ref = { namespace: 'a', pod: 'api-7d9', container: 'c', labels: { app: 'api', tier: 'web' } };
  t.true(m.matches(ref));
  t.false(m.matches({ ...ref, namespace: 'c' }));
  t.false(m.matches({ ...ref, pod: 'xapi-1' }), 'pod patterns are anchored');
  t.false(m.matches({ ...ref, labels: { app: 'api', tier: 'db' } }));
  t.false(m.matches({ ...ref, labels: { app: 'api', tier: 'web', canary: '' } }));
  t.false(m.matches({ ...ref, labels: {} }));
  t.is(sanitiseLabelName('app.kubernetes.io/name'), 'app_kubernetes_io_name');
});

test('the DaemonSet manifest config is valid (key files exist only in the cluster)', (t) => {
  const manifest = fs.readFileSync(new URL('../manifests/daemonset.yaml', import.meta.url), 'utf8');
  const configMap = YAML.parseAllDocuments(manifest)
    .map((d) => d.toJS() as { kind: string; data?: Record<string, string> })
    .find((d) => d.kind === 'ConfigMap' && d.data?.['agent.yaml'] !== undefined)!;
  t.truthy(configMap, 'a ConfigMap with agent.yaml');
  try {
    resolveAgentConfig(YAML.parse(configMap.data!['agent.yaml']!), 'daemonset.yaml');
    t.pass();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // Only API key files mounted from Secrets may be missing here.
    t.deepEqual(
      error.errors.filter((e) => !/^routes\[\d+\]\.apiKey\.file: cannot read /.test(e)),
      [],
    );
  }
});
