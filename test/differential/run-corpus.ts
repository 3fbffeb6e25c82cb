/**
 * What the differential tests share: the corpus crossed with its evaluations, the oracle's
 * answers for them, and one ava test per query that checks every evaluation.
 */
import type { ExecutionContext, TestFn } from 'ava';
import { type Evaluation } from './corpus.js';
import { type Answer, difference, fromOracle, isOrdered } from './compare.js';
import type { DataSeries } from './data.js';
import { type OracleAnswer, type OracleQuery, runOracle } from './oracle.js';
import { EXPECTED_UNSUPPORTED } from './unsupported.js';

export function crossed(queries: readonly string[], evaluations: Evaluation[]): OracleQuery[] {
  return queries.flatMap((query, i) => evaluations.map((evaluation, j) => ({ id: `${i}/${j}`, query, evaluation })));
}

export async function oracleAnswers(series: DataSeries[], queries: OracleQuery[]): Promise<Map<string, OracleAnswer>> {
  return runOracle(series, queries);
}

/** How many oracle answers carry data (not an error, not empty): the corpus must not pass vacuously. */
export function answersWithData(answers: Map<string, OracleAnswer>): number {
  let n = 0;
  for (const a of answers.values()) {
    if (a.status !== 'success') continue;
    if ((a.resultType === 'vector' || a.resultType === 'matrix') && a.result.length === 0) continue;
    n++;
  }
  return n;
}

const describe = (e: Evaluation): string => ('time' in e ? `instant at ${e.time}` : `range ${e.start}..${e.end} step ${e.step}`);

/**
 * Registers one test per query: every evaluation must agree with the oracle, or — for the
 * expected-unsupported queries — answer 400 bad_data "unsupported: …".
 */
export function registerCorpus(
  test: TestFn,
  mode: string,
  queries: readonly string[],
  evaluations: Evaluation[],
  oracle: () => Map<string, OracleAnswer>,
  ask: (query: string, evaluation: Evaluation) => Promise<Answer>,
): void {
  test.serial(`${mode}: most answers carry data`, (t) => {
    const answers = oracle();
    const withData = answersWithData(answers);
    t.log(`${withData} of ${answers.size} oracle answers carry data`);
    t.true(withData >= 0.8 * answers.size, `only ${withData} of ${answers.size} oracle answers carry data`);
  });
  queries.forEach((query, i) => {
    test.serial(`${mode}: ${query}`, async (t: ExecutionContext) => {
      const answers = oracle();
      for (const [j, evaluation] of evaluations.entries()) {
        const expected = answers.get(`${i}/${j}`);
        if (!expected) return t.fail(`the oracle has no answer for ${query} (${describe(evaluation)})`);
        const actual = await ask(query, evaluation);
        if (EXPECTED_UNSUPPORTED.has(query)) {
          const unsupported = actual.kind === 'error' && actual.errorType === 'bad_data' && actual.message.startsWith('unsupported: ');
          const agrees = difference(fromOracle(expected), actual, isOrdered(query)) === undefined;
          if (!unsupported) {
            return t.fail(
              `listed as unsupported but answered ${agrees ? 'like the oracle (remove it from the list)' : JSON.stringify(actual).slice(0, 300)}`,
            );
          }
          continue;
        }
        const diff = difference(fromOracle(expected), actual, isOrdered(query));
        if (diff !== undefined) return t.fail(`${describe(evaluation)}: ${diff}`);
      }
      t.pass();
    });
  });
}
