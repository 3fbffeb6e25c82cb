import test from 'ava';
import { applyStage, decodeErrors, decodeOk, logEntry, T0 } from '../testkit.js';
import { createParseStage, ParseConfig } from './parse.js';

const parse = (config: unknown) => createParseStage(decodeOk(ParseConfig, config));

function jsonErrorOf(text: string): string {
  try {
    JSON.parse(text);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('valid JSON');
}

test('config defaults: target fields, no source, no messageField', (t) => {
  t.deepEqual(decodeOk(ParseConfig, { format: 'json' }), {
    format: 'json',
    source: undefined,
    target: 'fields',
    messageField: undefined,
    pattern: undefined,
  });
});

test('config errors name each bad field', (t) => {
  t.deepEqual(decodeErrors(ParseConfig, {}), ['config.format: is required (json | logfmt | regex | cri | docker)']);
  t.deepEqual(decodeErrors(ParseConfig, { format: 'xml', target: 'labelz', source: '' }), [
    'config.format: expected json | logfmt | regex | cri | docker, got "xml"',
    'config.source: must not be empty',
    'config.target: expected fields | labels, got "labelz"',
  ]);
  t.deepEqual(decodeErrors(ParseConfig, { format: 'regex' }), ['config.pattern: is required when format is regex']);
  t.deepEqual(decodeErrors(ParseConfig, { format: 'regex', pattern: '(\\d+' }), [
    'config.pattern: invalid regular expression "(\\\\d+": missing closing ) (RE2 syntax; backreferences and lookaround assertions are unsupported)',
  ]);
  t.deepEqual(decodeErrors(ParseConfig, { format: 'regex', pattern: '(\\d+)' }), [
    'config.pattern: must contain at least one named group, e.g. (?<status>\\d+)',
  ]);
  t.deepEqual(decodeErrors(ParseConfig, { format: 'json', pattern: '(?<a>x)' }), [
    'config.pattern: is only valid when format is regex, not json',
  ]);
  t.deepEqual(decodeErrors(ParseConfig, { format: 'docker', messageField: 'msg', formt: 'x' }), [
    'config.formt: unknown field (valid: format, source, target, messageField, pattern)',
    'config.messageField: is not valid with format docker: it sets the message itself',
  ]);
  t.deepEqual(decodeErrors(ParseConfig, 'json'), ['config: expected parse config, got "json"']);
});

test('json: object keys merge into fields, message unchanged', (t) => {
  const line = '{"level":"info","status":200,"user":{"id":7},"tags":["a"]}';
  const { entry, dropped } = applyStage(
    parse({ format: 'json' }),
    logEntry({ message: line, fields: { trace_id: 'ab12', status: 'old' } }),
  );
  t.is(dropped, undefined);
  t.is(entry.message, line);
  t.deepEqual(entry.fields, { trace_id: 'ab12', status: 200, level: 'info', user: { id: 7 }, tags: ['a'] });
  t.deepEqual(entry.labels, {});
});

test('json: messageField replaces the message and is not kept as a field', (t) => {
  const stage = parse({ format: 'json', messageField: 'msg' });
  const a = applyStage(stage, logEntry({ message: '{"msg":"GET /x","level":"info"}' })).entry;
  t.is(a.message, 'GET /x');
  t.deepEqual(a.fields, { level: 'info' });
  t.is(applyStage(stage, logEntry({ message: '{"msg":42}' })).entry.message, '42');
  t.is(applyStage(stage, logEntry({ message: '{"msg":{"a":1}}' })).entry.message, '{"a":1}');
  const nullMsg = applyStage(stage, logEntry({ message: '{"msg":null,"x":1}' })).entry;
  t.is(nullMsg.message, '{"msg":null,"x":1}');
  t.deepEqual(nullMsg.fields, { x: 1 });
  const missing = applyStage(stage, logEntry({ message: '{"x":1}' })).entry;
  t.is(missing.message, '{"x":1}');
});

test('json: invalid JSON keeps the entry and sets __error__ / __error_details__', (t) => {
  const original = logEntry({ message: 'hello world', labels: { app: 'api' }, fields: { a: 1 } });
  const { entry, dropped } = applyStage(parse({ format: 'json', messageField: 'msg' }), original);
  t.is(dropped, undefined);
  t.deepEqual(entry, {
    ...original,
    fields: { a: 1, __error__: 'JSONParserErr', __error_details__: jsonErrorOf('hello world') },
  });
});

test('json: a JSON value that is not an object is a parse error', (t) => {
  const stage = parse({ format: 'json' });
  const cases: Array<[string, string]> = [
    ['[1,2]', 'expected a JSON object, got an array'],
    ['42', 'expected a JSON object, got number'],
    ['null', 'expected a JSON object, got null'],
    ['"text"', 'expected a JSON object, got string'],
  ];
  for (const [message, details] of cases) {
    t.deepEqual(applyStage(stage, logEntry({ message })).entry.fields, { __error__: 'JSONParserErr', __error_details__: details }, message);
  }
});

test('json: a "__proto__" key becomes a plain field, not a prototype', (t) => {
  const { entry } = applyStage(parse({ format: 'json' }), logEntry({ message: '{"__proto__":{"polluted":true},"a":1}' }));
  t.deepEqual(Object.keys(entry.fields), ['__proto__', 'a']);
  t.is(Object.getPrototypeOf(entry.fields), Object.prototype);
  t.is((entry.fields as { polluted?: unknown }).polluted, undefined);
});

test('json: source reads another field; missing or non-string source is an error', (t) => {
  const stage = parse({ format: 'json', source: 'payload' });
  const ok = applyStage(stage, logEntry({ message: 'outer', fields: { payload: '{"k":"v"}' } })).entry;
  t.is(ok.message, 'outer');
  t.deepEqual(ok.fields, { payload: '{"k":"v"}', k: 'v' });
  t.deepEqual(applyStage(stage, logEntry({ message: '{"k":1}' })).entry.fields, {
    __error__: 'JSONParserErr',
    __error_details__: 'source field "payload" is missing',
  });
  t.deepEqual(applyStage(stage, logEntry({ fields: { payload: 5 } })).entry.fields, {
    payload: 5,
    __error__: 'JSONParserErr',
    __error_details__: 'source field "payload" is not a string',
  });
});

test('json: target labels keeps scalars, stringified, with sanitised names', (t) => {
  const { entry } = applyStage(
    parse({ format: 'json', target: 'labels' }),
    logEntry({
      message: '{"level":"warn","http.status":503,"ok":false,"1st":"x","nested":{"a":1},"list":[1],"nil":null}',
      labels: { app: 'api' },
    }),
  );
  t.deepEqual(entry.labels, { app: 'api', level: 'warn', http_status: '503', ok: 'false', _1st: 'x' });
  t.deepEqual(entry.fields, {});
});

test('logfmt: pairs become string fields; bare keys are true', (t) => {
  const line = 'level=info msg="GET /x \\"q\\"" duration=12ms cached url=/q?a=b empty=';
  const { entry } = applyStage(parse({ format: 'logfmt' }), logEntry({ message: line }));
  t.is(entry.message, line);
  t.deepEqual(entry.fields, { level: 'info', msg: 'GET /x "q"', duration: '12ms', cached: true, url: '/q?a=b', empty: '' });
});

test('logfmt: messageField and failure', (t) => {
  const stage = parse({ format: 'logfmt', messageField: 'msg' });
  const ok = applyStage(stage, logEntry({ message: 'level=error msg="disk full"' })).entry;
  t.is(ok.message, 'disk full');
  t.deepEqual(ok.fields, { level: 'error' });
  const bad = applyStage(stage, logEntry({ message: 'level=error msg="disk full' })).entry;
  t.is(bad.message, 'level=error msg="disk full');
  t.deepEqual(bad.fields, { __error__: 'LogfmtParserErr', __error_details__: 'unterminated quoted string in value of key "msg"' });
});

test('regex: named groups become fields; optional groups that did not match are skipped', (t) => {
  const stage = parse({ format: 'regex', pattern: '^(?<method>[A-Z]+) (?<path>\\S+) (?<status>\\d{3})(?: (?<ms>\\d+)ms)?$' });
  t.deepEqual(applyStage(stage, logEntry({ message: 'GET /x 200 12ms' })).entry.fields, {
    method: 'GET',
    path: '/x',
    status: '200',
    ms: '12',
  });
  t.deepEqual(applyStage(stage, logEntry({ message: 'POST /y 503' })).entry.fields, { method: 'POST', path: '/y', status: '503' });
  t.deepEqual(applyStage(stage, logEntry({ message: 'not a request' })).entry.fields, {
    __error__: 'RegexpParserErr',
    __error_details__: 'line does not match the pattern',
  });
});

test('regex: messageField takes a group as the message; target labels', (t) => {
  const stage = parse({ format: 'regex', pattern: '^\\[(?<level>\\w+)\\] (?<text>.*)$', messageField: 'text', target: 'labels' });
  const { entry } = applyStage(stage, logEntry({ message: '[warn] low disk' }));
  t.is(entry.message, 'low disk');
  t.deepEqual(entry.labels, { level: 'warn' });
  t.deepEqual(entry.fields, {});
});

test('cri: full line gives nanosecond timestamp, stream and message', (t) => {
  const { entry } = applyStage(
    parse({ format: 'cri' }),
    logEntry({ timestampNs: 1n, message: '2026-11-26T10:00:00.123456789Z stdout F GET /x 200', labels: { pod: 'p' } }),
  );
  t.deepEqual(entry, {
    timestampNs: T0 + 123_456_789n,
    labels: { pod: 'p' },
    message: 'GET /x 200',
    fields: { stream: 'stdout' },
  });
});

test('cri: partial lines are flagged; target labels puts stream in labels; spacing is preserved', (t) => {
  const partial = applyStage(
    parse({ format: 'cri', target: 'labels' }),
    logEntry({ message: '2026-11-26T10:00:00Z stderr P   first half ' }),
  ).entry;
  t.deepEqual(partial, { timestampNs: T0, labels: { stream: 'stderr' }, message: '  first half ', fields: { _partial: true } });
  const empty = applyStage(parse({ format: 'cri' }), logEntry({ message: '2026-11-26T10:00:00.5Z stdout F' })).entry;
  t.is(empty.message, '');
  t.is(empty.timestampNs, T0 + 500_000_000n);
  const tags = applyStage(parse({ format: 'cri' }), logEntry({ message: '2026-11-26T12:00:00.000000001+02:00 stdout F:x hi' })).entry;
  t.is(tags.timestampNs, T0 + 1n);
  t.is(tags.message, 'hi');
});

test('cri: malformed lines keep the entry with CRIParserErr', (t) => {
  const stage = parse({ format: 'cri' });
  const cases: Array<[string, string]> = [
    ['garbage', 'expected "<time> <stream> <tag> <message>"'],
    ['2026-11-26T10:00:00Z stdout', 'expected "<time> <stream> <tag> <message>"'],
    ['2026-13-26T10:00:00Z stdout F x', 'invalid timestamp "2026-13-26T10:00:00Z"'],
    ['yesterday stdout F x', 'invalid timestamp "yesterday"'],
    ['2026-11-26T10:00:00Z stdin F x', 'invalid stream "stdin": expected stdout or stderr'],
    ['2026-11-26T10:00:00Z stdout X x', 'invalid tag "X": expected P or F'],
  ];
  for (const [message, details] of cases) {
    const { entry } = applyStage(stage, logEntry({ message }));
    t.deepEqual(entry, logEntry({ message, fields: { __error__: 'CRIParserErr', __error_details__: details } }), message);
  }
});

test('docker: json-file line gives message without newline, timestamp and stream', (t) => {
  const { entry } = applyStage(
    parse({ format: 'docker' }),
    logEntry({ message: '{"log":"GET /x 200\\n","stream":"stderr","time":"2026-11-26T10:00:00.000000001Z"}' }),
  );
  t.deepEqual(entry, { timestampNs: T0 + 1n, labels: {}, message: 'GET /x 200', fields: { stream: 'stderr' } });
  const noNewline = applyStage(
    parse({ format: 'docker', target: 'labels' }),
    logEntry({ message: '{"log":"part","stream":"stdout","time":"2026-11-26T10:00:00Z"}' }),
  ).entry;
  t.deepEqual(noNewline, { timestampNs: T0, labels: { stream: 'stdout' }, message: 'part', fields: {} });
});

test('docker: malformed lines keep the entry with DockerParserErr', (t) => {
  const stage = parse({ format: 'docker' });
  const cases: Array<[string, string]> = [
    ['not json', `invalid JSON: ${jsonErrorOf('not json')}`],
    ['[]', 'expected a JSON object'],
    ['{"stream":"stdout","time":"2026-11-26T10:00:00Z"}', '"log" must be a string'],
    ['{"log":"x","stream":"tty","time":"2026-11-26T10:00:00Z"}', '"stream" must be "stdout" or "stderr"'],
    ['{"log":"x","stream":"stdout"}', '"time" must be a string'],
    ['{"log":"x","stream":"stdout","time":"2026-02-30T00:00:00Z"}', 'invalid "time" "2026-02-30T00:00:00Z"'],
  ];
  for (const [message, details] of cases) {
    const { entry } = applyStage(stage, logEntry({ message }));
    t.deepEqual(entry, logEntry({ message, fields: { __error__: 'DockerParserErr', __error_details__: details } }), message);
  }
});

test('a later failing parse overwrites an earlier __error__', (t) => {
  const entry = logEntry({ message: 'plain text' });
  createParseStage(decodeOk(ParseConfig, { format: 'cri' })).apply(entry);
  createParseStage(decodeOk(ParseConfig, { format: 'json' })).apply(entry);
  t.is(entry.fields['__error__'], 'JSONParserErr');
});
