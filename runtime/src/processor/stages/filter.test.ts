import test from 'ava';
import { decodeErrors, decodeOk, logEntry } from '../testkit.js';
import { createFilterStage, FilterConfig } from './filter.js';

test('keeps only matching entries; the others are dropped as filter_not_matched', (t) => {
  const stage = createFilterStage(decodeOk(FilterConfig, { when: { label: 'namespace', in: ['team-a', 'team-b'] } }));
  t.false(stage.mutates);
  t.is(stage.apply(logEntry({ labels: { namespace: 'team-a' } })), undefined);
  t.is(stage.apply(logEntry({ labels: { namespace: 'team-c' } })), 'filter_not_matched');
  t.is(stage.apply(logEntry()), 'filter_not_matched');
});

test('does not modify the entry', (t) => {
  const stage = createFilterStage(decodeOk(FilterConfig, { when: { message: { contains: 'x' } } }));
  const entry = logEntry({ message: 'x', labels: { a: 'b' }, fields: { c: 1 } });
  stage.apply(entry);
  t.deepEqual(entry, logEntry({ message: 'x', labels: { a: 'b' }, fields: { c: 1 } }));
});

test('config errors', (t) => {
  t.deepEqual(decodeErrors(FilterConfig, {}), ['config.when: is required (condition)']);
  t.deepEqual(decodeErrors(FilterConfig, { when: { label: 'a', equals: 'b' }, condition: {} }), [
    'config.condition: unknown field (valid: when)',
  ]);
});
