/**
 * service_name and detected_level discovery on entries made up here: the order of the
 * service labels, levels from labels, fields, JSON, logfmt and words, normalisation, what
 * is kept, and each switch off.
 */
import test from 'ava';
import type { Fields, Labels, LogEntry } from '../model/types.js';
import { DEFAULT_LOG_DISCOVERY, LogDiscovery, normaliseLevel } from './log-discovery.js';

const on = new LogDiscovery();
const entry = (labels: Labels, message = '', fields: Fields = {}): LogEntry => ({ timestampNs: 1n, labels, message, fields });
const serviceName = (labels: Labels, discovery = on) => discovery.apply(entry(labels)).labels.service_name;
const level = (message: string, labels: Labels = { job: 'x' }, fields: Fields = {}, discovery = on) =>
  discovery.apply(entry(labels, message, fields)).fields.detected_level;

test('service_name: kept when present, else the first label of the list the stream has, else unknown_service', (t) => {
  t.is(serviceName({ service_name: 'given', app: 'a' }), 'given');
  t.is(serviceName({ job: 'j', app: 'a', container: 'c' }), 'a', 'app comes before container and job');
  t.is(serviceName({ job: 'j', service: 's', app: 'a' }), 's', 'service comes first');
  t.is(serviceName({ namespace: 'ns', container: 'c', job: 'j' }), 'c');
  t.is(serviceName({ job: 'ns/c', component: 'comp' }), 'comp');
  t.is(serviceName({ k8s_job_name: 'nightly', k8s_container_name: 'worker' }), 'worker');
  t.is(serviceName({ k8s_job_name: 'nightly' }), 'nightly');
  t.is(serviceName({ app: '', container: 'c' }), 'c', 'an empty value is no value');
  t.is(serviceName({ namespace: 'ns', pod: 'p' }), 'unknown_service');
  // Every default in order: each label wins over all the later ones.
  const names = DEFAULT_LOG_DISCOVERY.discoverServiceName;
  names.forEach((name, i) => {
    const labels = Object.fromEntries(names.slice(i).map((n) => [n, `v-${n}`]));
    t.is(serviceName(labels), `v-${name}`, name);
  });
});

test('service_name: a configured list in its own order; an empty list adds nothing', (t) => {
  const custom = new LogDiscovery({ ...DEFAULT_LOG_DISCOVERY, discoverServiceName: ['team', 'app'] });
  t.is(serviceName({ app: 'a', team: 't' }, custom), 't');
  t.is(serviceName({ container: 'c' }, custom), 'unknown_service', 'only the configured labels count');
  const inherited = new LogDiscovery({ ...DEFAULT_LOG_DISCOVERY, discoverServiceName: ['constructor', 'toString'] });
  t.is(serviceName({ app: 'a' }, inherited), 'unknown_service', 'inherited properties are no labels');
  const off = new LogDiscovery({ ...DEFAULT_LOG_DISCOVERY, discoverServiceName: [] });
  const labels = { app: 'a' };
  const out = off.apply(entry(labels, 'info'));
  t.is(out.labels, labels, 'the same label object');
  t.false('service_name' in out.labels);
  t.is(out.fields.detected_level, 'info', 'levels still on');
});

test('detected_level from a label or a field, in the order of logLevelFields, normalised', (t) => {
  t.is(level('an error line', { level: 'WARNING' }), 'warn', 'the label wins over the line');
  t.is(level('', { job: 'x' }, { severity: 'Err' }), 'error');
  t.is(level('', { job: 'x' }, { severity_text: 'Information' }), 'info', 'OTLP severity_text');
  t.is(level('', { lvl: 'dbg' }), 'debug');
  t.is(level('', { job: 'x' }, { SeverityText: 'FATAL' }), 'fatal');
  t.is(level('', { job: 'x' }, { level: 'crit' }), 'critical');
  t.is(level('', { severity: 'warn' }, { level: 'trace' }), 'trace', 'level comes before severity');
  t.is(level('', { level: 'verbose', severity: 'error' }), 'error', 'a value that is no level is passed over');
  t.is(level('a plain line', { level: 'verbose' }), 'unknown');
  t.is(level('', { job: 'x' }, { level: 30 }), 'unknown', 'numbers are not levels (as Loki)');
});

test('detected_level already there is kept as it is', (t) => {
  t.is(level('error', { job: 'x' }, { detected_level: 'custom' }), 'custom');
  const labels = { job: 'x', detected_level: 'warn' };
  const out = on.apply(entry(labels, 'error'));
  t.false('detected_level' in out.fields, 'a label detected_level is not copied into the fields');
});

