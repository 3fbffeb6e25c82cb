import test from 'ava';
import { makeCorpus } from '../../../../test/logql/corpus.js';
import { compilePattern } from './parsers.js';
import { PatternMiner, tokenize, WILDCARD } from './patterns.js';

const NS = 1_000_000_000n;
const START = 1_700_000_000n * NS;
const corpus = makeCorpus(START);

function reassemble(t: { words: string[]; separators: string[] }): string {
  return t.words.reduce((acc, w, i) => acc + t.separators[i]! + w, '') + t.separators[t.words.length]!;
}

test('tokenize: words and separators give the line back, long lines included', (t) => {
  const lines = [...corpus.map((e) => e.line), '', '   ', '==', 'a', ' lead and trail ', 'x'.repeat(10) + ' y'.repeat(500)];
  for (const line of lines) {
    for (const maxWords of [1, 3, 128]) {
      const tokens = tokenize(line, maxWords);
      t.is(reassemble(tokens), line, JSON.stringify(line.slice(0, 40)));
      t.is(tokens.separators.length, tokens.words.length + 1);
      t.true(tokens.words.length <= maxWords);
    }
  }
});

/** Mines lines and checks that every line matches, as a LogQL pattern filter, the templates its counts went to. */
function mine(lines: { line: string; ts: bigint; level?: string }[], stepNs = 10n * NS, options = {}) {
  const miner = new PatternMiner(START, stepNs, options);
  for (const l of lines) miner.add(l.line, l.ts, l.level);
  return miner.result(10_000);
}

const total = (p: { samples: [number, number][] }) => p.samples.reduce((n, [, c]) => n + c, 0);

test('access-log lines become one template with <_> where they differ; counts per step add up', (t) => {
  const lines = Array.from({ length: 30 }, (_, i) => ({
    line: `GET /api/users/${1000 + i} status=${i % 3 === 0 ? 500 : 200} took=${i}ms`,
    ts: START + BigInt(i) * NS,
  }));
  const patterns = mine(lines);
  t.deepEqual(
    patterns.map((p) => p.pattern),
    [`GET /api/users/${WILDCARD} status=${WILDCARD} took=${WILDCARD}`],
  );
  t.deepEqual(patterns[0]!.samples, [
    [1_700_000_000, 10],
    [1_700_000_010, 10],
    [1_700_000_020, 10],
  ]);
});

test('different messages stay apart, most frequent first', (t) => {
  const lines = [
    ...Array.from({ length: 5 }, (_, i) => ({ line: `connection from 10.0.0.${i} accepted`, ts: START })),
    ...Array.from({ length: 8 }, (_, i) => ({ line: `cache miss for key user:${i} in region eu`, ts: START })),
  ];
  const patterns = mine(lines);
  t.deepEqual(
    patterns.map((p) => [p.pattern, total(p)]),
    [
      [`cache miss for key user:${WILDCARD} in region eu`, 8],
      [`connection from ${WILDCARD} accepted`, 5],
    ],
  );
});

test('over the LogQL corpus: every template matches, as a pattern filter, at least the lines counted for it', (t) => {
  // Same words, other separators: one template could not match both.
  const resembling = ['user=alice action=login', 'user alice action login', 'user: alice, action: login'];
  const lines = [...corpus.map((e) => e.line), ...resembling].map((line) => ({ line, ts: START }));
  const patterns = mine(lines);
  t.is(
    patterns.reduce((n, p) => n + total(p), 0),
    lines.filter((l) => /[^\s"'`=:,;()[\]{}<>|/?&]/.test(l.line)).length,
    'each line with a word counted once',
  );
  t.true(patterns.length < lines.length / 2, `templates generalise (${patterns.length} for ${lines.length} lines)`);
  for (const p of patterns) {
    const matcher = compilePattern(p.pattern, false);
    const matching = lines.filter((l) => matcher.match(l.line) !== undefined).length;
    t.true(matching >= total(p), `${JSON.stringify(p.pattern)} matches ${matching} lines, counted ${total(p)}`);
  }
});

test('a template per level, reported with it', (t) => {
  const patterns = mine([
    { line: 'job 1 done', ts: START, level: 'info' },
    { line: 'job 2 done', ts: START, level: 'info' },
    { line: 'job 3 done', ts: START, level: 'error' },
    { line: 'job 4 done', ts: START },
  ]);
  t.deepEqual(
    patterns.map((p) => [p.pattern, p.level, total(p)]),
    [
      [`job ${WILDCARD} done`, 'info', 2],
      ['job 3 done', 'error', 1],
      ['job 4 done', undefined, 1],
    ],
  );
});

test('a full leaf still counts every line (it joins the closest template), and huge lines stay bounded', (t) => {
  const distinct = Array.from({ length: 50 }, (_, i) => ({ line: `w${i}a x${i}b y${i}c`, ts: START }));
  const patterns = mine(distinct, 10n * NS, { maxTemplatesPerLeaf: 3 });
  t.is(patterns.length, 3);
  t.is(
    patterns.reduce((n, p) => n + total(p), 0),
    50,
  );
  const huge = Array.from({ length: 3 }, (_, i) => ({ line: `start ${'word '.repeat(100_000)}end${i}`, ts: START }));
  const [one, ...rest] = mine(huge);
  t.is(rest.length, 0);
  t.true(one!.pattern.length < 1000, 'the tail past maxWords is one capture');
  for (const h of huge) t.not(compilePattern(one!.pattern, false).match(h.line), undefined);
});

test('a blank line has no pattern', (t) => {
  const miner = new PatternMiner(START, NS);
  miner.add('   ', START);
  miner.add('', START);
  t.is(miner.lines, 0);
  t.deepEqual(miner.result(10), []);
});
