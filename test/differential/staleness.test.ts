/**
 * Staleness markers, compared with the real Prometheus engine: Sextant's engine evaluates in
 * process over a reader that reports the markers, and a real `sextant up` answers over
 * HTTP with the data set pushed by Prometheus remote_write (the one ingestion path that
 * carries a marker's NaN bits), so the store's read path must report them too.
 */
import test from 'ava';
import fs from 'node:fs';
import { startSextant, tempDataDir, type SextantProcess } from '../support/sextant-process.js';
import { evaluateInstant, evaluateRange } from '../../runtime/src/query/promql/evaluate.js';
import { FakeReader } from '../../runtime/src/query/promql/fake-reader.js';
import { formatResult } from '../../runtime/src/query/promql/format.js';
import { parsePromQL } from '../../runtime/src/query/promql/parse.js';
import { QueryError } from '../../runtime/src/query/promql/errors.js';
import { STALE_EVALUATIONS, STALE_QUERIES, type Evaluation } from './corpus.js';
import { type Answer, fromPrometheusApi } from './compare.js';
import { staleDataSet } from './data.js';
import { API_KEY, ask as askHttp, remoteWriteAndWait } from './http-target.js';
import type { OracleAnswer } from './oracle.js';
import { crossed, oracleAnswers, registerCorpus } from './run-corpus.js';

const series = staleDataSet();
const reader = new FakeReader();
for (const s of series) {
  reader.addSeries(
    s.labels,
    s.samples.map(([t, v]) => [t, v === 'stale' ? 'stale' : Number(v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : v)]),
  );
}
let answers: Map<string, OracleAnswer> | undefined;
let sextant: SextantProcess | undefined;

test.before(async () => {
  const oracle = oracleAnswers(series, crossed(STALE_QUERIES, STALE_EVALUATIONS));
  sextant = await startSextant({ dataDir: tempDataDir('sextant-differential-stale-'), apiKey: API_KEY, args: ['--sync', 'normal'] });
  await remoteWriteAndWait(sextant.url, sextant.url, series, 60_000);
  answers = await oracle;
});

test.after.always(async () => {
  await sextant?.stop();
  if (sextant) fs.rmSync(sextant.dataDir, { recursive: true, force: true });
});

async function ask(query: string, evaluation: Evaluation): Promise<Answer> {
  try {
    const expr = parsePromQL(query);
    const result =
      'time' in evaluation
        ? await evaluateInstant(expr, reader, evaluation.time)
        : await evaluateRange(expr, reader, evaluation.start, evaluation.end, evaluation.step);
    return fromPrometheusApi(200, { status: 'success', data: formatResult(result) });
  } catch (error) {
    if (!(error instanceof QueryError)) throw error;
    return { kind: 'error', errorType: error.type, message: error.message };
  }
}

registerCorpus(test, 'staleness (in process)', STALE_QUERIES, STALE_EVALUATIONS, () => answers!, ask);
registerCorpus(
  test,
  'staleness (sextant up, remote_write)',
  STALE_QUERIES,
  STALE_EVALUATIONS,
  () => answers!,
  (query, evaluation) => askHttp(sextant!.url, query, evaluation),
);
