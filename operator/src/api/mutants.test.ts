import test from 'ava';
import { mutantsOf } from './mutants.js';

test('one change per mutant, below spec only, original untouched', (t) => {
  const original = { kind: 'Sink', metadata: { name: 'x' }, spec: { s3: { bucket: 'b', forcePathStyle: true, tags: ['a'] } } };
  const frozen = JSON.stringify(original);
  const mutants = mutantsOf(original);
  t.is(JSON.stringify(original), frozen);
  const whats = mutants.map((m) => m.what);
  t.true(whats.includes('spec.s3 removed'));
  t.true(whats.includes('spec.s3.bucket = 42 (number for a string)'));
  t.true(whats.includes('spec.s3.forcePathStyle = "yes" (string for a boolean)'));
  t.true(whats.includes('spec.s3.tags = []'));
  t.false(whats.includes('spec.s3.tags[0] removed')); // the same object as tags = []
  t.true(whats.includes('spec gets an unknown field'));
  t.false(whats.some((w) => w.startsWith('metadata') || w === 'spec removed'));
  const removed = mutants.find((m) => m.what === 'spec.s3.bucket removed')!.object as typeof original;
  t.deepEqual(removed.spec.s3, { forcePathStyle: true, tags: ['a'] } as never);
  t.deepEqual(new Set(mutants.map((m) => JSON.stringify(m.object))).size, mutants.length);
});
