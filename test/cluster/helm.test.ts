/**
 * The Helm chart (helm/sextant): lint, golden renderings for several value sets, schema
 * errors, the chart's CRD copies, the agent manifest that is a rendering of the chart, the
 * agent config and the dashboard checked by the code that will read them, and a real
 * `helm install` into the control plane of test/infra (kwok nodes stand in for kubelets)
 * with every object present, RBAC answered by the API server, and `helm uninstall`.
 *
 * Goldens live in test/cluster/fixtures/helm/; regenerate them (and the agent manifest)
 * with `make helm-golden` (UPDATE_GOLDEN=1) after a deliberate chart change.
 */
import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import client from 'prom-client';
import * as iots from 'io-ts';
import YAML from 'yaml';
import { AgentFileConfig, resolveAgentConfig } from '../../agent-daemonset/src/config.js';
import {
  AGENT_ROUTE_KEYS_DIR,
  AGENT_ROUTES_CONFIGMAP,
  AGENT_ROUTES_KEY,
  AGENT_ROUTE_KEYS_SECRET,
} from '../../operator/src/render/agent.js';
import { parsePromQL } from '../../runtime/src/query/promql/parse.js';
import { infraVar } from '../integration/helpers/infra-env.js';
import { applyDocs, exampleDocs, startOperator, until, untilReady } from '../support/operator-process.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const chart = path.join(repo, 'helm/sextant');
const fixtures = path.join(here, 'fixtures/helm');
const UPDATE = process.env['UPDATE_GOLDEN'] === '1';

const AGENT_MANIFEST = path.join(repo, 'agent-daemonset/manifests/daemonset.yaml');
const AGENT_TEMPLATES = ['serviceaccount', 'rbac', 'configmap', 'daemonset'].map((t) => `templates/agent/${t}.yaml`);
const AGENT_HEADER = `# GENERATED from the Helm chart (helm/sextant, ${AGENT_TEMPLATES.join(', ')})
# with default values, release "sextant", namespace "sextant". Do not edit: change the chart,
# then run \`make helm-golden\` (test/cluster/helm.test.ts fails while the two differ).
# Without Helm: kubectl create namespace sextant && kubectl apply -f agent-daemonset/manifests/daemonset.yaml
`;

