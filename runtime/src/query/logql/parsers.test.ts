import test from 'ava';
import { jsonAll, ParseFailure, sanitizeLabelName, scanJson, type JsonNode } from './parsers.js';

/** `| json` as the tree defines it: every scalar leaf, nested keys joined by "_", arrays skipped. */
function leavesOfTree(line: string): Array<[string, string]> | string {
  let root: JsonNode;
  try {
    root = scanJson(line);
  } catch (error) {
    return (error as Error).message;
  }
  if (root.kind !== 'object') return 'the line is not a JSON object';
  const out: Array<[string, string]> = [];
  const walk = (node: JsonNode & { kind: 'object' }, prefix: string): void => {
    for (const [key, child] of node.entries) {
      const name = prefix + sanitizeLabelName(key);
      if (child.kind === 'object') walk(child, `${name}_`);
      else if (child.kind === 'string') out.push([name, child.value]);
      else if (child.kind === 'scalar' && child.text !== 'null') out.push([name, child.text]);
    }
  };
  walk(root, '');
  return out;
}

function streamed(line: string): Array<[string, string]> | string {
  const out: Array<[string, string]> = [];
  try {
    jsonAll(line, (name, value) => out.push([name, value]));
  } catch (error) {
    if (!(error instanceof ParseFailure)) throw error;
    return out.length > 0 ? 'emitted before failing' : error.message;
  }
  return out;
}

const deep = (n: number, leaf: string) => '{"a":'.repeat(n) + leaf + '}'.repeat(n);

const CORPUS = [
  '{"level":"info","status":200,"took":1.50,"ok":true,"none":null,"neg":-0.5e3}',
  '{"a":{"b":{"c":"x"},"d":[1,{"e":2}],"f":"y"},"g.h-i":"k","0x":"digit first"}',
  '{"esc":"quote \\" slash \\/ nl \\n tab \\t u \\u00e9 \\ud83d\\ude00","e":""}',
  '  { "spaced" : "yes" , "n" : 0 }  ',
  '{}',
  '[1,2]',
  '"text"',
  '{"a":1,}',
  '{"a" 1}',
  '{"a":01}',
  '{"a":"unterminated}',
  '{"a":"bad \\x escape"}',
  '{"a":"ctrl \u0001"}',
  '{"a":tru}',
  '{"a":[1,2}',
  '{"a":1} trailing',
  '{"a":1',
  '',
  deep(256, '1'),
  deep(257, '1'),
  deep(255, '[[1]]'),
  deep(255, '[[[1]]]'),
];

test('| json streams the same leaves as the tree, and the same error, and nothing from an invalid line', (t) => {
  for (const line of CORPUS) t.deepEqual(streamed(line), leavesOfTree(line), line.slice(0, 60));
});

test('| json agrees with the tree on generated objects and on every truncation of them', (t) => {
  let seed = 11;
  const rand = (n: number) => (seed = (seed * 16807) % 2147483647) % n;
  const value = (depth: number): unknown => {
    switch (rand(depth > 3 ? 4 : 6)) {
      case 0:
        return `s${rand(100)}"\\é`;
      case 1:
        return rand(2) ? rand(1000) - 500 : (rand(100000) - 50000) / 128;
      case 2:
        return [true, false, null][rand(3)];
      case 3:
        return null;
      case 4:
        return Array.from({ length: rand(3) }, () => value(depth + 1));
      default:
        return Object.fromEntries(Array.from({ length: rand(4) }, (_, i) => [`k${i}.${rand(9)}`, value(depth + 1)]));
    }
  };
  for (let n = 0; n < 300; n++) {
    const line = JSON.stringify(Object.fromEntries(Array.from({ length: 1 + rand(5) }, (_, i) => [`f-${i}`, value(0)])));
    t.deepEqual(streamed(line), leavesOfTree(line), line);
    const cut = line.slice(0, rand(line.length));
    t.deepEqual(streamed(cut), leavesOfTree(cut), cut);
  }
});
