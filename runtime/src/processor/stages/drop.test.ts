import test from 'ava';
import { decodeErrors, decodeOk, logEntry } from '../testkit.js';
import { createDropStage, DropConfig } from './drop.js';

test('drops matching entries as drop_matched and keeps the rest', (t) => {
  const stage = createDropStage(
    decodeOk(DropConfig, { when: { any: [{ label: 'level', equals: 'debug' }, { message: { matches: '^GET /healthz' } }] } }),
  );
  t.false(stage.mutates);
  t.is(stage.apply(logEntry({ labels: { level: 'debug' }, message: 'x' })), 'drop_matched');
  t.is(stage.apply(logEntry({ labels: { level: 'info' }, message: 'GET /healthz 200' })), 'drop_matched');
  t.is(stage.apply(logEntry({ labels: { level: 'info' }, message: 'GET /items 200' })), undefined);
});

test('config errors', (t) => {
  t.deepEqual(decodeErrors(DropConfig, { when: { label: 'level', equals: 'debug', in: ['x'] } }), [
    'config.when: a label condition needs exactly one of: equals, matches, in, exists; got equals, in',
  ]);
  t.deepEqual(decodeErrors(DropConfig, []), ['config: expected drop config, got []']);
});
