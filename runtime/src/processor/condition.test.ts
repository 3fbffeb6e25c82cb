import test from 'ava';
import { compileCondition, ConditionCodec } from './condition.js';
import { decodeErrors, decodeOk, logEntry } from './testkit.js';

const matcher = (condition: unknown) => compileCondition(decodeOk(ConditionCodec, condition));

const entry = logEntry({
  labels: { level: 'debug', namespace: 'team-a' },
  message: 'GET /healthz 200 took 3ms',
  fields: { status: 503, code: '503', ok: false, user: { id: 1 }, nothing: null, trace_id: 'ab12' },
});

test('label conditions', (t) => {
  t.true(matcher({ label: 'level', equals: 'debug' })(entry));
  t.false(matcher({ label: 'level', equals: 'info' })(entry));
  t.false(matcher({ label: 'missing', equals: '' })(entry));
  t.true(matcher({ label: 'namespace', matches: 'team' })(entry), 'regexes are unanchored');
  t.false(matcher({ label: 'namespace', matches: '^team$' })(entry));
  t.true(matcher({ label: 'level', in: ['info', 'debug'] })(entry));
  t.false(matcher({ label: 'level', in: ['info'] })(entry));
  t.true(matcher({ label: 'level', exists: true })(entry));
  t.true(matcher({ label: 'pod', exists: false })(entry));
  t.false(matcher({ label: 'constructor', exists: true })(entry), 'prototype keys are not labels');
  t.false(matcher({ label: 'toString', matches: 'function' })(entry));
});

test('field conditions compare scalars as text', (t) => {
  t.true(matcher({ field: 'status', equals: 503 })(entry));
  t.true(matcher({ field: 'status', equals: '503' })(entry));
  t.true(matcher({ field: 'code', equals: 503 })(entry));
  t.true(matcher({ field: 'ok', equals: false })(entry));
  t.true(matcher({ field: 'status', matches: '^5..' })(entry));
  t.false(matcher({ field: 'status', matches: '^4..' })(entry));
  t.true(matcher({ field: 'status', in: [500, 503] })(entry));
  t.true(matcher({ field: 'trace_id', in: ['ab12', 'cd34'] })(entry));
  t.false(matcher({ field: 'user', equals: '[object Object]' })(entry), 'objects never equal');
  t.false(matcher({ field: 'user', matches: '.' })(entry), 'objects never match');
  t.false(matcher({ field: 'nothing', equals: 'null' })(entry), 'null never equals');
  t.true(matcher({ field: 'nothing', exists: true })(entry), 'a null field exists');
  t.true(matcher({ field: 'absent', exists: false })(entry));
  t.false(matcher({ field: 'absent', matches: '.*' })(entry));
});

test('message conditions', (t) => {
  t.true(matcher({ message: { contains: '/healthz' } })(entry));
  t.false(matcher({ message: { contains: '/ready' } })(entry));
  t.true(matcher({ message: { matches: 'took \\d+ms$' } })(entry));
  t.false(matcher({ message: { matches: '^POST' } })(entry));
});

test('all, any, not', (t) => {
  const debug = { label: 'level', equals: 'debug' };
  const info = { label: 'level', equals: 'info' };
  t.true(matcher({ all: [debug, { field: 'status', matches: '^5' }] })(entry));
  t.false(matcher({ all: [debug, info] })(entry));
  t.true(matcher({ any: [info, debug] })(entry));
  t.false(matcher({ any: [info, { not: debug }] })(entry));
  t.true(matcher({ not: info })(entry));
  t.true(matcher({ not: { all: [debug, { not: { message: { contains: 'healthz' } } }] } })(entry));
});

test('absurdly deep nesting is an error, not a stack overflow', (t) => {
  let deep: unknown = { label: 'a', exists: true };
  for (let i = 0; i < 10_000; i++) deep = { not: deep };
  const errors = decodeErrors(ConditionCodec, deep);
  t.is(errors.length, 1);
  t.regex(errors[0]!, /^config(\.not)+: conditions are nested too deeply$/);
  t.notThrows(() => matcher({ not: { not: { all: [{ any: [{ label: 'a', exists: true }] }] } } }));
});

test('config errors say exactly what is wrong and where', (t) => {
  const cases: Array<[unknown, string[]]> = [
    [{}, ['config: a condition needs exactly one of: label, field, message, all, any, not']],
    [{ lable: 'level', equals: 'x' }, ['config: a condition needs exactly one of: label, field, message, all, any, not']],
    [
      { label: 'a', field: 'b', equals: 'x' },
      ['config: a condition needs exactly one of: label, field, message, all, any, not; got label, field'],
    ],
    [{ label: 'level' }, ['config: a label condition needs exactly one of: equals, matches, in, exists']],
    [
      { label: 'level', equals: 'a', matches: 'b' },
      ['config: a label condition needs exactly one of: equals, matches, in, exists; got equals, matches'],
    ],
    [{ label: 'level', equals: 1 }, ['config.equals: expected string, got 1']],
    [{ label: '', in: [] }, ['config.label: must not be empty', 'config.in: must not be empty']],
    [{ label: 'log level', equals: 'x' }, ['config.label: invalid label name "log level": must match ^[a-zA-Z_][a-zA-Z0-9_]*$']],
    [{ field: 'x', in: [1, null] }, ['config.in[1]: expected string | number | boolean, got null']],
    [{ field: 'x', exists: 'yes' }, ['config.exists: expected boolean, got "yes"']],
    [
      { field: 'x', matches: '(?<' },
      [
        'config.matches: invalid regular expression "(?<": invalid named capture (RE2 syntax; backreferences and lookaround assertions are unsupported)',
      ],
    ],
    [{ label: 'x', equals: 'y', extra: 1 }, ['config.extra: unknown field (valid: label, equals)']],
    [{ message: 'text' }, ['config.message: expected message condition, got "text"']],
    [{ message: {} }, ['config.message: a message condition needs exactly one of: contains, matches']],
    [{ message: { contains: '' } }, ['config.message.contains: must not be empty']],
    [{ all: [] }, ['config.all: must not be empty']],
    [{ any: {} }, ['config.any: expected Array<condition>, got {}']],
    [
      { any: [{ label: 'a', equals: 'b' }, { not: { field: 'f', matches: '[' } }, 5] },
      [
        'config.any[1].not.matches: invalid regular expression "[": missing closing ] (RE2 syntax; backreferences and lookaround assertions are unsupported)',
        'config.any[2]: expected condition, got 5',
      ],
    ],
    [null, ['config: expected condition, got null']],
  ];
  for (const [input, errors] of cases) t.deepEqual(decodeErrors(ConditionCodec, input), errors, JSON.stringify(input));
});
