/** RE2 semantics of the regexes in PromQL and LogQL queries (the engine itself: common/regex.ts). */
import test from 'ava';
import { evaluateInstant } from './promql/evaluate.js';
import { QueryError } from './promql/errors.js';
import { FakeReader } from './promql/fake-reader.js';
import { parsePromQL } from './promql/parse.js';
import { selectLogStreams } from './logql/evaluate.js';
import { parseLogQL } from './logql/parse.js';
import type { LogQuery } from './logql/ast.js';

const NS = 1_000_000_000n;

function metrics(): FakeReader {
  const reader = new FakeReader();
  for (const job of ['API', 'api-7', '日志', 'a.b', 'axb']) reader.addSeries({ __name__: 'up', job }, [[1000, 1]]);
  return reader;
}

async function jobs(query: string): Promise<string[]> {
  const result = await evaluateInstant(parsePromQL(query), metrics(), 1000);
  if (result.resultType !== 'vector') throw new Error('expected a vector');
  return result.samples.map((s) => s.metric.job!).sort();
}

test('PromQL matchers take RE2 syntax, fully anchored', async (t) => {
  t.deepEqual(await jobs('up{job=~"(?i)api"}'), ['API']);
  t.deepEqual(await jobs('up{job=~"api-[[:digit:]]"}'), ['api-7']);
  t.deepEqual(await jobs('up{job=~"\\\\p{Han}+"}'), ['日志']);
  t.deepEqual(await jobs('up{job=~`\\Qa.b\\E`}'), ['a.b']);
  t.deepEqual(await jobs('up{job=~"a.b"}'), ['a.b', 'axb']);
  t.deepEqual(await jobs('up{job=~"api"}'), [], 'anchored: "api" does not match "api-7"');
  t.deepEqual(await jobs('up{job!~"(?i)API|a.*"}'), ['日志']);
});

function rejected(parse: () => unknown, pattern: string): string {
  try {
    parse();
  } catch (error) {
    if (!(error instanceof QueryError)) throw error;
    if (error.type !== 'bad_data') throw new Error(`expected bad_data, got ${error.type}`);
    if (!error.message.includes(JSON.stringify(pattern))) throw new Error(`message does not name ${pattern}: ${error.message}`);
    return error.message;
  }
  throw new Error(`${pattern} was accepted`);
}

test('backreferences and lookarounds are refused as bad_data naming the pattern', (t) => {
  for (const pattern of ['(a)\\1', '(?=a)b', '(?!a)b', '(?<=a)b', '(?<!a)b']) {
    const quoted = pattern.replace(/\\/g, '\\\\');
    t.regex(
      rejected(() => parsePromQL(`up{job=~"${quoted}"}`), pattern),
      /invalid regular expression.*unsupported/,
    );
    t.regex(
      rejected(() => parseLogQL(`{app="a"} |~ "${quoted}"`), pattern),
      /invalid regular expression.*unsupported/,
    );
    t.regex(
      rejected(() => parseLogQL(`{app=~"${quoted}"}`), pattern),
      /invalid regular expression.*unsupported/,
    );
  }
});

function logQuery(query: string): LogQuery {
  const expr = parseLogQL(query);
  if (expr.type !== 'logs') throw new Error('expected a log query');
  return expr;
}

async function lines(query: string, reader: FakeReader): Promise<string[]> {
  const streams = await selectLogStreams(logQuery(query), reader, { startNs: 0n, endNs: 100n * NS, limit: 100, direction: 'forward' });
  return streams.flatMap((s) => s.entries.map((e) => e.line));
}

test('LogQL line filters take RE2 syntax, unanchored; a catastrophic pattern answers at once', async (t) => {
  const reader = new FakeReader()
    .addLog({ app: 'r' }, 1n * NS, 'a'.repeat(34) + '!')
    .addLog({ app: 'r' }, 2n * NS, 'ERROR code 42')
    .addLog({ app: 'r' }, 3n * NS, '日志 line')
    .addLog({ app: 'r' }, 4n * NS, 'x.y*z');
  t.deepEqual(await lines('{app="r"} |~ "(a+)+b"', reader), []);
  t.deepEqual(await lines('{app="r"} |~ "(a+)+!"', reader), ['a'.repeat(34) + '!']);
  t.deepEqual(await lines('{app="r"} |~ "(?i)error"', reader), ['ERROR code 42']);
  t.deepEqual(await lines('{app="r"} |~ "[[:digit:]]{2}"', reader), ['ERROR code 42']);
  t.deepEqual(await lines('{app="r"} |~ "\\\\p{Han}"', reader), ['日志 line']);
  t.deepEqual(await lines('{app="r"} |~ `\\Q.y*\\E`', reader), ['x.y*z']);
  t.deepEqual(await lines('{app="r"} !~ "a|日"', reader), ['ERROR code 42', 'x.y*z']);
});