test('detected_level from a JSON line: level keys at the top and one level down, by name or dotted path', (t) => {
  t.is(level('{"level":"warn","msg":"an error"}'), 'warn');
  t.is(level(' {"msg":"x","severity":"ERROR"} '), 'error', 'spaces around the object');
  t.is(level('{"log":{"level":"debug"},"msg":"x"}'), 'debug', 'log.level as a path');
  t.is(level('{"log.level":"info"}'), 'info', 'log.level as one key');
  t.is(level('{"meta":{"lvl":"trace"}}'), 'trace', 'a level key one level down');
  t.is(level('{"a":{"b":{"level":"crit"}},"msg":"ok"}'), 'unknown', 'three levels down is too deep');
  t.is(level('{"Level":"Critical","level":"info"}'), 'info', 'the field order decides, not the key order');
  t.is(level('{"meta":{"level":"error"},"severity":"warn"}'), 'warn', 'the top level before the objects under it');
  t.is(level('{"a":{"log":{"level":"crit"}}}'), 'unknown', 'a dotted path only from the top');
  t.is(level('{"msg":"disk warning"}'), 'warn', 'no level key: the words of the line');
  t.is(level('{"level":"x", broken'), 'unknown', 'not JSON, no level word');
  t.is(level('["error"]'), 'error', 'an array is not an object: the words of the line');
});

test('detected_level from a logfmt line', (t) => {
  t.is(level('ts=2024-01-01T00:00:00Z level=warn msg="an error happened"'), 'warn');
  t.is(level('level="ERROR" msg=x'), 'error', 'quoted');
  t.is(level('msg="level=info inside" lvl=dbg'), 'debug', 'a key right after a quote is inside a value');
  t.is(level('caller=x.go:1 severity=Warning'), 'warn');
  t.is(level('level=notalevel msg="disk is full" fatal'), 'fatal', 'an unknown value falls back to the words');
  t.is(level('sublevel=error'), 'error', 'not a level key, but "error" is a word of the line');
  t.is(level('sublevel=x msg=ok'), 'unknown');
});

test('detected_level from words of the line: the leftmost, whole words, any case', (t) => {
  const cases: Array<[string, string]> = [
    ['2024-01-01 12:00:00 INFO server started, 0 errors', 'info'],
    ['[WARN] disk low', 'warn'],
    ['Warning: deprecated flag', 'warn'],
    ['request failed: Error 500 (info in body)', 'error'],
    ['TRACE enter()', 'trace'],
    ['debug: x=1', 'debug'],
    ['CRITICAL temperature', 'critical'],
    ['Fatal: out of memory', 'fatal'],
    ['informational only; errors=0', 'unknown'],
    ['GET /index.html 200', 'unknown'],
    ['', 'unknown'],
    ['unicode ü 日本 error', 'error'],
  ];
  for (const [line, want] of cases) t.is(level(line), want, line);
});

test('levels switched off: no detected_level, service_name still derived', (t) => {
  const off = new LogDiscovery({ ...DEFAULT_LOG_DISCOVERY, discoverLogLevels: false });
  const fields = { user: 'u' };
  const out = off.apply(entry({ app: 'a' }, 'error', fields));
  t.is(out.fields, fields, 'the same field object');
  t.is(out.labels.service_name, 'a');
  const both = new LogDiscovery({ discoverServiceName: [], discoverLogLevels: false, logLevelFields: [] });
  const e = entry({ app: 'a' }, 'error');
  t.is(both.apply(e), e, 'nothing to add: the same entry');
});

test('configured logLevelFields replace the default list', (t) => {
  const custom = new LogDiscovery({ ...DEFAULT_LOG_DISCOVERY, logLevelFields: ['sev'] });
  t.is(level('', { job: 'x' }, { sev: 'warn' }, custom), 'warn');
  t.is(level('', { level: 'warn' }, {}, custom), 'unknown', 'level is not in the list any more');
  t.is(level('sev=error', { job: 'x' }, {}, custom), 'error');
  t.is(level('{"sev":"debug","level":"info"}', { job: 'x' }, {}, custom), 'debug');
});

test('applyAll leaves a failed result as it is and maps every record of a good one', (t) => {
  const failed = { ok: false as const, errors: ['x'], total: 1 };
  t.is(on.applyAll(failed), failed);
  const done = on.applyAll({ ok: true, records: [entry({ app: 'a' }, 'warn'), entry({ service_name: 's' }, '{"level":"info"}')] });
  t.true(done.ok);
  if (!done.ok) return;
  t.deepEqual(
    done.records.map((r) => [r.labels.service_name, r.fields.detected_level]),
    [
      ['a', 'warn'],
      ['s', 'info'],
    ],
  );
});

test('normaliseLevel: the spellings of each level; anything else undefined', (t) => {
  const table: Record<string, string[]> = {
    trace: ['trace', 'TRACE', 'trc'],
    debug: ['debug', 'Debug', 'dbg', 'DBUG'],
    info: ['info', 'INFO', 'inf', 'information', 'informational', 'notice'],
    warn: ['warn', 'WARN', 'warning', 'Warning', 'wrn'],
    error: ['error', 'ERROR', 'err', 'eror', ' error '],
    critical: ['critical', 'crit', 'emerg', 'emergency', 'alert'],
    fatal: ['fatal', 'FATAL', 'panic'],
  };
  for (const [want, spellings] of Object.entries(table)) for (const s of spellings) t.is(normaliseLevel(s), want, s);
  for (const other of ['', 'verbose', 'errors', '30', 'unknown']) t.is(normaliseLevel(other), undefined, other);
  t.is(normaliseLevel(40), undefined);
});
