import test from 'ava';
import { parseLogfmt } from './logfmt.js';

test('keys, bare values, quoted values, flags and empty values', (t) => {
  t.deepEqual(parseLogfmt('a=1 b="two words" c d= e="" f=x=y g=he"llo'), {
    ok: true,
    pairs: { a: '1', b: 'two words', c: true, d: '', e: '', f: 'x=y', g: 'he"llo' },
  });
});

test('whitespace of any ASCII kind separates pairs; empty input has none', (t) => {
  t.deepEqual(parseLogfmt('  a=1\tb=2\r\nc=3  '), { ok: true, pairs: { a: '1', b: '2', c: '3' } });
  t.deepEqual(parseLogfmt(''), { ok: true, pairs: {} });
  t.deepEqual(parseLogfmt('   '), { ok: true, pairs: {} });
});

test('escapes in quoted values', (t) => {
  t.deepEqual(parseLogfmt('m="q\\" b\\\\ s\\/ n\\n t\\t r\\r u\\u00e9 \\b\\f"'), {
    ok: true,
    pairs: { m: 'q" b\\ s/ n\n t\t r\r u\u00e9 \b\f' },
  });
  t.deepEqual(parseLogfmt('m="caf\u00e9 \u{1F600}"'), { ok: true, pairs: { m: 'caf\u00e9 \u{1F600}' } });
});

test('duplicate keys: the last one wins', (t) => {
  t.deepEqual(parseLogfmt('a=1 a=2'), { ok: true, pairs: { a: '2' } });
});

test('syntax errors say what and where', (t) => {
  const cases: Array<[string, string]> = [
    ['=1', "unexpected '=' at offset 0: expected a key"],
    ['a=1 =2', "unexpected '=' at offset 4: expected a key"],
    ['"a"=1', `unexpected '"' at offset 0: expected a key`],
    ['ab"c=1', `unexpected '"' in key at offset 2`],
    ['a="x', 'unterminated quoted string in value of key "a"'],
    ['a="x\\', 'unterminated quoted string in value of key "a"'],
    ['a="x"y', 'unexpected character after quoted value of key "a" at offset 5'],
    ['a="\\q"', 'invalid escape "\\q" at offset 3 in value of key "a"'],
    ['a="\\u12G4"', 'invalid escape "\\u12G4" at offset 3 in value of key "a"'],
  ];
  for (const [line, error] of cases) t.deepEqual(parseLogfmt(line), { ok: false, error }, line);
});

test('a "__proto__" key is an own property', (t) => {
  const result = parseLogfmt('__proto__=x y=1');
  t.true(result.ok);
  if (result.ok) t.deepEqual(Object.keys(result.pairs), ['__proto__', 'y']);
});
