import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import YAML from 'yaml';
import type { V1ConfigMap, V1Deployment, V1Secret } from '@kubernetes/client-node';
import { resolveAgentConfig, resolveRoutesFile } from '../../../agent-daemonset/src/config.js';
import { requireFor, resolveRuntimeConfig } from '../../../runtime/src/platform/index.js';
// eslint-disable-next-line no-restricted-imports -- checks the rendered prefix against the names the runtime derives from it
import { indexTemplates, partitionIndex } from '../../../runtime/src/storage/opensearch/documents.js';
import { InvalidSpecError, type Pipeline, type RetentionPolicy, type Sink } from '../api/v1alpha1.js';
import { AGENT_ROUTE_KEYS_DIR, AGENT_ROUTES_KEY, renderAgentConfig, routeName, type AgentRoute } from './agent.js';
import { COMPONENTS, CONFIG_HASH_ANNOTATION, CONFIG_KEY, type OperatorSettings } from './common.js';
import { referencedSecrets, renderPipeline, type PipelineInputs, type RenderedPipeline } from './pipeline.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const testdata = path.join(here, 'testdata');
const root = path.resolve(here, '../../..');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

interface Case extends PipelineInputs {
  settings: OperatorSettings;
}

function readCase(file: string): Case {
  return YAML.parse(fs.readFileSync(path.join(testdata, file), 'utf8')) as Case;
}

const cases = fs
  .readdirSync(testdata)
  .filter((f) => f.endsWith('.yaml') && !f.endsWith('.golden.yaml'))
  .sort();

