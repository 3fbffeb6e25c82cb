/**
 * Staleness markers, compared with the real Prometheus engine: Sextant's engine evaluates in
 * process over a reader that reports the markers (the HTTP ingestion cannot carry a marker's
 * NaN bits yet, so this part of the corpus does not go through `sextant up`).
 */
import test from 'ava';
import { evaluateInstant, evaluateRange } from '../../runtime/src/query/promql/evaluate.js';
import { FakeReader } from '../../runtime/src/query/promql/fake-reader.js';
import { formatResult } from '../../runtime/src/query/promql/format.js';
import { parsePromQL } from '../../runtime/src/query/promql/parse.js';
import { QueryError } from '../../runtime/src/query/promql/errors.js';
import { STALE_EVALUATIONS, STALE_QUERIES, type Evaluation } from './corpus.js';
import { type Answer, fromPrometheusApi } from './compare.js';
import { staleDataSet } from './data.js';
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

test.before(async () => {
  answers = await oracleAnswers(series, crossed(STALE_QUERIES, STALE_EVALUATIONS));
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
