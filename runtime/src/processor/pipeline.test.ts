import test from 'ava';
import type { LogEntry } from '../model/types.js';
import { buildPipeline, createPipeline, emptyPipeline, STAGE_TYPES, type Pipeline } from './pipeline.js';
import { logEntry, T0 } from './testkit.js';

function build(config: unknown): Pipeline {
  const result = buildPipeline(config);
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return result.pipeline;
}

const criLine = (ns: string, json: object) => `2026-11-26T10:00:00.${ns}Z stdout F ${JSON.stringify(json)}`;

test('the design example: parse, redact, drop', (t) => {
  const pipeline = build([
    { parse: { format: 'json' } },
    { redact: { detectors: ['email', 'creditCard'], patterns: ['token=[A-Za-z0-9]+'] } },
    { drop: { when: { label: 'level', equals: 'debug' } } },
  ]);
  t.deepEqual(pipeline.stageTypes, ['parse', 'redact', 'drop']);
  const json = '{"user":"a@b.io","card":"4111 1111 1111 1111","note":"token=abc"}';
  const result = pipeline.processLogs([
    logEntry({ labels: { level: 'info' }, message: json }),
    logEntry({ labels: { level: 'debug' }, message: '{"x":1}' }),
    logEntry({ labels: { level: 'info' }, message: 'plain token=abc' }),
  ]);
  let jsonError = '';
  try {
    JSON.parse('plain token=abc');
  } catch (error) {
    jsonError = (error as Error).message;
  }
  t.true(jsonError.includes('token=abc'), 'node quotes the line in its JSON error');
  t.deepEqual(result, {
    entries: [
      logEntry({
        labels: { level: 'info' },
        message: '{"user":"[REDACTED:email]","card":"[REDACTED:creditCard]","note":"[REDACTED]"}',
        fields: { user: '[REDACTED:email]', card: '[REDACTED:creditCard]', note: '[REDACTED]' },
      }),
      // Not JSON: kept and tagged; the details quote the line, so they are redacted too.
      logEntry({
        labels: { level: 'info' },
        message: 'plain [REDACTED]',
        fields: { __error__: 'JSONParserErr', __error_details__: jsonError.replace('token=abc', '[REDACTED]') },
      }),
    ],
    dropped: [{ stage: 2, type: 'drop', reason: 'drop_matched', count: 1 }],
  });
});

test('a kubernetes pipeline end to end: cri, json, redact, drop, labels, sample', (t) => {
  const pipeline = build([
    { parse: { format: 'cri' } },
    { parse: { format: 'json', messageField: 'msg' } },
    { redact: { detectors: ['email', 'ipv4'] } },
    { drop: { when: { field: 'level', equals: 'debug' } } },
    { labels: { promote: ['level'], dropFields: ['stream'] } },
    { filter: { when: { label: 'level', in: ['info', 'error'] } } },
    { sample: { rate: 1 } },
  ]);
  const input = [
    logEntry({
      timestampNs: 0n,
      labels: { pod: 'api-1' },
      message: criLine('000000001', { level: 'info', msg: 'GET /x from 10.0.0.1', user: 'a@b.io' }),
    }),
    logEntry({ timestampNs: 0n, labels: { pod: 'api-1' }, message: criLine('000000002', { level: 'debug', msg: 'cache hit' }) }),
    logEntry({ timestampNs: 0n, labels: { pod: 'api-1' }, message: criLine('000000003', { level: 'warn', msg: 'slow' }) }),
    logEntry({ timestampNs: 0n, labels: { pod: 'api-1' }, message: criLine('000000004', { level: 'error', msg: 'boom', code: 500 }) }),
    logEntry({ timestampNs: 0n, labels: { pod: 'api-1' }, message: criLine('000000005', { level: 'debug', msg: 'x' }) }),
  ];
  const result = pipeline.processLogs(input);
  t.deepEqual(result.entries, [
    {
      timestampNs: T0 + 1n,
      labels: { pod: 'api-1', level: 'info' },
      message: 'GET /x from [REDACTED:ipv4]',
      fields: { user: '[REDACTED:email]' },
    },
    { timestampNs: T0 + 4n, labels: { pod: 'api-1', level: 'error' }, message: 'boom', fields: { code: 500 } },
  ]);
  t.deepEqual(result.dropped, [
    { stage: 3, type: 'drop', reason: 'drop_matched', count: 2 },
    { stage: 5, type: 'filter', reason: 'filter_not_matched', count: 1 },
  ]);
  const droppedTotal = result.dropped.reduce((sum, d) => sum + d.count, 0);
  t.is(result.entries.length + droppedTotal, input.length, 'every entry is either kept or accounted for');
});