/** Value sets rendered to goldens: none = the chart's defaults. */
const VALUE_SETS = ['default', 'minimal', 'production'] as const;

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(bin: string, args: string[], input?: string): Result {
  const r = spawnSync(bin, args, {
    env: { ...process.env, KUBECONFIG: infraVar('KUBECONFIG') },
    input,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(bin: string, args: string[], input?: string): string {
  const r = run(bin, args, input);
  if (r.status !== 0) throw new Error(`${path.basename(bin)} ${args.join(' ')} exited ${r.status}:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

const helm = (args: string[]): string => ok(infraVar('HELM_BIN'), args);
const kubectl = (args: string[], input?: string): string => ok(infraVar('KUBECTL'), args, input);

function valuesArgs(set: (typeof VALUE_SETS)[number]): string[] {
  return set === 'default' ? [] : ['-f', path.join(fixtures, `values-${set}.yaml`)];
}

function render(set: (typeof VALUE_SETS)[number], extra: string[] = []): string {
  return helm(['template', 'sextant', chart, '--namespace', 'sextant', ...valuesArgs(set), ...extra]);
}

interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  data?: Record<string, string>;
  spec?: unknown;
  [key: string]: unknown;
}

function parseManifest(text: string): KubeObject[] {
  return YAML.parseAllDocuments(text)
    .map((doc) => doc.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null);
}

/** Compares with a golden file, or writes it under UPDATE_GOLDEN=1. */
function golden(t: ExecutionContext, file: string, actual: string): void {
  if (UPDATE) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, actual);
    t.log(`wrote ${path.relative(repo, file)}`);
  }
  const expected = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '(missing)';
  t.is(
    actual,
    expected,
    `${path.relative(repo, file)} differs from the chart's rendering: run \`make helm-golden\` if the change is intended`,
  );
}

test('helm lint --strict passes for the defaults and every value set', (t) => {
  for (const set of VALUE_SETS) {
    const out = helm(['lint', '--strict', chart, ...valuesArgs(set)]);
    t.regex(out, /1 chart\(s\) linted, 0 chart\(s\) failed/, set);
    t.notRegex(out, /\[(WARNING|ERROR)\]/, set);
  }
});

for (const set of VALUE_SETS) {
  test(`helm template matches the golden file: ${set}`, (t) => {
    golden(t, path.join(fixtures, `${set}.golden.yaml`), render(set));
  });
}

test('agent-daemonset/manifests/daemonset.yaml is the rendering of the chart agent templates', (t) => {
  const rendered = render(
    'default',
    AGENT_TEMPLATES.flatMap((s) => ['--show-only', s]),
  );
  const kinds = parseManifest(rendered).map((o) => o.kind);
  t.deepEqual([...kinds].sort(), ['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'DaemonSet', 'ServiceAccount']);
  golden(t, AGENT_MANIFEST, AGENT_HEADER + rendered);
});

test('the value sets render the objects they ask for', (t) => {
  const names = (set: (typeof VALUE_SETS)[number]) =>
    parseManifest(render(set))
      .map((o) => `${o.kind}/${o.metadata.name}`)
      .sort();
  t.deepEqual(names('default'), [
    'ClusterRole/sextant-agent',
    'ClusterRole/sextant-operator',
    'ClusterRoleBinding/sextant-agent',
    'ClusterRoleBinding/sextant-operator',
    'ConfigMap/sextant-agent',
    'ConfigMap/sextant-grafana-dashboards',
    'ConfigMap/sextant-grafana-datasources',
    'DaemonSet/sextant-agent',
    'Deployment/sextant-operator',
    'Role/sextant-operator',
    'RoleBinding/sextant-operator',
    'Service/sextant-operator-metrics',
    'ServiceAccount/sextant-agent',
    'ServiceAccount/sextant-operator',
  ]);
  t.deepEqual(names('minimal'), [
    'ClusterRole/sextant-operator',
    'ClusterRoleBinding/sextant-operator',
    'Deployment/sextant-operator',
    'Role/sextant-operator',
    'RoleBinding/sextant-operator',
  ]);
  const minimal = parseManifest(render('minimal'));
  const binding = minimal.find((o) => o.kind === 'ClusterRoleBinding') as unknown as { subjects: Array<{ name: string }> };
  t.is(binding.subjects[0]?.name, 'platform-sextant');
  const deployment = minimal.find((o) => o.kind === 'Deployment') as unknown as {
    spec: { template: { spec: { containers: Array<{ image: string; args: string[] }> } } };
  };
  const container = deployment.spec.template.spec.containers[0]!;
  const digestRef = 'registry.example.com/platform/sextant@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';
  t.is(container.image, digestRef);
  // The operator hands its own image to the runtimes it creates.
  t.is(container.args[container.args.indexOf('--image') + 1], digestRef);
});

test('the agent config of every value set is accepted by the agent', (t) => {
  for (const set of VALUE_SETS) {
    const cm = parseManifest(render(set)).find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'sextant-agent');
    if (set === 'minimal') {
      t.is(cm, undefined);
      continue;
    }
    const text = cm?.data?.['agent.yaml'];
    t.truthy(text, set);
    const config = resolveAgentConfig(YAML.parse(text!), `${set}: agent.yaml`, { AUDIT_KEY: 'k' });
    t.is(config.multiline.length, 1, set);
    if (set === 'production') {
      t.deepEqual(config.labelsFromPod, ['app', 'team']);
      t.deepEqual(
        config.routes.map((r) => r.name),
        ['audit'],
      );
    }
  }
});

test('the agent DaemonSet mounts the routes ConfigMap and keys Secret where the operator renders them', (t) => {
  const ds = parseManifest(render('default')).find((o) => o.kind === 'DaemonSet') as unknown as {
    spec: {
      template: {
        spec: {
          volumes: Array<{
            name: string;
            configMap?: { name: string; optional?: boolean };
            secret?: { secretName: string; optional?: boolean };
          }>;
          containers: Array<{ volumeMounts: Array<{ name: string; mountPath: string }>; env: Array<{ name: string; value?: string }> }>;
        };
      };
    };
  };
  const pod = ds.spec.template.spec;
  const container = pod.containers[0]!;
  const routes = pod.volumes.find((v) => v.configMap?.name === AGENT_ROUTES_CONFIGMAP);
  const keys = pod.volumes.find((v) => v.secret?.secretName === AGENT_ROUTE_KEYS_SECRET);
  t.truthy(routes, `a volume of ConfigMap ${AGENT_ROUTES_CONFIGMAP}`);
  t.truthy(keys, `a volume of Secret ${AGENT_ROUTE_KEYS_SECRET}`);
  t.true(routes!.configMap!.optional, 'the routes ConfigMap is optional (no Pipeline yet)');
  t.true(keys!.secret!.optional, 'the keys Secret is optional (no Pipeline yet)');
  const mountOf = (name: string) => container.volumeMounts.find((m) => m.name === name)?.mountPath;
  t.is(mountOf(keys!.name), AGENT_ROUTE_KEYS_DIR);
  const routesFile = container.env.find((e) => e.name === 'SEXTANT_AGENT_ROUTES')?.value;
  t.is(routesFile, `${mountOf(routes!.name)}/${AGENT_ROUTES_KEY}`);
});

test("the operator Deployment's arguments are accepted by `sextant operator` for every value set", (t) => {
  for (const set of VALUE_SETS) {
    const deployment = parseManifest(render(set)).find((o) => o.kind === 'Deployment') as unknown as {
      spec: { template: { spec: { containers: Array<{ args: string[] }> } } };
    };
    const args = deployment.spec.template.spec.containers[0]!.args;
    t.is(args[0], 'operator', set);
    // Every flag and value passes the CLI's checks; it then fails to start only because the
    // kubeconfig (given last, so it wins) does not exist: exit 1, not the usage error's 2.
    const missing = path.join(repo, '.run', 'no-such-kubeconfig');
    const r = spawnSync(
      process.execPath,
      // The built CLI, as the cluster tier runs it (make test-cluster builds first).
      [path.join(repo, 'dist/runtime/src/cli/main.js'), ...args, '--kubeconfig', missing],
      {
        cwd: repo,
        encoding: 'utf8',
        env: { ...process.env, KUBECONFIG: '' },
        timeout: 120_000,
      },
    );
    t.is(r.status, 1, `${set}: ${r.stderr}`);
    t.regex(r.stderr, /cannot start: ENOENT/, set);
  }
});

interface SchemaNode {
  type?: string | string[];
  properties?: Record<string, SchemaNode>;
  additionalProperties?: unknown;
  items?: SchemaNode;
}

/** The props of an object codec (exact, partial, type, intersections of those), else undefined. */
function codecProps(codec: iots.Mixed): Record<string, iots.Mixed> | undefined {
  if (codec instanceof iots.ExactType) return codecProps(codec.type as iots.Mixed);
  if (codec instanceof iots.InterfaceType || codec instanceof iots.PartialType) return codec.props as Record<string, iots.Mixed>;
  if (codec instanceof iots.IntersectionType) {
    const parts = (codec.types as iots.Mixed[]).map(codecProps);
    return parts.every((p) => p !== undefined) ? Object.assign({}, ...parts) : undefined;
  }
  return undefined;
}

/** Every object level the schema spells out has exactly the codec's keys; returns the paths compared. */
function compareWithCodec(t: ExecutionContext, codec: iots.Mixed, node: SchemaNode, at: string): string[] {
  if (codec instanceof iots.ArrayType) return node.items ? compareWithCodec(t, codec.type as iots.Mixed, node.items, `${at}[]`) : [];
  const props = codecProps(codec);
  if (!props || !node.properties) return [];
  t.deepEqual(Object.keys(node.properties).sort(), Object.keys(props).sort(), `${at}: schema keys vs the agent's codec`);
  t.is(node.additionalProperties, false, `${at}: additionalProperties`);
  return [
    at,
    ...Object.keys(props).flatMap((k) => (node.properties![k] ? compareWithCodec(t, props[k]!, node.properties![k]!, `${at}.${k}`) : [])),
  ];
}

test("the schema of agent.config has the agent codec's keys at every level (typos fail at helm time)", (t) => {
  const schema = JSON.parse(fs.readFileSync(path.join(chart, 'values.schema.json'), 'utf8')) as SchemaNode;
  const agent = schema.properties!['agent']!.properties!;
  for (const key of ['config', 'defaultConfig']) {
    const compared = compareWithCodec(t, AgentFileConfig, agent[key]!, `agent.${key}`);
    t.true(compared.length >= 10, `${compared.length} levels compared: ${compared.join(', ')}`);
  }
  const r = run(infraVar('HELM_BIN'), ['template', 'x', chart, '--set', 'agent.config.tail.pollIntervall=1s']);
  t.regex(r.stderr, /at '\/agent\/config\/tail': additional properties 'pollIntervall' not allowed/);
});

test('bad values are refused by the schema with the path of the value', (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['--set', 'operator.replica=2'], /at '\/operator': additional properties 'replica' not allowed/],
    [['--set', 'image.pullPolicy=Sometimes'], /at '\/image\/pullPolicy': value must be one of 'Always', 'IfNotPresent', 'Never'/],
    [['--set', 'agent.hostPaths.podLogs=var/log/pods'], /at '\/agent\/hostPaths\/podLogs': 'var\/log\/pods' does not match pattern/],
    [['--set', 'operator.resync=10 minutes'], /at '\/operator\/resync': '10 minutes' does not match pattern/],
    // The custom resources' grammar: no ms (a resync of milliseconds is a typo).
    [['--set', 'operator.resync=500ms'], /at '\/operator\/resync': '500ms' does not match pattern/],
    [['--set', 'operator.workers=0'], /at '\/operator\/workers': minimum: got 0, want 1/],
    [
      ['--set', 'grafana.datasources.apiKey.from=secret'],
      /at '\/grafana\/datasources\/apiKey\/from': value must be one of 'env', 'file', 'none'/,
    ],
    [['--set', 'agent.config.batchs.maxWait=1s'], /at '\/agent\/config': additional properties 'batchs' not allowed/],
    [
      ['--set-json', 'grafana.datasources.pipelines=[{"name":"API"}]'],
      /at '\/grafana\/datasources\/pipelines\/0\/name': 'API' does not match pattern/,
    ],
  ];
  for (const [args, message] of cases) {
    const r = run(infraVar('HELM_BIN'), ['template', 'x', chart, ...args]);
    t.not(r.status, 0, args.join(' '));
    t.regex(r.stderr, /values don't meet the specifications of the schema/, args.join(' '));
    t.regex(r.stderr, message, args.join(' '));
    // helm lint reports the same problem.
    const lint = run(infraVar('HELM_BIN'), ['lint', '--strict', chart, ...args]);
    t.not(lint.status, 0, `lint ${args.join(' ')}`);
    t.regex(lint.stdout + lint.stderr, message, `lint ${args.join(' ')}`);
  }
  // Rules the schema cannot express are checked by the templates, just as readably.
  const twoDefaults = run(infraVar('HELM_BIN'), [
    'template',
    'x',
    chart,
    '--set-json',
    'grafana.datasources.pipelines=[{"name":"a","isDefault":true},{"name":"b","isDefault":true}]',
  ]);
  t.regex(twoDefaults.stderr, /grafana\.datasources\.pipelines: only one entry may set isDefault: true/);
  const sameUid = run(infraVar('HELM_BIN'), [
    'template',
    'x',
    chart,
    '--set-json',
    'grafana.datasources.pipelines=[{"name":"a"},{"name":"a"}]',
  ]);
  t.regex(sameUid.stderr, /grafana\.datasources\.pipelines\[1\]: datasource uid "sextant-prom-default-a" .* is used twice/);
  // Two operators without leader election: the message names the fix (the schema could only say "value must be true").
  const twoLeaders = run(infraVar('HELM_BIN'), [
    'template',
    'x',
    chart,
    '--set',
    'operator.replicas=2',
    '--set',
    'operator.leaderElection.enabled=false',
  ]);
  t.not(twoLeaders.status, 0);
  t.regex(
    twoLeaders.stderr,
    /operator\.replicas is 2, but operator\.leaderElection\.enabled is false: .* Set operator\.leaderElection\.enabled=true, or operator\.replicas=1/,
  );
  const noSa = run(infraVar('HELM_BIN'), ['template', 'x', chart, '--set', 'operator.serviceAccount.create=false']);
  t.regex(noSa.stderr, /operator\.serviceAccount\.name is required when operator\.serviceAccount\.create is false/);
});

test("the chart's crds/ are identical copies of the top-level crds/", (t) => {
  const yamlFiles = (dir: string) =>
    fs
      .readdirSync(dir)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort();
  const top = yamlFiles(path.join(repo, 'crds'));
  const copies = yamlFiles(path.join(chart, 'crds'));
  t.true(top.length >= 3, `crds/ holds ${top.length} files; expected the Pipeline, Sink and RetentionPolicy CRDs`);
  t.deepEqual(copies, top, 'helm/sextant/crds/ lists other files than crds/: run `make helm-crds`');
  for (const file of top) {
    t.is(
      fs.readFileSync(path.join(chart, 'crds', file), 'utf8'),
      fs.readFileSync(path.join(repo, 'crds', file), 'utf8'),
      `helm/sextant/crds/${file} differs from crds/${file}: run \`make helm-crds\``,
    );
  }
  const kinds = top.flatMap((f) => parseManifest(fs.readFileSync(path.join(repo, 'crds', f), 'utf8')).map((o) => o.kind));
  t.true(
    kinds.every((k) => k === 'CustomResourceDefinition'),
    `crds/ may hold only CustomResourceDefinitions (Helm installs them before anything else), found ${kinds.join(', ')}`,
  );
});

test("the dashboard's queries parse in Sextant's PromQL subset and name metrics the code exports", async (t) => {
  const dashboard = JSON.parse(fs.readFileSync(path.join(chart, 'dashboards/sextant-overview.json'), 'utf8')) as {
    uid: string;
    panels: Array<{ title: string; type: string; targets?: Array<{ expr: string }> }>;
    templating: { list: Array<{ name: string; type: string; definition?: string }> };
  };
  t.is(dashboard.uid, 'sextant-overview');
  const sources = [
    ...listTs(path.join(repo, 'runtime/src')),
    ...listTs(path.join(repo, 'agent-daemonset/src')),
    ...listTs(path.join(repo, 'operator/src')),
  ]
    .map((f) => fs.readFileSync(f, 'utf8'))
    .join('\n');
  const exported = new Set(sources.match(/sextant_[a-z_]+/g) ?? []);
  // prom-client's process metrics, under the prefix every component registers them with.
  const defaults = new client.Registry();
  client.collectDefaultMetrics({ register: defaults, prefix: 'sextant_process_' });
  for (const metric of await defaults.getMetricsAsJSON()) exported.add(metric.name);
  let queries = 0;
  for (const panel of dashboard.panels) {
    for (const target of panel.targets ?? []) {
      queries++;
      // Grafana substitutes its variables before the datasource sees the query.
      const query = target.expr.replaceAll('$__rate_interval', '1m').replaceAll('$namespace', '.*');
      t.notThrows(() => parsePromQL(query), `${panel.title}: ${query}`);
      for (const name of target.expr.match(/sextant_[a-z_]+/g) ?? []) {
        const base = name.replace(/_(bucket|sum|count)$/, '');
        t.true(exported.has(name) || exported.has(base), `${panel.title}: ${name} is not a metric in the code`);
      }
    }
  }
  t.true(queries >= 20, `${queries} queries`);
  for (const variable of dashboard.templating.list) {
    const metric = /^label_values\((\w+),/.exec(variable.definition ?? '')?.[1];
    if (variable.type === 'query')
      t.true(metric !== undefined && exported.has(metric), `variable ${variable.name}: ${variable.definition}`);
  }
  for (const title of ['Ingestion rate', 'Rejects by reason', 'Processor lag', 'Sink errors and DLQ', 'Agent lines/s']) {
    t.true(
      dashboard.panels.some((p) => p.title === title),
      `panel "${title}"`,
    );
  }
});

function listTs(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return listTs(full);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [full] : [];
  });
}

// One release for the steps below (serial: they share it). A step whose predecessors failed
// fails at once instead of testing nothing.
interface Release {
  ns: string;
  release: string;
  manifest: string;
}
let installed: Release | undefined;
/** What to remove at the end, set before helm install runs (a failed install leaves objects too). */
let toRemove: { ns: string; release: string } | undefined;

function needRelease(): Release {
  if (!installed) throw new Error('helm install did not succeed (see the first install step)');
  return installed;
}

test.after.always(() => {
  if (!toRemove) return;
  run(infraVar('HELM_BIN'), ['uninstall', toRemove.release, '--namespace', toRemove.ns, '--wait']);
  run(infraVar('KUBECTL'), ['delete', 'namespace', toRemove.ns, '--wait=false', '--ignore-not-found']);
});

test.serial('helm install: every object of the chart exists in the API server, pods ready on kwok nodes, NOTES', (t) => {
  const id = Date.now().toString(36);
  const ns = `helm-${id}`;
  const release = `sextant-${id}`;
  // kwok's fake nodes carry a NoSchedule taint; the agent tolerates every taint already.
  const kwok = '[{"key":"kwok.x-k8s.io/node","operator":"Exists","effect":"NoSchedule"}]';
  toRemove = { ns, release };
  const installOutput = helm([
    'install',
    release,
    chart,
    '--namespace',
    ns,
    '--create-namespace',
    '--set-json',
    `operator.tolerations=${kwok}`,
    '--wait',
    '--timeout',
    '4m',
  ]);
  const manifest = helm(['get', 'manifest', release, '--namespace', ns]);
  installed = { ns, release, manifest };
  // NOTES.txt: what was installed and what to do next, with this release's names.
  t.regex(installOutput, new RegExp(`Deployment ${release}-operator \\(1 replica\\(s\\), leader election on Lease ${release}-operator\\)`));
  t.regex(installOutput, new RegExp(`DaemonSet ${release}-agent`));
  t.regex(installOutput, /kubectl -n team-a apply -f examples\/secrets\.yaml/);
  t.regex(installOutput, /Bearer \$__env\{SEXTANT_API_KEY\}/);

  const expected = parseManifest(manifest);
  t.is(expected.length, 14);
  const key = (o: KubeObject) => `${o.kind}/${o.metadata.namespace ?? '-'}/${o.metadata.name}`;
  const live = JSON.parse(kubectl(['get', '-f', '-', '-o', 'json'], manifest)) as { items: KubeObject[] };
  t.deepEqual(
    live.items.map(key).sort(),
    expected.map((o) => `${o.kind}/${o.metadata.namespace ?? (isClusterScoped(o.kind) ? '-' : ns)}/${o.metadata.name}`).sort(),
  );
  for (const object of live.items) {
    t.is(object.metadata.labels?.['app.kubernetes.io/instance'], release, key(object));
    t.is(object.metadata.annotations?.['meta.helm.sh/release-name'], release, key(object));
    const rendered = expected.find((o) => o.kind === object.kind && o.metadata.name === object.metadata.name);
    if (object.kind === 'ConfigMap') t.deepEqual(object.data, rendered?.data, key(object));
  }

  // The chart's CRDs are in the API server (installed by this release or already there).
  const crdNames = fs
    .readdirSync(path.join(chart, 'crds'))
    .filter((f) => /\.ya?ml$/.test(f))
    .flatMap((f) => parseManifest(fs.readFileSync(path.join(chart, 'crds', f), 'utf8')).map((o) => o.metadata.name));
  t.true(crdNames.length >= 3, `chart crds/: ${crdNames.join(', ')}`);
  if (crdNames.length > 0) kubectl(['get', 'crd', ...crdNames]);

  // --wait returned: kwok reported the operator pod and one agent pod per node ready.
  const ds = JSON.parse(kubectl(['get', 'daemonset', `${release}-agent`, '-n', ns, '-o', 'json'])) as {
    status: { desiredNumberScheduled: number; numberReady: number };
  };
  t.true(ds.status.desiredNumberScheduled >= 1);
  t.is(ds.status.numberReady, ds.status.desiredNumberScheduled);
  t.is(kubectl(['get', 'deployment', `${release}-operator`, '-n', ns, '-o', 'jsonpath={.status.readyReplicas}']), '1');
});

test.serial('every value set renders objects the API server accepts (server-side dry run, strict field validation)', (t) => {
  const { ns } = needRelease();
  for (const set of VALUE_SETS) {
    // Everything into the test namespace; the PodMonitor needs the Prometheus Operator's CRDs.
    const rendered = render(set, [
      '--namespace',
      ns,
      '--set',
      `grafana.datasources.namespace=${ns}`,
      '--set',
      `grafana.dashboards.namespace=${ns}`,
      '--set',
      'podMonitor.enabled=false',
    ]);
    const r = run(infraVar('KUBECTL'), ['apply', '--dry-run=server', '--validate=strict', '-f', '-'], rendered);
    t.is(r.status, 0, `${set}: ${r.stderr}`);
    t.is(r.stderr.trim(), '', `${set}: warnings`);
  }
});

test.serial('RBAC of the chart, as the API server answers SubjectAccessReviews: least privilege', (t) => {
  const { ns, release } = needRelease();
  // RBAC as the API server's authorizer answers it for the ServiceAccounts
  // (SubjectAccessReview: works whether or not the CRDs are installed).
  const can = (sa: string, verb: string, resource: string, where: { namespace?: string; name?: string } = {}) => {
    const [res, ...groupParts] = resource.split('.');
    const [plural, subresource] = res!.split('/');
    const review = {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user: `system:serviceaccount:${ns}:${sa}`,
        groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'],
        resourceAttributes: { verb, group: groupParts.join('.'), resource: plural, subresource, ...where },
      },
    };
    const answer = JSON.parse(kubectl(['create', '-f', '-', '-o', 'json'], JSON.stringify(review))) as { status: { allowed: boolean } };
    return answer.status.allowed;
  };
  const operatorSa = `${release}-operator`;
  const agentSa = `${release}-agent`;
  const teamA = { namespace: 'team-a' };
  const expectations: Array<[string, string, string, { namespace?: string; name?: string }, boolean]> = [
    [operatorSa, 'watch', 'pipelines.sextant.dev', {}, true],
    [operatorSa, 'list', 'sinks.sextant.dev', {}, true],
    [operatorSa, 'get', 'retentionpolicies.sextant.dev', teamA, true],
    [operatorSa, 'patch', 'pipelines/status.sextant.dev', teamA, true],
    [operatorSa, 'update', 'pipelines/status.sextant.dev', teamA, false],
    [operatorSa, 'update', 'pipelines/finalizers.sextant.dev', teamA, true],
    [operatorSa, 'patch', 'pipelines.sextant.dev', teamA, false],
    [operatorSa, 'delete', 'pipelines.sextant.dev', teamA, false],
    [operatorSa, 'patch', 'sinks/status.sextant.dev', teamA, true],
    [operatorSa, 'patch', 'retentionpolicies/status.sextant.dev', teamA, false],
    [operatorSa, 'patch', 'sinks.sextant.dev', teamA, true],
    [operatorSa, 'update', 'sinks.sextant.dev', teamA, false],
    [operatorSa, 'create', 'deployments.apps', teamA, true],
    [operatorSa, 'update', 'deployments.apps', teamA, false],
    [operatorSa, 'patch', 'services', teamA, true],
    [operatorSa, 'create', 'configmaps', teamA, true],
    [operatorSa, 'create', 'poddisruptionbudgets.policy', teamA, true],
    [operatorSa, 'delete', 'horizontalpodautoscalers.autoscaling', teamA, true],
    [operatorSa, 'watch', 'secrets', {}, true],
    [operatorSa, 'create', 'secrets', teamA, false],
    [operatorSa, 'patch', 'secrets', { namespace: 'team-a', name: 'sextant-agent-route-keys' }, false],
    [operatorSa, 'create', 'secrets', { namespace: ns }, true],
    [operatorSa, 'patch', 'secrets', { namespace: ns, name: 'sextant-agent-route-keys' }, true],
    [operatorSa, 'patch', 'secrets', { namespace: ns, name: 'other' }, false],
    [operatorSa, 'delete', 'secrets', { namespace: ns, name: 'sextant-agent-route-keys' }, false],
    [operatorSa, 'create', 'leases.coordination.k8s.io', { namespace: ns }, true],
    [operatorSa, 'update', 'leases.coordination.k8s.io', { namespace: ns, name: `${release}-operator` }, true],
    [operatorSa, 'update', 'leases.coordination.k8s.io', { namespace: ns, name: 'other' }, false],
    [operatorSa, 'list', 'leases.coordination.k8s.io', { namespace: ns }, false],
    [operatorSa, 'create', 'leases.coordination.k8s.io', teamA, false],
    [operatorSa, 'create', 'events.events.k8s.io', teamA, true],
    [operatorSa, 'create', 'events', teamA, false],
    [operatorSa, 'list', 'pods', {}, true],
    [operatorSa, 'delete', 'pods', teamA, false],
    [operatorSa, 'create', 'pods', teamA, false],
    [operatorSa, 'list', 'nodes', {}, false],
    [operatorSa, 'create', 'clusterroles.rbac.authorization.k8s.io', {}, false],
    [agentSa, 'watch', 'pods', {}, true],
    [agentSa, 'get', 'secrets', { namespace: ns }, false],
    [agentSa, 'list', 'configmaps', { namespace: ns }, false],
    [agentSa, 'create', 'pods', { namespace: ns }, false],
  ];
  for (const [sa, verb, resource, where, allowed] of expectations) {
    t.is(can(sa, verb, resource, where), allowed, `${sa} ${verb} ${resource} ${JSON.stringify(where)}`);
  }
});

test.serial("the real operator runs with exactly the chart's RBAC", async (t) => {
  const { ns, release } = needRelease();
  await operatorWithChartRbac(t, ns, release);
});

test.serial('helm upgrade of the agent config rolls the agents only', (t) => {
  const { ns, release } = needRelease();
  // An upgrade that changes the agent config updates the ConfigMap and rolls the agents
  // (checksum/config), and leaves the operator's pod template alone.
  const template = (kind: string, name: string) =>
    JSON.parse(kubectl(['get', kind, name, '-n', ns, '-o', 'json'])) as {
      metadata: { generation: number };
      spec: { template: { metadata: { annotations: Record<string, string> } } };
    };
  const agentBefore = template('daemonset', `${release}-agent`);
  const operatorBefore = template('deployment', `${release}-operator`);
  helm(['upgrade', release, chart, '--namespace', ns, '--reuse-values', '--set', 'agent.config.batch.maxWait=2s']);
  const agentAfter = template('daemonset', `${release}-agent`);
  t.not(
    agentAfter.spec.template.metadata.annotations['checksum/config'],
    agentBefore.spec.template.metadata.annotations['checksum/config'],
  );
  t.is(agentAfter.metadata.generation, agentBefore.metadata.generation + 1);
  t.is(template('deployment', `${release}-operator`).metadata.generation, operatorBefore.metadata.generation);
  const agentConfig = kubectl(['get', 'configmap', `${release}-agent`, '-n', ns, '-o', 'jsonpath={.data.agent\\.yaml}']);
  t.deepEqual(YAML.parse(agentConfig).batch, { maxWait: '2s' });
});

test.serial('helm uninstall removes every object of the release', (t) => {
  const { ns, release, manifest } = needRelease();
  helm(['uninstall', release, '--namespace', ns, '--wait']);
  installed = undefined;
  toRemove = undefined;
  run(infraVar('KUBECTL'), ['delete', 'namespace', ns, '--wait=false', '--ignore-not-found']);
  t.is(kubectl(['get', '-f', '-', '--ignore-not-found', '-o', 'name'], manifest).trim(), '', 'objects left after helm uninstall');
});

function isClusterScoped(kind: string): boolean {
  return kind === 'ClusterRole' || kind === 'ClusterRoleBinding' || kind === 'CustomResourceDefinition';
}

/**
 * The real operator, as a local process authenticated with a token of the chart's
 * ServiceAccount (so with exactly the chart's RBAC), reconciles the examples to Ready, holds
 * its Lease and writes the agent routes, and never meets a 403. The SubjectAccessReviews
 * above say what the chart grants; this says it is enough for the code.
 */
async function operatorWithChartRbac(t: ExecutionContext, ns: string, release: string): Promise<void> {
  const sa = `${release}-operator`;
  const token = kubectl(['create', 'token', sa, '--namespace', ns, '--duration', '3600s']).trim();
  const admin = JSON.parse(kubectl(['config', 'view', '--raw', '--minify', '-o', 'json'])) as {
    clusters: Array<{ cluster: Record<string, string> }>;
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sextant-helm-'));
  const kubeconfig = path.join(dir, 'operator.kubeconfig');
  fs.writeFileSync(
    kubeconfig,
    YAML.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'test', cluster: admin.clusters[0]!.cluster }],
      users: [{ name: sa, user: { token } }],
      contexts: [{ name: sa, context: { cluster: 'test', user: sa } }],
      'current-context': sa,
    }),
    { mode: 0o600 },
  );
  const pipelineNs = `${ns}-p`;
  // Removed whatever happens below (a failed start included).
  t.teardown(async () => {
    run(infraVar('KUBECTL'), ['delete', 'namespace', pipelineNs, '--wait=false', '--ignore-not-found']);
    fs.rmSync(dir, { recursive: true, force: true });
    await deleteTopics(`sextant.${pipelineNs}.`);
  });
  kubectl(['create', 'namespace', pipelineNs]);
  applyDocs(
    pipelineNs,
    ['secrets.yaml', 'sinks.yaml', 'retention-policy.yaml', 'pipeline.yaml'].flatMap((f) => exampleDocs(f)),
  );
  const operator = await startOperator(['--kubeconfig', kubeconfig, '--namespace', ns, '--lease-name', sa]);
  try {
    const p = await untilReady(pipelineNs, 'api', 'True', undefined, 180_000);
    t.is(p.status!.observedGeneration, p.metadata.generation);
    t.deepEqual(kubectl(['get', 'deployments', '-n', pipelineNs, '-o', 'name']).trim().split('\n').sort(), [
      'deployment.apps/api-ingestion',
      'deployment.apps/api-processor',
      'deployment.apps/api-query',
    ]);
    const lease = JSON.parse(kubectl(['get', 'lease', sa, '-n', ns, '-o', 'json'])) as { spec: { holderIdentity?: string } };
    t.is(lease.spec.holderIdentity, operator.identity);
    // The agent routes have their own controller: they follow the Pipeline shortly after.
    const routes = await until(
      `ConfigMap ${ns}/${AGENT_ROUTES_CONFIGMAP} with the route of ${pipelineNs}/api`,
      () => {
        const r = run(infraVar('KUBECTL'), ['get', 'configmap', AGENT_ROUTES_CONFIGMAP, '-n', ns, '-o', 'json']);
        const text = r.status === 0 ? (JSON.parse(r.stdout) as { data?: Record<string, string> }).data?.[AGENT_ROUTES_KEY] : undefined;
        return text?.includes(`name: ${pipelineNs}.api`) ? text : undefined;
      },
      60_000,
    );
    t.regex(routes, new RegExp(`endpoint: http://api-ingestion\\.${pipelineNs}(\\.svc)?:8080`));
    t.regex(routes, new RegExp(`file: ${AGENT_ROUTE_KEYS_DIR}/${pipelineNs}\\.api`));
    t.notThrows(() => kubectl(['get', 'secret', AGENT_ROUTE_KEYS_SECRET, '-n', ns]));
    // An RBAC denial reads `User "system:serviceaccount:…" cannot <verb> resource "…"`; other
    // 403s (writes into a namespace being deleted by another test) are not about RBAC.
    t.notRegex(operator.output(), /cannot \w+ resource/, 'the API server refused the operator something (RBAC)');
  } finally {
    t.is(await operator.stop(), 0, `the operator exits 0 on SIGTERM:\n${operator.output().slice(-2000)}`);
  }
}

/** The operator never deletes Kafka topics (they hold data): the test removes those it caused. */
async function deleteTopics(prefix: string): Promise<void> {
  const admin = new Kafka({ clientId: 'helm-test', brokers: infraVar('KAFKA_BROKERS').split(','), logLevel: logLevel.NOTHING }).admin();
  try {
    await admin.connect();
    const mine = (await admin.listTopics()).filter((name) => name.startsWith(prefix));
    if (mine.length > 0) await admin.deleteTopics({ topics: mine });
  } catch {
    // best effort: leftover topics do not change the outcome of other tests
  } finally {
    await admin.disconnect();
  }
}
