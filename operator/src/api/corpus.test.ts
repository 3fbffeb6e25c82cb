/**
 * Drift proof, codec side (docs/architecture.md §6). The same files are applied to the real API server by
 * test/cluster/crds.test.ts:
 * - every example in examples/ decodes;
 * - every spec in test/cluster/fixtures/invalid is rejected by the codec with the message its
 *   `# codec:` line gives (the API server rejects it with its `# api-server:` line);
 * - every spec in testdata/codec-only is rejected by the codec (the API server accepts these:
 *   the checks the CRD schema cannot express, which turn a Pipeline InvalidSpec instead).
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { readCorpus } from './corpus.js';
import { decodeResource, KINDS, type KindName } from './v1alpha1.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');

const isKind = (k: string): k is KindName => Object.hasOwn(KINDS, k);

const invalid = readCorpus(path.join(root, 'test/cluster/fixtures/invalid'));
const codecOnly = readCorpus(path.join(here, 'testdata/codec-only'));

test('the invalid corpus has at least 15 specs, each with an API server and a codec message', (t) => {
  t.true(invalid.length >= 15, `${invalid.length} specs`);
  for (const c of invalid) t.truthy(c.apiServer, c.file);
  t.deepEqual([...new Set(invalid.map((c) => c.object.kind))].sort(), ['Pipeline', 'RetentionPolicy', 'Sink']);
});

for (const c of [...invalid, ...codecOnly]) {
  test(`codec rejects ${c.file}`, (t) => {
    if (!isKind(c.object.kind)) return t.fail(`unknown kind ${c.object.kind}`);
    const decoded = decodeResource(c.object.kind, c.object);
    if (decoded.ok) return t.fail('accepted');
    t.true(
      decoded.errors.some((e) => c.codec.test(e)),
      `no error matches ${c.codec}: ${JSON.stringify(decoded.errors)}`,
    );
    // One mistake per file: the spec is otherwise valid, so the codec reports one problem.
    t.is(decoded.errors.length, 1, JSON.stringify(decoded.errors));
  });
}

const examples = fs
  .readdirSync(path.join(root, 'examples'))
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) =>
    YAML.parseAllDocuments(fs.readFileSync(path.join(root, 'examples', f), 'utf8')).map((d, i) => ({
      file: `${f}#${i}`,
      object: d.toJSON() as { kind: string },
    })),
  );

test('examples/ holds a Pipeline, two Sinks and a RetentionPolicy', (t) => {
  const kinds = examples.map((e) => e.object.kind).filter(isKind);
  t.deepEqual(kinds.sort(), ['Pipeline', 'RetentionPolicy', 'Sink', 'Sink']);
});

for (const e of examples) {
  test(`codec accepts ${e.file}`, (t) => {
    if (!isKind(e.object.kind)) return t.is(e.object.kind, 'Secret');
    const decoded = decodeResource(e.object.kind, e.object);
    t.deepEqual(decoded.ok ? [] : decoded.errors, []);
  });
}
