import test from 'ava';
import { compileRegex, RegexError, regexProblem } from './regex.js';

const anchored = (p: string) => compileRegex(p, { anchored: true, dotAll: true });
const unanchored = (p: string) => compileRegex(p, { anchored: false });

test('RE2 syntax that Prometheus and Loki accept', (t) => {
  t.true(anchored('(?i)abc').test('ABC'));
  t.true(anchored('[[:digit:]]+').test('0123'));
  t.false(anchored('[[:digit:]]+').test('01a'));
  t.true(unanchored('\\p{Han}').test('日志 line'));
  t.false(unanchored('\\p{Han}').test('plain line'));
  t.true(anchored('\\Qa.b*\\E').test('a.b*'));
  t.false(anchored('\\Qa.b*\\E').test('axbb'));
  t.deepEqual(unanchored('(?P<code>\\d+) (?<word>\\w+)').groupNames, ['code', 'word']);
});

test('anchored matchers match the whole value, with . matching a newline; line filters any substring', (t) => {
  t.false(anchored('b').test('abc'));
  t.true(anchored('a|ab').test('ab'));
  t.true(anchored('.*').test('a\nb'));
  t.true(anchored('').test(''));
  t.true(unanchored('b').test('abc'));
  t.false(unanchored('.+').test('\n'));
});

test('a catastrophic pattern for a backtracking engine runs in linear time', (t) => {
  const line = 'a'.repeat(34) + '!';
  t.false(unanchored('(a+)+b').test(line));
  t.false(anchored('(a|a)*b').test('a'.repeat(10_000)));
});

test('backreferences, lookarounds and broken syntax are refused naming the pattern', (t) => {
  for (const p of ['(a)\\1', '(?=a)', '(?!a)b', '(?<=a)b', '(?<!a)b', '[a', 'a{1001}']) {
    const error = t.throws(() => unanchored(p), { instanceOf: RegexError });
    t.true(error!.message.startsWith(`invalid regular expression ${JSON.stringify(p)}: `), error!.message);
    t.regex(error!.message, /unsupported/);
  }
  t.is(regexProblem('a+'), undefined);
  t.regex(regexProblem('(?=a)') ?? '', /invalid regular expression "\(\?=a\)".*unsupported/);
});

test('groups and replaceAll', (t) => {
  const re = unanchored('(?P<k>\\w+)=(?P<v>\\d+)?');
  t.deepEqual(re.groups('x k=12 y'), { k: 'k', v: '12' });
  t.deepEqual(re.groups('k='), { k: 'k', v: undefined });
  t.is(re.groups('nothing'), undefined);
  t.is(
    unanchored('tok=\\w+').replaceAll('a tok=1 b tok=2 $&', () => '[R]'),
    'a [R] b [R] $&',
  );
  t.is(
    unanchored('z').replaceAll('abc', () => '[R]'),
    'abc',
  );
  t.is(
    unanchored('é+').replaceAll('😀éé😀', () => '-'),
    '😀-😀',
  );
});

test('alternations of literals (the fast path) answer as the automaton does', (t) => {
  const values = ['api', 'web', 'db', 'api-1', 'xapi', '', 'API', 'web db', 'a|b'];
  for (const pattern of ['api|web|db', '(api|web|db)', 'api', '(api-1|web db)', 'a', 'x|']) {
    for (const anchoredMode of [true, false]) {
      const fast = compileRegex(pattern, { anchored: anchoredMode, dotAll: anchoredMode });
      const slow = compileRegex(`(?:${pattern})`, { anchored: anchoredMode, dotAll: anchoredMode }); // not on the fast path
      for (const v of values) t.is(fast.test(v), slow.test(v), `${pattern} ${anchoredMode} ${JSON.stringify(v)}`);
    }
  }
});
