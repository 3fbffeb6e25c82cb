/**
 * The PromQL corpus against the distributed mode on the real servers: `sextant ingestion` →
 * Kafka → `sextant processor` → OpenSearch → `sextant query`, compared with the real
 * Prometheus engine on the same data.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { infraVar } from '../integration/helpers/infra-env.js';
import { startRuntime, type RuntimeProcess } from '../support/runtime-process.js';
import { waitReady } from '../support/distributed.js';
import { EVALUATIONS, QUERIES } from './corpus.js';
import { mainDataSet } from './data.js';
import { API_KEY, ask, pushAndWait } from './http-target.js';
import type { OracleAnswer } from './oracle.js';
import { crossed, oracleAnswers, registerCorpus } from './run-corpus.js';

const series = mainDataSet();
const id = `diff-${randomBytes(4).toString('hex')}`;
const processes: RuntimeProcess[] = [];
let query: RuntimeProcess | undefined;
let answers: Map<string, OracleAnswer> | undefined;

test.before(async () => {
  const oracle = oracleAnswers(series, crossed(QUERIES, EVALUATIONS));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sextant-differential-'));
  const config = path.join(dir, 'runtime.json');
  fs.writeFileSync(
    config,
    JSON.stringify({
      pipeline: { namespace: 'differential', name: id },
      signals: ['metrics'],
      http: { port: 0 },
      auth: { apiKeys: { env: 'SEXTANT_API_KEYS' } },
      kafka: { brokers: infraVar('KAFKA_BROKERS').split(','), clientId: id, topics: { partitions: 2, replicationFactor: 1 } },
      rateLimit: { requestsPerSecond: 100_000, burst: 100_000 },
      sinks: { opensearch: { endpoints: [infraVar('OPENSEARCH_URL')], indexPrefix: id } },
      // The data set lies in 2023: keep all of it in the hot tier (there is no cold tier here).
      query: { hotWindow: '5000d' },
    }),
  );
  for (const component of ['ingestion', 'processor', 'query'] as const) {
    const p = await startRuntime(component, config, { SEXTANT_API_KEYS: API_KEY });
    processes.push(p);
    if (component === 'query') query = p;
  }
  await waitReady(processes[0]!.url, 120_000);
  await pushAndWait(processes[0]!.url, query!.url, series, 180_000);
  answers = await oracle;
});

test.after.always(async () => {
  for (const p of processes.splice(0)) await p.kill();
  await fetch(`${infraVar('OPENSEARCH_URL')}/${id}-*`, { method: 'DELETE' }).catch(() => undefined);
});

registerCorpus(
  test,
  'sextant query (OpenSearch)',
  QUERIES,
  EVALUATIONS,
  () => answers!,
  (q, evaluation) => ask(query!.url, q, evaluation),
);
