/**
 * Tenancy (issue 12, finding 1): the examples applied unchanged to two namespaces — both Sinks
 * say `indexPrefix: team-a` — must give two Pipelines that never write, read or expire each
 * other's data. The operator renders both on the real API server; the runtime config each
 * ConfigMap holds then runs as real `sextant ingestion`, `processor` and `query` processes
 * against the real Kafka and OpenSearch, and each query runtime sees only its own entries.
 *
 * The rendered config is used as the operator wrote it, with three local changes only: the
 * listener on 127.0.0.1 and a free port (the pods would listen on 0.0.0.0:8080), the Secret
 * values as env (the pods get them from secretKeyRefs) and no cold tier (the S3 keys already
 * carried the namespace; this test is about the OpenSearch indices).
 */
import test from 'ava';
import { Kafka, logLevel } from 'kafkajs';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { infraVar } from '../integration/helpers/infra-env.js';
import { deleteNamespace, getJson, kubectl, uniqueName, until } from '../support/kube.js';
import { applyCrds, applyDocs, exampleDocs, startOperator, type OperatorProcess } from '../support/operator-process.js';
import { startRuntime, type RuntimeProcess } from '../support/runtime-process.js';
import { osRequest, waitFor } from '../support/distributed.js';

const operatorNs = uniqueName('sxten-op');
const teams = [uniqueName('team-a'), uniqueName('team-b')];
const namespaces = [operatorNs, ...teams];
const processes: RuntimeProcess[] = [];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sextant-tenancy-'));
let operator: OperatorProcess | undefined;
const prefixes: string[] = [];

