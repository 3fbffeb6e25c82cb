import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseResync } from './operator.js';

const schemaFile = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../../helm/sextant/values.schema.json');

const VALID: Array<[string, number]> = [
  ['0', 0],
  ['30s', 30_000],
  ['10m', 600_000],
  ['1h', 3_600_000],
  ['1h30m', 5_400_000],
  ['1d', 86_400_000],
  ['2w', 1_209_600_000],
  ['1m30s', 90_000],
];
// ms is not in the grammar of the custom resources either (a resync of milliseconds is a typo).
const INVALID = ['', '10', '10 minutes', '-1m', '1.5h', '30m1h', '1m1m', 'm', '10M', 'ms', '500ms', '1m30s250ms', '9999999s'];

test('--resync reads the durations of the custom resources (no ms)', (t) => {
  for (const [text, ms] of VALID) t.is(parseResync(text), ms, text);
  for (const text of INVALID) t.is(parseResync(text), undefined, JSON.stringify(text));
  // Surrounding blanks of an environment variable are forgiven.
  t.is(parseResync(' 10m\n'), 600_000);
});

test("the chart's operator.resync pattern accepts exactly what --resync accepts", (t) => {
  const schema = JSON.parse(fs.readFileSync(schemaFile, 'utf8')) as {
    properties: { operator: { properties: { resync: { pattern: string; minLength?: number } } } };
  };
  const { pattern, minLength = 0 } = schema.properties.operator.properties.resync;
  // Helm checks the pattern with Go's RE2; this one uses nothing where RE2 and JavaScript differ.
  const re = new RegExp(pattern);
  const chartAccepts = (text: string) => text.length >= minLength && re.test(text);
  for (const [text] of VALID) t.true(chartAccepts(text), text);
  for (const text of INVALID) t.false(chartAccepts(text), JSON.stringify(text));
});
