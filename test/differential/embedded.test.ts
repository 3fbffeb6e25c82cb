/**
 * The PromQL corpus against a real `sextant up`, compared with the real Prometheus engine on
 * the same data (data.ts), pushed through the ingestion API.
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { startSextant, tempDataDir, type SextantProcess } from '../support/sextant-process.js';
import { postJson, waitFor } from '../support/distributed.js';
import { EVALUATIONS, QUERIES, type Evaluation } from './corpus.js';
import { type Answer, fromPrometheusApi } from './compare.js';
import { mainDataSet, SPAN_MS, T0 } from './data.js';
import type { OracleAnswer } from './oracle.js';
import { crossed, oracleAnswers, registerCorpus } from './run-corpus.js';

const API_KEY = 'differential-test-key';
const series = mainDataSet();
let sextant: SextantProcess | undefined;
let answers: Map<string, OracleAnswer> | undefined;

test.before(async () => {
  const oracle = oracleAnswers(series, crossed(QUERIES, EVALUATIONS));
  const dataDir = tempDataDir('sextant-differential-');
  const config = path.join(dataDir, 'config.yaml');
  fs.writeFileSync(config, 'rateLimit: { requestsPerSecond: 100000, burst: 100000 }\n');
  sextant = await startSextant({ dataDir, apiKey: API_KEY, args: ['--config', config, '--sync', 'normal'] });
  const samples = series.flatMap((s) => {
    const { __name__: name, ...labels } = s.labels;
    return s.samples.map(([timestamp, value]) => ({ name, labels, timestamp, value }));
  });
  for (let i = 0; i < samples.length; i += 5000)
    await postJson(sextant.url, '/api/v1/metrics', { samples: samples.slice(i, i + 5000) }, API_KEY);
  // Ingestion is asynchronous: wait until every sample can be read back.
  const query = `{__name__=~".+"}[${SPAN_MS / 1000 + 600}s]`;
  await waitFor(
    `${samples.length} samples in sextant`,
    60_000,
    async () => {
      const answer = await ask(query, { time: T0 + SPAN_MS + 60_000 });
      if (answer.kind === 'error') throw new Error(`counting the samples failed: ${answer.errorType}: ${answer.message}`);
      return answer.kind === 'matrix' ? answer.series.reduce((n, s) => n + s.points.length, 0) : -1;
    },
    (n) => n === samples.length,
  );
  answers = await oracle;
});

test.after.always(async () => {
  await sextant?.stop();
  if (sextant) fs.rmSync(sextant.dataDir, { recursive: true, force: true });
});

async function ask(query: string, evaluation: Evaluation): Promise<Answer> {
  const params = new URLSearchParams({ query });
  const seconds = (ms: number): string => (ms / 1000).toFixed(3);
  let route = '/api/v1/query';
  if ('time' in evaluation) params.set('time', seconds(evaluation.time));
  else {
    route = '/api/v1/query_range';
    params.set('start', seconds(evaluation.start));
    params.set('end', seconds(evaluation.end));
    params.set('step', seconds(evaluation.step));
  }
  const res = await fetch(`${sextant!.url}${route}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: params,
  });
  return fromPrometheusApi(res.status, await res.json());
}

registerCorpus(test, 'sextant up', QUERIES, EVALUATIONS, () => answers!, ask);