test('input entries are never modified, so a retried batch gives the same result', (t) => {
  const pipeline = build([
    { parse: { format: 'json', messageField: 'msg' } },
    { labels: { promote: ['level'] } },
    { redact: { detectors: ['email'] } },
  ]);
  const input: LogEntry[] = [
    logEntry({ labels: { app: 'api' }, message: '{"msg":"hi a@b.io","level":"info","nested":{"e":"c@d.io"}}', fields: { f: 1 } }),
  ];
  const snapshot = structuredClone(input);
  const first = pipeline.processLogs(input);
  t.deepEqual(input, snapshot);
  t.deepEqual(pipeline.processLogs(input), first);
  t.deepEqual(first.entries[0], {
    timestampNs: T0,
    labels: { app: 'api', level: 'info' },
    message: 'hi [REDACTED:email]',
    fields: { f: 1, nested: { e: '[REDACTED:email]' } },
  });
});

test('stages that only decide do not copy entries', (t) => {
  const pipeline = build([{ filter: { when: { label: 'keep', exists: true } } }, { sample: { rate: 1 } }]);
  const kept = logEntry({ labels: { keep: 'yes' } });
  const result = pipeline.processLogs([kept, logEntry()]);
  t.is(result.entries[0], kept);
  t.deepEqual(result.dropped, [{ stage: 0, type: 'filter', reason: 'filter_not_matched', count: 1 }]);
});

test('drops are counted per stage and reason, in stage order', (t) => {
  const pipeline = build([
    { sample: { rate: 0.5 } },
    { drop: { when: { message: { contains: 'a' } } } },
    { filter: { when: { message: { contains: 'b' } } } },
  ]);
  const input = Array.from({ length: 1_000 }, (_, i) => logEntry({ message: ['a', 'b', 'c'][i % 3]!, timestampNs: BigInt(i) }));
  const result = pipeline.processLogs(input);
  t.deepEqual(
    result.dropped.map((d) => [d.stage, d.type, d.reason]),
    [
      [0, 'sample', 'sampled_out'],
      [1, 'drop', 'drop_matched'],
      [2, 'filter', 'filter_not_matched'],
    ],
  );
  t.is(result.entries.length + result.dropped.reduce((s, d) => s + d.count, 0), 1_000);
  t.true(result.entries.every((e) => e.message === 'b'));
});

test('every config error is collected, each naming the stage index and field', (t) => {
  const result = buildPipeline([
    { parse: { format: 'json', target: 'somewhere' } },
    { filter: { when: { label: 'level', equals: 'info' } } },
    { redact: { detectors: ['email'], patterns: ['([a-z]+'] } },
    { sampel: { rate: 0.5 } },
    { drop: {}, labels: {} },
    { sample: { rate: 2 } },
    'parse',
  ]);
  t.deepEqual(result, {
    ok: false,
    errors: [
      'processors[0].parse.target: expected fields | labels, got "somewhere"',
      'processors[2].redact.patterns[0]: invalid regular expression "([a-z]+": missing closing ) (RE2 syntax; backreferences and lookaround assertions are unsupported)',
      'processors[3]: unknown stage "sampel" (valid: parse, redact, filter, drop, sample, labels)',
      'processors[4]: expected exactly one stage key (one of: parse, redact, filter, drop, sample, labels), got drop, labels',
      'processors[5].sample.rate: must be greater than 0 and at most 1, got 2',
      'processors[6]: expected an object with one stage key (parse, redact, filter, drop, sample, labels), got "parse"',
    ],
  });
});

test('a stage written without settings (YAML null) reports the missing settings', (t) => {
  t.deepEqual(buildPipeline([{ redact: null }, { parse: null }, { sample: {} }]), {
    ok: false,
    errors: [
      'processors[0].redact.detectors: nothing to redact: set detectors and/or patterns',
      'processors[1].parse.format: is required (json | logfmt | regex | cri | docker)',
      'processors[2].sample.rate: is required (number in (0, 1])',
    ],
  });
});

test('the list itself: undefined is empty, other non-lists are errors, root is configurable', (t) => {
  const none = buildPipeline(undefined);
  t.true(none.ok);
  if (none.ok) t.deepEqual(none.pipeline.stageTypes, []);
  t.deepEqual(buildPipeline({ parse: { format: 'json' } }), {
    ok: false,
    errors: ['processors: expected list of stages, got {"parse":{"format":"json"}}'],
  });
  t.deepEqual(buildPipeline(null, 'spec.processors'), { ok: false, errors: ['spec.processors: expected list of stages, got null'] });
  t.deepEqual(buildPipeline([{ sample: { rate: 0 } }], 'spec.processors'), {
    ok: false,
    errors: ['spec.processors[0].sample.rate: must be greater than 0 and at most 1, got 0'],
  });
});

test('emptyPipeline and an empty list pass entries through', (t) => {
  const entries = [logEntry({ message: 'a' }), logEntry({ message: 'b' })];
  for (const pipeline of [emptyPipeline(), createPipeline([]), build([])]) {
    const result = pipeline.processLogs(entries);
    t.deepEqual(result, { entries, dropped: [] });
    t.not(result.entries, entries, 'a new array');
    t.is(result.entries[0], entries[0]);
  }
});

test('every stage type is registered', (t) => {
  t.deepEqual(STAGE_TYPES, ['parse', 'redact', 'filter', 'drop', 'sample', 'labels']);
});