test.after.always(async () => {
  for (const p of processes.splice(0)) await p.kill();
  await operator?.stop();
  for (const ns of namespaces) deleteNamespace(ns);
  for (const prefix of prefixes) await osRequest('DELETE', `/${prefix}-*`).catch(() => undefined);
  // The operator never deletes topics (they hold data); the test removes the ones it caused.
  const admin = new Kafka({ clientId: 'tenancy-test', brokers: infraVar('KAFKA_BROKERS').split(','), logLevel: logLevel.NOTHING }).admin();
  try {
    await admin.connect();
    const mine = (await admin.listTopics()).filter((topic) => teams.some((ns) => topic.startsWith(`sextant.${ns}.`)));
    if (mine.length > 0) await admin.deleteTopics({ topics: mine });
  } catch {
    // best effort
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  fs.rmSync(tmp, { recursive: true, force: true });
});

interface RuntimeDocument {
  http: Record<string, unknown>;
  sinks: { opensearch: { indexPrefix: string }; s3?: unknown };
  [key: string]: unknown;
}

/** The runtime config the operator rendered for Pipeline api in ns (ConfigMap api-config). */
async function renderedConfig(ns: string): Promise<RuntimeDocument> {
  return until(`ConfigMap ${ns}/api-config`, () => {
    const cm = getJson<{ data?: Record<string, string> }>(['-n', ns, 'get', 'configmap', 'api-config']);
    return cm.data?.['runtime.json'] === undefined ? undefined : (JSON.parse(cm.data['runtime.json']) as RuntimeDocument);
  });
}

function secretValue(ns: string, name: string, key: string): string {
  const s = getJson<{ data: Record<string, string> }>(['-n', ns, 'get', 'secret', name]);
  return Buffer.from(s.data[key]!, 'base64').toString('utf8');
}

async function searchMessages(url: string, key: string): Promise<string[]> {
  const params = new URLSearchParams({ query: '{service="checkout"}', limit: '1000' });
  const res = await fetch(`${url}/api/v1/logs/search?${params}`, { headers: { authorization: `Bearer ${key}` } });
  const text = await res.text();
  // 503 + Retry-After is the contract while OpenSearch is not ready (a fresh index whose shards are still starting): not yet.
  if (res.status === 503) return [];
  if (res.status !== 200) throw new Error(`search answered ${res.status}: ${text}`);
  return (JSON.parse(text) as { entries: { message: string }[] }).entries.map((e) => e.message);
}

test('the examples in two namespaces: separate indices, and each query runtime sees only its own data', async (t) => {
  applyCrds();
  kubectl(['create', 'namespace', operatorNs]);
  operator = await startOperator([
    '--kubeconfig',
    infraVar('KUBECONFIG'),
    '--namespace',
    operatorNs,
    '--lease-name',
    uniqueName('sextant-tenancy'),
    '--image',
    'registry.example/sextant:tenancy-test',
  ]);
  const examples = ['secrets.yaml', 'sinks.yaml', 'retention-policy.yaml', 'pipeline.yaml'].flatMap((f) => exampleDocs(f));
  for (const ns of teams) {
    kubectl(['create', 'namespace', ns]);
    applyDocs(ns, examples);
  }

  const runs: { ns: string; key: string; query: RuntimeProcess; ingestion: RuntimeProcess; prefix: string }[] = [];
  for (const ns of teams) {
    const config = await renderedConfig(ns);
    t.is(config.sinks.opensearch.indexPrefix, `team-a.${ns}.api`, 'the Sink prefix, then namespace and Pipeline');
    prefixes.push(config.sinks.opensearch.indexPrefix);
    delete config.sinks.s3;
    config.http = { ...config.http, host: '127.0.0.1', port: 0 };
    const file = path.join(tmp, `${ns}.json`);
    fs.writeFileSync(file, JSON.stringify(config));
    const key = secretValue(ns, 'api-keys', 'keys');
    const env = {
      SEXTANT_API_KEYS: key,
      OPENSEARCH_USERNAME: secretValue(ns, 'os-creds', 'username'),
      OPENSEARCH_PASSWORD: secretValue(ns, 'os-creds', 'password'),
    };
    const ingestion = await startRuntime('ingestion', file, env);
    processes.push(ingestion);
    processes.push(await startRuntime('processor', file, env));
    const query = await startRuntime('query', file, env);
    processes.push(query);
    runs.push({ ns, key, query, ingestion, prefix: config.sinks.opensearch.indexPrefix });
  }
  t.not(runs[0]!.prefix, runs[1]!.prefix);

  // Each team pushes the same stream (same labels), with messages that name the team.
  const perTeam = 20;
  for (const r of runs) {
    const entries = Array.from({ length: perTeam }, (_, i) => ({
      labels: { service: 'checkout', level: 'info' },
      message: `${r.ns} entry ${i}`,
    }));
    await waitFor(
      `ingestion of ${r.ns} accepts`,
      60_000,
      async () =>
        (
          await fetch(`${r.ingestion.url}/api/v1/logs`, {
            method: 'POST',
            headers: { authorization: `Bearer ${r.key}`, 'content-type': 'application/json' },
            body: JSON.stringify({ entries }),
          })
        ).status,
      (s) => s === 200,
    );
  }

  for (const r of runs) {
    const seen = await waitFor(
      `the query runtime of ${r.ns} to see its ${perTeam} entries`,
      120_000,
      () => searchMessages(r.query.url, r.key),
      (m) => m.filter((x) => x.startsWith(`${r.ns} `)).length >= perTeam,
    );
    const foreign = seen.filter((m) => !m.startsWith(`${r.ns} `));
    t.deepEqual(foreign, [], `${r.ns} sees another namespace's entries`);
    t.is(seen.length, perTeam, r.ns);
  }

  // In OpenSearch: each namespace's indices hold exactly its own entries.
  for (const r of runs) {
    await osRequest('POST', `/${r.prefix}-logs-*/_refresh?allow_no_indices=true`);
    const count = await osRequest<{ count?: number }>('GET', `/${r.prefix}-logs-*/_count?allow_no_indices=true`);
    t.is(count.count, perTeam, r.prefix);
  }
});
