import { readFileSync } from 'node:fs';
import test from 'ava';
import { parse } from 'yaml';
import { buildPipeline } from './pipeline.js';

// The README's YAML examples are documentation users copy: each must build.
const readme = readFileSync(new URL('./README.md', import.meta.url), 'utf8');
const examples = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);

test('every YAML example in the README builds', (t) => {
  t.is(examples.length, 6);
  for (const example of examples) {
    const result = buildPipeline((parse(example) as { processors: unknown }).processors);
    t.deepEqual(result.ok ? [] : result.errors, [], example);
  }
});
