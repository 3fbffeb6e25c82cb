/**
 * The PromQL corpus against a real `sextant up`, compared with the real Prometheus engine on
 * the same data (data.ts), pushed through the ingestion API.
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { startSextant, tempDataDir, type SextantProcess } from '../support/sextant-process.js';
import { EVALUATIONS, QUERIES } from './corpus.js';
import { mainDataSet } from './data.js';
import { API_KEY, ask, pushAndWait } from './http-target.js';
import type { OracleAnswer } from './oracle.js';
import { crossed, oracleAnswers, registerCorpus } from './run-corpus.js';

const series = mainDataSet();
let sextant: SextantProcess | undefined;
let answers: Map<string, OracleAnswer> | undefined;

test.before(async () => {
  const oracle = oracleAnswers(series, crossed(QUERIES, EVALUATIONS));
  const dataDir = tempDataDir('sextant-differential-');
  const config = path.join(dataDir, 'config.yaml');
  fs.writeFileSync(config, 'rateLimit: { requestsPerSecond: 100000, burst: 100000 }\n');
  sextant = await startSextant({ dataDir, apiKey: API_KEY, args: ['--config', config, '--sync', 'normal'] });
  await pushAndWait(sextant.url, sextant.url, series, 60_000);
  answers = await oracle;
});

test.after.always(async () => {
  await sextant?.stop();
  if (sextant) fs.rmSync(sextant.dataDir, { recursive: true, force: true });
});

registerCorpus(
  test,
  'sextant up',
  QUERIES,
  EVALUATIONS,
  () => answers!,
  (query, evaluation) => ask(sextant!.url, query, evaluation),
);
