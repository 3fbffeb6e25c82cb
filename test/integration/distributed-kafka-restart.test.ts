/**
 * Kafka restarted under the distributed path, on a real broker of its own: this test starts
 * a private Kafka (test/infra/infra.sh with its own run folder and ports) so stopping it
 * does not disturb other tests using the shared one. While it is down, ingestion is not
 * ready and answers 503 + Retry-After; the client's retries succeed once it is back, and
 * OpenSearch ends with exactly the records that were answered 200.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startRuntime, type RuntimeProcess } from '../support/runtime-process.js';
import { waitFor } from '../support/distributed.js';
import { infraVar } from './helpers/infra-env.js';

const INFRA = fileURLToPath(new URL('../infra/infra.sh', import.meta.url));
const RUN = path.join(os.tmpdir(), 'sextant-it-private-kafka');
const PORT = process.env.SEXTANT_IT_PRIVATE_KAFKA_PORT ?? '29092';
const CONTROLLER_PORT = String(Number(PORT) + 1);
// Its pods listener too, or it would ask for the shared Kafka's (test/infra/services/kafka.sh).
const PODS_PORT = String(Number(PORT) + 2);
const API_KEY = 'it-kafka-restart-key';
const run = promisify(execFile);

const infra = (command: 'up' | 'down') =>
  run('bash', [INFRA, command, 'kafka'], {
    env: { ...process.env, SEXTANT_INFRA_RUN: RUN, KAFKA_PORT: PORT, KAFKA_CONTROLLER_PORT: CONTROLLER_PORT, KAFKA_PODS_PORT: PODS_PORT },
    timeout: 180_000,
  });

const processes: RuntimeProcess[] = [];
let prefix = '';

test.after.always(async () => {
  for (const p of processes) await p.kill();
  if (prefix) await fetch(`${infraVar('OPENSEARCH_URL')}/${prefix}-*`, { method: 'DELETE' }).catch(() => undefined);
  await infra('down').catch(() => undefined);
});

function body(first: number, count: number, runId: string): string {
  const base = BigInt(Date.now()) * 1_000_000n;
  const entries = Array.from({ length: count }, (_, k) => ({
    timestamp: String(base + BigInt(first + k)),
    labels: { service: 'restart', run: runId },
    message: `entry ${first + k}`,
  }));
  return JSON.stringify({ entries });
}

async function post(url: string, payload: string): Promise<Response> {
  return fetch(`${url}/api/v1/logs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: payload,
  });
}

test('Kafka restarted: 503 + Retry-After and /readyz false while down, retries succeed after, exactly N stored', async (t) => {
  const opensearch = infraVar('OPENSEARCH_URL');
  await infra('up');
  const id = `it-${randomBytes(4).toString('hex')}`;
  prefix = id;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sextant-restart-'));
  const configFile = path.join(dir, 'runtime.json');
  fs.writeFileSync(
    configFile,
    JSON.stringify({
      pipeline: { namespace: 'it', name: id },
      http: { port: 0 },
      kafka: { brokers: [`127.0.0.1:${PORT}`], clientId: id, topics: { partitions: 2 }, producer: { requestTimeoutMs: 3000 } },
      sinks: { opensearch: { endpoints: [opensearch], indexPrefix: id } },
    }),
  );
  const env = { SEXTANT_API_KEYS: API_KEY };
  const ingestion = await startRuntime('ingestion', configFile, env);
  processes.push(ingestion);
  const processor = await startRuntime('processor', configFile, env);
  processes.push(processor);
  await waitFor(
    'ingestion ready',
    30_000,
    async () => (await fetch(`${ingestion.url}/readyz`)).status,
    (s) => s === 200,
  );

  const PER = 100;
  for (let i = 0; i < 10; i++) t.is((await post(ingestion.url, body(i * PER, PER, id))).status, 200);

  await infra('down');
  await waitFor(
    'ingestion not ready',
    30_000,
    async () => (await fetch(`${ingestion.url}/readyz`)).status,
    (s) => s === 503,
  );
  const refused = await post(ingestion.url, body(10 * PER, PER, id));
  t.is(refused.status, 503);
  t.truthy(refused.headers.get('retry-after'));

  await infra('up');
  // The client's retries (what the agent does): the same requests until they are answered 200.
  for (let i = 10; i < 20; i++) {
    const payload = body(i * PER, PER, id);
    await waitFor(
      `request ${i} accepted`,
      90_000,
      async () => (await post(ingestion.url, payload)).status,
      (s) => s === 200,
    );
  }
  const count = async () => {
    await fetch(`${opensearch}/${id}-logs-*/_refresh?allow_no_indices=true`, { method: 'POST' });
    const res = await fetch(`${opensearch}/${id}-logs-*/_count?allow_no_indices=true`);
    return ((await res.json()) as { count?: number }).count ?? 0;
  };
  t.is(await waitFor('2,000 documents', 120_000, count, (c) => c >= 20 * PER), 20 * PER);
  await new Promise((r) => setTimeout(r, 2_000));
  t.is(await count(), 20 * PER);
  t.is(await processor.stop(), 0);
  t.is(await ingestion.stop(), 0);
});
