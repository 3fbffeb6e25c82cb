import test from 'ava';
import { applyStage, decodeErrors, decodeOk, logEntry } from '../testkit.js';
import { createLabelsStage, LabelsConfig } from './labels.js';

const run = (config: unknown, labels: Record<string, string>, fields: Record<string, unknown> = {}) => {
  const { entry, dropped } = applyStage(createLabelsStage(decodeOk(LabelsConfig, config)), logEntry({ labels, fields }));
  return { labels: entry.labels, fields: entry.fields, dropped };
};

test('set adds or overwrites labels', (t) => {
  t.deepEqual(run({ set: { env: 'prod', app: 'web' } }, { app: 'api' }), {
    labels: { app: 'web', env: 'prod' },
    fields: {},
    dropped: undefined,
  });
});

test('rename moves a label; missing sources are ignored', (t) => {
  t.deepEqual(run({ rename: { app: 'service', gone: 'x' } }, { app: 'api', level: 'info' }).labels, { service: 'api', level: 'info' });
});

test('drop removes labels', (t) => {
  t.deepEqual(run({ drop: ['pod', 'missing'] }, { pod: 'p-1', app: 'api' }).labels, { app: 'api' });
});

test('promote moves a field to a label, stringified, optionally renamed', (t) => {
  const result = run(
    { promote: ['level', { field: 'http.status', as: 'status' }, 'ok', 'obj', 'nil', 'absent'] },
    { app: 'api' },
    { level: 'warn', 'http.status': 503, ok: true, obj: { a: 1 }, nil: null, trace_id: 'ab' },
  );
  t.deepEqual(result.labels, { app: 'api', level: 'warn', status: '503', ok: 'true', obj: '{"a":1}' });
  t.deepEqual(result.fields, { nil: null, trace_id: 'ab' });
});

test('demote moves a label to a field, optionally renamed', (t) => {
  const result = run({ demote: ['pod', { label: 'node', as: 'host.name' }, 'missing'] }, { pod: 'p-1', node: 'n-1', app: 'api' });
  t.deepEqual(result.labels, { app: 'api' });
  t.deepEqual(result.fields, { pod: 'p-1', 'host.name': 'n-1' });
});

test('dropFields and renameFields', (t) => {
  const result = run({ dropFields: ['secret'], renameFields: { usr: 'user', gone: 'x' } }, {}, { secret: 's', usr: 'u', keep: 1 });
  t.deepEqual(result.fields, { user: 'u', keep: 1 });
});

test('operations run in a fixed order: moves, renames, removals, then set', (t) => {
  const result = run(
    {
      set: { level: 'forced' },
      drop: ['tmp'],
      rename: { lvl: 'level_name' },
      dropFields: ['pod'],
      renameFields: { pod: 'pod_name' },
      demote: ['pod'],
      promote: [{ field: 'severity', as: 'tmp' }],
    },
    { pod: 'p-1', lvl: 'x' },
    { severity: 'high' },
  );
  // promote severity->tmp, demote pod, renameFields pod->pod_name (so dropFields finds nothing),
  // rename lvl->level_name, drop tmp, set level.
  t.deepEqual(result.labels, { level_name: 'x', level: 'forced' });
  t.deepEqual(result.fields, { pod_name: 'p-1' });
});

test('the caller’s entry is not modified when run by the pipeline copy', (t) => {
  const original = logEntry({ labels: { a: '1' }, fields: { f: 'v' } });
  applyStage(createLabelsStage(decodeOk(LabelsConfig, { promote: ['f'], drop: ['a'] })), original);
  t.deepEqual(original, logEntry({ labels: { a: '1' }, fields: { f: 'v' } }));
});

test('config defaults', (t) => {
  t.deepEqual(decodeOk(LabelsConfig, { drop: ['x'] }), {
    set: {},
    rename: {},
    drop: ['x'],
    promote: [],
    demote: [],
    dropFields: [],
    renameFields: {},
  });
  t.deepEqual(decodeOk(LabelsConfig, { promote: ['level', { field: 'a.b', as: 'ab' }] }).promote, [
    { field: 'level', as: undefined },
    { field: 'a.b', as: 'ab' },
  ]);
});

test('config errors enforce Prometheus label names for new labels', (t) => {
  t.deepEqual(
    decodeErrors(LabelsConfig, {
      set: { '1bad': 'x', __reserved: 'y', ok: 5 },
      rename: { 'any.old-name': 'new-name' },
      drop: [''],
      promote: ['http.status', { field: 'a.b' }, { field: 'x', as: 'bad name' }, 7],
      demote: [{ label: 'pod', as: '' }],
      renameFields: { a: '' },
      relabel: {},
    }),
    [
      'config.relabel: unknown field (valid: set, rename, drop, promote, demote, dropFields, renameFields)',
      'config.set.1bad: invalid label name "1bad": must match ^[a-zA-Z_][a-zA-Z0-9_]*$',
      'config.set.__reserved: invalid label name "__reserved": names starting with "__" are reserved',
      'config.set.ok: expected string, got 5',
      'config.rename.any.old-name: invalid label name "new-name": must match ^[a-zA-Z_][a-zA-Z0-9_]*$',
      'config.drop[0]: must not be empty',
      'config.promote[0]: invalid label name "http.status": must match ^[a-zA-Z_][a-zA-Z0-9_]*$; use {field: "http.status", as: <label name>}',
      'config.promote[1].field: invalid label name "a.b": must match ^[a-zA-Z_][a-zA-Z0-9_]*$; set "as" to a valid label name',
      'config.promote[2].as: invalid label name "bad name": must match ^[a-zA-Z_][a-zA-Z0-9_]*$',
      'config.promote[3]: expected field name or {field, as}, got 7',
      'config.demote[0].as: must not be empty',
      'config.renameFields.a: must not be empty',
    ],
  );
  t.deepEqual(decodeErrors(LabelsConfig, {}), [
    'config: needs at least one of: set, rename, drop, promote, demote, dropFields, renameFields',
  ]);
});