/** The golden text, in the repository's prettier style (make lint checks the goldens too). */
async function goldenText(file: string, rendered: RenderedPipeline): Promise<string> {
  const head = `# Rendered from ${file} by operator/src/render (UPDATE_GOLDEN=1 npx ava operator/src/render/pipeline.test.ts)\n`;
  const docs = [{ configHash: rendered.configHash, agentRoute: rendered.agentRoute ?? null }, ...rendered.objects];
  const text = head + docs.map((d) => YAML.stringify(d, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');
  const options = (await prettier.resolveConfig(path.join(testdata, file))) ?? {};
  return prettier.format(text, { ...options, parser: 'yaml' });
}

test('there are golden cases', (t) => {
  t.true(cases.length >= 3);
});

for (const file of cases) {
  test(`golden: ${file}`, async (t) => {
    const c = readCase(file);
    const rendered = renderPipeline(c, c.settings);
    const text = await goldenText(file, rendered);
    const golden = path.join(testdata, file.replace(/\.yaml$/, '.golden.yaml'));
    if (UPDATE) fs.writeFileSync(golden, text);
    t.true(fs.existsSync(golden), `${golden} missing: run with UPDATE_GOLDEN=1`);
    t.is(text, fs.readFileSync(golden, 'utf8'));
    // Deterministic: a second render is byte-identical.
    t.is(await goldenText(file, renderPipeline(c, c.settings)), text);
  });

  test(`the runtime accepts the config rendered from ${file}, for every component`, (t) => {
    const c = readCase(file);
    const rendered = renderPipeline(c, c.settings);
    const configMap = rendered.objects.find((o) => o.kind === 'ConfigMap') as V1ConfigMap;
    const config = resolveRuntimeConfig(JSON.parse(configMap.data![CONFIG_KEY]!), file);
    for (const component of COMPONENTS) t.notThrows(() => requireFor(config, component), component);
    t.deepEqual(JSON.parse(configMap.data![CONFIG_KEY]!), rendered.runtimeConfig);
  });

  test(`${file}: every Deployment is locked down, probed, owned, labelled and wired to the Secrets its runtime reads`, (t) => {
    const c = readCase(file);
    const rendered = renderPipeline(c, c.settings);
    const config = rendered.runtimeConfig as Record<string, Record<string, unknown>>;
    const name = c.pipeline.metadata.name;
    for (const component of COMPONENTS) {
      const d = rendered.objects.find((o) => o.kind === 'Deployment' && o.metadata?.name === `${name}-${component}`) as V1Deployment;
      t.truthy(d, component);
      t.deepEqual(d.metadata!.ownerReferences, [
        {
          apiVersion: 'sextant.dev/v1alpha1',
          kind: 'Pipeline',
          name,
          uid: c.pipeline.metadata.uid!,
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
      t.is(d.metadata!.labels!['app.kubernetes.io/component'], component);
      t.is(d.metadata!.labels!['app.kubernetes.io/managed-by'], 'sextant-operator');
      const pod = d.spec!.template.spec!;
      const container = pod.containers[0]!;
      t.deepEqual(container.args, [component, '--config', '/etc/sextant/runtime.json']);
      t.is(d.spec!.template.metadata!.annotations![CONFIG_HASH_ANNOTATION], rendered.configHash);
      t.true(pod.securityContext!.runAsNonRoot);
      t.is(pod.securityContext!.seccompProfile!.type, 'RuntimeDefault');
      t.true(container.securityContext!.readOnlyRootFilesystem);
      t.false(container.securityContext!.allowPrivilegeEscalation);
      t.deepEqual(container.securityContext!.capabilities!.drop, ['ALL']);
      t.is(container.livenessProbe!.httpGet!.path, '/healthz');
      t.is(container.readinessProbe!.httpGet!.path, '/readyz');
      t.deepEqual(container.ports, [{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
      t.true(container.volumeMounts!.some((m) => m.mountPath === '/tmp'));
      // No mount inside another (a mount point cannot be made inside a read-only ConfigMap or Secret volume).
      const paths = container.volumeMounts!.map((m) => m.mountPath);
      for (const a of paths) for (const b of paths) if (a !== b) t.false(b.startsWith(`${a}/`), `${b} inside ${a}`);
      // Every {env: X} the component reads is a secretKeyRef in its Deployment; no other env.
      const needed = envRefs(component, config).sort();
      t.deepEqual(container.env!.map((e) => e.name).sort(), envNamesFor(component, rendered), component);
      for (const envName of needed)
        t.truthy(
          container.env!.find((e) => e.name === envName && e.valueFrom?.secretKeyRef),
          `${component} ${envName}`,
        );
      // Every file the component reads sits under one of its mounts.
      for (const f of fileRefs(component, config))
        t.true(
          container.volumeMounts!.some((m) => f.startsWith(`${m.mountPath}/`)),
          `${component} ${f}`,
        );
      // With an HPA, the Deployment leaves replicas to it.
      const hpa = rendered.objects.find((o) => o.kind === 'HorizontalPodAutoscaler' && o.metadata?.name === d.metadata!.name);
      t.is(d.spec!.replicas === undefined, hpa !== undefined, component);
    }
  });
}

/** The {env: X} references a component reads (ingestion: API keys and Kafka; processor: Kafka and sinks; query: API keys and sinks). */
function envRefs(component: string, config: Record<string, Record<string, unknown>>): string[] {
  const sections: unknown[] = [];
  if (component !== 'processor') sections.push(config.auth);
  if (component !== 'query') sections.push(config.kafka);
  if (component !== 'ingestion') sections.push(config.sinks);
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o.env === 'string' && Object.keys(o).length === 1) out.push(o.env);
      else Object.values(o).forEach(walk);
    }
  };
  sections.forEach(walk);
  return out;
}

function envNamesFor(component: string, rendered: RenderedPipeline): string[] {
  return envRefs(component, rendered.runtimeConfig as Record<string, Record<string, unknown>>).sort();
}

function fileRefs(component: string, config: Record<string, Record<string, unknown>>): string[] {
  const files: string[] = [];
  const kafkaTls = (config.kafka as { tls?: Record<string, string> }).tls ?? {};
  if (component !== 'query') files.push(...Object.values(kafkaTls).filter((v) => typeof v === 'string'));
  const os = (config.sinks as { opensearch?: { caFile?: string } }).opensearch;
  if (component !== 'ingestion' && os?.caFile) files.push(os.caFile);
  return files;
}

test('examples/ render, and the runtime accepts the result', (t) => {
  const docs = ['pipeline.yaml', 'sinks.yaml', 'retention-policy.yaml'].flatMap((f) =>
    YAML.parseAllDocuments(fs.readFileSync(path.join(root, 'examples', f), 'utf8')).map(
      (d) => d.toJSON() as { kind: string; metadata: Record<string, unknown> },
    ),
  );
  const withMeta = docs.map((d) => ({ ...d, metadata: { ...d.metadata, namespace: 'team-a', uid: 'u' } }));
  const pipeline = withMeta.find((d) => d.kind === 'Pipeline') as unknown as Pipeline;
  const sinks = withMeta.filter((d) => d.kind === 'Sink') as unknown as Sink[];
  const retention = withMeta.find((d) => d.kind === 'RetentionPolicy') as unknown as RetentionPolicy;
  const rendered = renderPipeline(
    {
      pipeline,
      hotSink: sinks.find((s) => s.metadata.name === 'hot'),
      coldSink: sinks.find((s) => s.metadata.name === 'archive'),
      retention,
      secretVersions: {},
    },
    { image: 'sextant:dev', operatorNamespace: 'sextant-system' },
  );
  const config = resolveRuntimeConfig(rendered.runtimeConfig, 'examples');
  for (const component of COMPONENTS) t.notThrows(() => requireFor(config, component));
  t.deepEqual(
    rendered.objects.map((o) => `${o.kind}/${o.metadata!.name}`),
    [
      'ConfigMap/api-config',
      'Deployment/api-ingestion',
      'Deployment/api-processor',
      'Deployment/api-query',
      'Service/api-ingestion',
      'Service/api-query',
      'PodDisruptionBudget/api-ingestion',
      'PodDisruptionBudget/api-processor',
      'HorizontalPodAutoscaler/api-processor',
    ],
  );
});

// ----- tenancy: index names

/** Does an OpenSearch index pattern (only `*` is special) match `name`? */
function globMatches(pattern: string, name: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return re.test(name);
}

test('Pipelines of different namespaces never share an index, template or read pattern, whatever their Sinks say', (t) => {
  const c = readCase('full.yaml');
  // The examples unchanged in two namespaces, and Sinks crafted to collide: a prefix that
  // spells another namespace, names that extend each other, the default prefix.
  const tenants: [string, string, string | undefined][] = [
    ['team-a', 'api', 'team-a'],
    ['team-b', 'api', 'team-a'],
    ['team-b', 'api', undefined],
    ['b', 'api', 'team-a-team'],
    ['team', 'b-api', 'team-a'],
    ['team-a-team-b', 'api', 'team-a'],
    ['team-c', 'api-logs', 'team-a'],
    ['team-a-api-logs', 'x', 'team-a'],
  ];
  const rendered = tenants.map(([namespace, name, prefix]) => {
    const inputs = structuredClone(c);
    inputs.pipeline.metadata = { ...inputs.pipeline.metadata, namespace, name };
    const os = inputs.hotSink!.spec.opensearch!;
    if (prefix === undefined) delete (os as { indexPrefix?: string }).indexPrefix;
    else os.indexPrefix = prefix;
    const config = renderPipeline(inputs, c.settings).runtimeConfig as { sinks: { opensearch: { indexPrefix: string } } };
    return { namespace, name, prefix: config.sinks.opensearch.indexPrefix };
  });
  t.is(rendered[0]!.prefix, 'team-a.team-a.api');
  t.is(rendered[2]!.prefix, 'sextant.team-b.api');
  const day = Date.UTC(2026, 11, 7, 13);
  for (const a of rendered) {
    for (const b of rendered) {
      if (a.namespace === b.namespace) continue;
      for (const signal of ['logs', 'metrics'] as const) {
        const readPattern = `${a.prefix}-${signal}-*`; // what the reader searches and retention lists
        for (const template of indexTemplates(a.prefix)) {
          for (const other of ['logs', 'metrics'] as const) {
            for (const partition of ['daily', 'hourly'] as const) {
              const index = partitionIndex(b.prefix, other, day, partition);
              const where = `${a.namespace}/${a.name} vs ${b.namespace}/${b.name}: ${index}`;
              t.false(globMatches(readPattern, index), `read pattern ${readPattern} matches ${where}`);
              for (const p of template.body.index_patterns as string[]) t.false(globMatches(p, index), `template ${p} matches ${where}`);
            }
          }
        }
      }
    }
  }
  // And the runtime accepts every one of them.
  for (const r of rendered)
    t.notThrows(() =>
      resolveRuntimeConfig({ ...validMinimal(), sinks: { opensearch: { endpoints: ['http://os:9200'], indexPrefix: r.prefix } } }, 'x'),
    );
});

function validMinimal(): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(root, 'runtime/src/platform/testdata/valid-minimal.json'), 'utf8')) as Record<
    string,
    unknown
  >;
}

// ----- the config hash

const full = () => readCase('full.yaml');

test('the config hash moves when a referenced Secret changes, not when an unrelated one does', (t) => {
  const c = full();
  const base = renderPipeline(c, c.settings).configHash;
  t.is(renderPipeline({ ...c, secretVersions: { ...c.secretVersions, unrelated: '999' } }, c.settings).configHash, base);
  for (const secret of ['api-keys', 'os-creds', 'os-ca', 's3-creds']) {
    t.not(renderPipeline({ ...c, secretVersions: { ...c.secretVersions, [secret]: '999' } }, c.settings).configHash, base, secret);
  }
  // Key order of the inputs does not matter.
  const reversed = Object.fromEntries(Object.entries(c.secretVersions).reverse());
  t.is(renderPipeline({ ...c, secretVersions: reversed }, c.settings).configHash, base);
});

test('the config hash moves when a stage, a sink, the retention or the image changes', (t) => {
  const c = full();
  const base = renderPipeline(c, c.settings).configHash;
  const stage = structuredClone(c);
  (stage.pipeline.spec.processors[2] as { drop: { when: { equals: string } } }).drop.when.equals = 'trace';
  t.not(renderPipeline(stage, c.settings).configHash, base);
  const sink = structuredClone(c);
  sink.hotSink!.spec.opensearch!.indexPrefix = 'team-b';
  t.not(renderPipeline(sink, c.settings).configHash, base);
  const retention = structuredClone(c);
  retention.retention!.spec.logs = { hot: '3d', cold: '90d' };
  t.not(renderPipeline(retention, c.settings).configHash, base);
  t.not(renderPipeline(c, { ...c.settings, image: 'ghcr.io/sextant/sextant:0.1.1' }).configHash, base);
  // Replicas are not part of the runtime config: scaling does not roll pods.
  const scaled = structuredClone(c);
  scaled.pipeline.spec.runtimes!.ingestion!.replicas = 5;
  t.is(renderPipeline(scaled, c.settings).configHash, base);
});

test('referencedSecrets lists the Secrets of the Pipeline and of the Sinks it uses, sorted', (t) => {
  const c = readCase('secure-kafka.yaml');
  t.deepEqual(referencedSecrets(c.pipeline, [c.hotSink!]), ['kafka-ca', 'kafka-client', 'kafka-sasl', 'keys', 'os']);
  const f = full();
  const other = { ...f.hotSink!, metadata: { ...f.hotSink!.metadata, name: 'not-used' } };
  t.deepEqual(referencedSecrets(f.pipeline, [f.hotSink!, f.coldSink!, other]), ['api-keys', 'os-ca', 'os-creds', 's3-creds']);
  // Undecoded objects from a cache: what cannot be read is skipped.
  t.deepEqual(referencedSecrets({ spec: {} } as unknown as Pipeline, [{ metadata: {} } as unknown as Sink]), []);
});

// ----- errors

function rejects(t: import('ava').ExecutionContext, inputs: PipelineInputs, reason: string, message: RegExp) {
  const error = t.throws(() => renderPipeline(inputs, { image: 'i', operatorNamespace: 'o' }), { instanceOf: InvalidSpecError });
  t.is(error?.reason, reason);
  t.regex(error?.message ?? '', message);
}

test('a missing or mismatched Sink or RetentionPolicy is a reason, not a crash', (t) => {
  const c = full();
  rejects(t, { ...c, hotSink: undefined }, 'SinkNotFound', /sink "hot" \(spec\.sinks\.hot\) not found in namespace team-a/);
  rejects(t, { ...c, coldSink: undefined }, 'SinkNotFound', /sink "archive" \(spec\.sinks\.cold\) not found/);
  rejects(
    t,
    { ...c, hotSink: { ...c.coldSink!, metadata: { ...c.coldSink!.metadata, name: 'hot' } } },
    'SinkBackendMismatch',
    /the hot tier needs an opensearch backend/,
  );
  rejects(t, { ...c, coldSink: c.hotSink }, 'SinkBackendMismatch', /the cold tier needs an s3 backend/);
  rejects(
    t,
    { ...c, retention: undefined },
    'RetentionPolicyNotFound',
    /retention policy "standard" \(spec\.retentionPolicyRef\) not found/,
  );
});

test('an invalid spec (one the API server cannot catch) is InvalidSpec with the path', (t) => {
  const c = full();
  const bad = structuredClone(c);
  bad.pipeline.spec.processors = [{ redact: { patterns: ['(['], detectors: [], fields: true } }] as never;
  rejects(t, bad, 'InvalidSpec', /spec\.processors\[0\]\.redact\.patterns\[0\]: invalid regular expression/);
  const badSink = structuredClone(c);
  (badSink.hotSink!.spec as Record<string, unknown>).s3 = { bucket: 'x-y-z' };
  rejects(t, badSink, 'InvalidSink', /Sink hot: spec: set exactly one backend/);
});

test('render needs the Pipeline as read from the API server (with a uid)', (t) => {
  const c = full();
  const noUid = structuredClone(c);
  delete noUid.pipeline.metadata.uid;
  t.throws(() => renderPipeline(noUid, c.settings), { message: /has no metadata\.uid/ });
});

test('collecting another namespace needs the operator setting: NamespaceNotAllowed otherwise', (t) => {
  const c = readCase('secure-kafka.yaml');
  const strict = { ...c.settings, allowCrossNamespaceCollection: false };
  rejects(t, c, 'NamespaceNotAllowed', /namespace security may only collect its own namespace's pods, not "payments", "identity"/);
  const own = structuredClone(c);
  own.pipeline.spec.sources.kubernetes!.namespaces = ['security'];
  t.truthy(renderPipeline(own, strict).agentRoute);
  t.deepEqual(renderPipeline(c, c.settings).agentRoute!.namespaces, ['payments', 'identity']);
});

// ----- agent routes

test('agent routes: sorted, keys in a Secret, and the agent accepts the routes file', (t) => {
  const a = renderPipeline(full(), full().settings).agentRoute!;
  const b = renderPipeline(readCase('secure-kafka.yaml'), readCase('secure-kafka.yaml').settings).agentRoute!;
  t.is(renderPipeline(readCase('minimal.yaml'), full().settings).agentRoute, undefined);
  const routes: AgentRoute[] = [
    { ...b, apiKey: 'audit-key-1\naudit-key-2' },
    { ...a, apiKey: 'api-key-1, api-key-2' },
  ];
  const [configMap, secret] = renderAgentConfig(routes, { image: 'i', operatorNamespace: 'sextant-system' }) as [V1ConfigMap, V1Secret];
  t.is(configMap.metadata!.namespace, 'sextant-system');
  t.is(configMap.metadata!.name, 'sextant-agent-routes');
  t.is(secret.metadata!.name, 'sextant-agent-route-keys');
  t.deepEqual(Object.keys(secret.data!), ['security.audit', 'team-a.api']);
  t.is(Buffer.from(secret.data!['team-a.api']!, 'base64').toString(), 'api-key-1');
  t.is(Buffer.from(secret.data!['security.audit']!, 'base64').toString(), 'audit-key-1');
  // Same routes in another order: identical objects.
  t.deepEqual(renderAgentConfig([...routes].reverse(), { image: 'i', operatorNamespace: 'sextant-system' }), [configMap, secret]);

  // The agent's own loader, with the Secret's files where the DaemonSet mounts them.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'route-keys-'));
  for (const [k, v] of Object.entries(secret.data!)) fs.writeFileSync(path.join(dir, k), Buffer.from(v, 'base64'));
  const text = configMap.data![AGENT_ROUTES_KEY]!.split(AGENT_ROUTE_KEYS_DIR).join(dir);
  const base = resolveAgentConfig({}, 'agent.yaml', {});
  const loaded = resolveRoutesFile(text, 'routes.yaml', base, 'agent.yaml', {});
  t.deepEqual(
    loaded.map((r) => [r.name, r.endpoint, r.apiKey, r.logs, r.nodeMetrics, r.podMetrics]),
    [
      ['security.audit', 'http://audit-ingestion.security.svc:8080', 'audit-key-1', true, false, false],
      ['team-a.api', 'http://api-ingestion.team-a.svc:8080', 'api-key-1', true, false, true],
    ],
  );
  t.regex(text, /podMetrics: true/);
  const audit = loaded[0]!.match;
  t.true(audit.matches({ namespace: 'payments', pod: 'p', container: 'app', labels: { audit: 'true', tier: 'prod' } }));
  t.false(audit.matches({ namespace: 'payments', pod: 'p', container: 'sidecar', labels: { audit: 'true', tier: 'prod' } }));
  t.false(audit.matches({ namespace: 'payments', pod: 'p', container: 'app', labels: { audit: 'true', tier: 'dev' } }));
  t.false(audit.matches({ namespace: 'team-a', pod: 'p', container: 'app', labels: { audit: 'true' } }));
  // A scraped pod (container undefined) is selected by namespaces and podSelector only, as the CRD documents for podMetrics.
  t.true(audit.matches({ namespace: 'identity', pod: 'p', container: undefined, labels: { audit: 'true' } }));
  t.false(audit.matches({ namespace: 'identity', pod: 'p', container: undefined, labels: { audit: 'true', tier: 'dev' } }));
  fs.rmSync(dir, { recursive: true });
});

test('a Pipeline gets an agent route only when the agent has something to ship for it', (t) => {
  const c = full();
  const settings = c.settings;
  const metricsOnly = structuredClone(c);
  metricsOnly.pipeline.spec.signals = ['metrics'];
  metricsOnly.pipeline.spec.sources.kubernetes!.podMetrics = false;
  t.is(renderPipeline(metricsOnly, settings).agentRoute, undefined);
  metricsOnly.pipeline.spec.sources.kubernetes!.nodeMetrics = true;
  const route = renderPipeline(metricsOnly, settings).agentRoute!;
  t.deepEqual([route.logs, route.nodeMetrics, route.podMetrics], [false, true, false]);
  // Pod scraping alone is enough for a route; it carries podMetrics into the routes file.
  metricsOnly.pipeline.spec.sources.kubernetes!.nodeMetrics = false;
  metricsOnly.pipeline.spec.sources.kubernetes!.podMetrics = true;
  const scrapeOnly = renderPipeline(metricsOnly, settings).agentRoute!;
  t.deepEqual([scrapeOnly.logs, scrapeOnly.nodeMetrics, scrapeOnly.podMetrics], [false, false, true]);
  const [configMap] = renderAgentConfig([{ ...scrapeOnly, apiKey: 'k' }], settings);
  const file = YAML.parse(configMap.data![AGENT_ROUTES_KEY]!) as { routes: Array<Record<string, unknown>> };
  t.like(file.routes[0], { name: 'team-a.api', logs: false, nodeMetrics: false, podMetrics: true });
  // Without the metrics signal the codec refuses podMetrics as the API server's CEL rule does.
  const logsOnly = structuredClone(c);
  logsOnly.pipeline.spec.signals = ['logs'];
  const error = t.throws(() => renderPipeline(logsOnly, settings), { instanceOf: InvalidSpecError });
  t.regex(error!.message, /spec\.sources: sources\.kubernetes\.podMetrics needs the metrics signal/);
});

test('a route whose Secret holds no key is left out', (t) => {
  const a = renderPipeline(full(), full().settings).agentRoute!;
  const [configMap, secret] = renderAgentConfig([{ ...a, apiKey: ' \n' }], { image: 'i', operatorNamespace: 'o' }) as [
    V1ConfigMap,
    V1Secret,
  ];
  t.deepEqual(secret.data, {});
  t.regex(configMap.data![AGENT_ROUTES_KEY]!, /routes: \[\]/);
});

test('route names stay within the agent limit of 63 characters and stay unique', (t) => {
  t.is(routeName('team-a', 'api'), 'team-a.api');
  const long = routeName('n'.repeat(63), 'p'.repeat(40));
  t.true(long.length <= 63);
  t.regex(long, /^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$/);
  t.not(routeName('n'.repeat(63), 'p'.repeat(40)), routeName('n'.repeat(63), `${'p'.repeat(39)}q`));
});
