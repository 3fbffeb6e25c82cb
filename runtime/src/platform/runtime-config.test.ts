import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../common/config-error.js';
import { SecretReader } from '../common/secrets.js';
import { loadRuntimeConfig, parseApiKeys, resolveRuntimeConfig, topicName } from './runtime-config.js';

const testdata = (name: string) => path.join(path.dirname(fileURLToPath(import.meta.url)), 'testdata', name);
const errorsOf = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.errors;
    throw error;
  }
  throw new Error('expected a ConfigError');
};

test('the full example decodes with every setting kept', (t) => {
  const config = loadRuntimeConfig(testdata('valid-full.json'));
  t.deepEqual(config.pipeline, { namespace: 'team-a', name: 'api' });
  t.is(config.kafka.sasl?.mechanism, 'scram-sha-512');
  t.is(config.kafka.sasl?.password.env, 'KAFKA_PASSWORD');
  t.is(config.kafka.topics.replicationFactor, 3);
  t.is(config.sinks.opensearch?.bulk.maxDocs, 2000);
  t.is(config.limits.maxLabels, 20);
  t.is(config.limits.maxLineBytes, 256 * 1024, 'unset limits keep their defaults');
});

test('a minimal config gets the defaults in one place', (t) => {
  const config = loadRuntimeConfig(testdata('valid-minimal.json'));
  t.deepEqual(config.signals, ['logs', 'metrics']);
  t.like(config.http, { host: '127.0.0.1', port: 8080 });
  t.deepEqual(config.auth, { apiKeys: { env: 'SEXTANT_API_KEYS' } });
  t.deepEqual(config.kafka.producer, { lingerMs: 5, maxBatchRecords: 10_000, maxBatchBytes: 1_000_000, requestTimeoutMs: 10_000 });
  t.is(config.kafka.compression, 'none');
  t.deepEqual(config.sinks.opensearch?.bulk, { maxDocs: 5_000, maxBytes: 5 * 1024 * 1024 });
  t.deepEqual(config.processors, []);
});

test('every error of a broken config is reported at once, each with its path', (t) => {
  t.deepEqual(errorsOf(() => loadRuntimeConfig(testdata('broken-many.json'))).sort(), [
    'colour: unknown field (valid: pipeline, signals, http, auth, kafka, processors, sinks, limits, rateLimit, maxBodyBytes, logDiscovery, retention, query)',
    'kafka.sasl.password: expected secret reference {env: NAME} or {file: PATH}, got "hunter2"',
    'kafka.topics.partitions: expected positive integer, got 0',
    'limits.maxLabels: expected positive integer, got -1',
    'pipeline.namespace: must be a DNS-1123 label (lower-case a-z, 0-9, "-"), got "Team_A"',
    'processors[0].parse.format: expected json | logfmt | regex | cri | docker, got "xml"',
    'signals[1]: expected "logs" or "metrics", got "traces"',
    'sinks.opensearch.endpoints: not an http(s) URL: "opensearch:9200"',
    'sinks.opensearch.user: unknown field (valid: endpoints, indexPrefix, indexPartition, username, password, caFile, insecureSkipVerify, requestTimeoutMs, bulk)',
  ]);
});

test('missing required sections are named', (t) => {
  t.deepEqual(
    errorsOf(() => loadRuntimeConfig(testdata('broken-missing.json'))),
    ['pipeline: is required (pipeline identity)', 'kafka: is required (kafka)'],
  );
});

test('cross-field checks: brokers, signals, secret references, credentials in pairs', (t) => {
  const errors = errorsOf(() =>
    resolveRuntimeConfig(
      {
        pipeline: { namespace: 'a', name: 'b' },
        kafka: { brokers: [] },
        auth: { apiKeys: { env: 'X', file: '/k' } },
        sinks: { opensearch: { endpoints: ['http://os:9200'], indexPrefix: 'p', username: { env: 'U' } } },
      },
      'doc',
    ),
  );
  t.deepEqual(errors.sort(), [
    'auth.apiKeys: set exactly one of env or file',
    'kafka.brokers: must list at least one broker',
    'sinks.opensearch: set both username and password, or neither',
  ]);
});

test('object-level checks run once the fields are well-typed', (t) => {
  const doc = { pipeline: { namespace: 'a', name: 'b' }, signals: ['logs', 'logs'], kafka: { brokers: ['k:9092'] }, sinks: {} };
  t.deepEqual(
    errorsOf(() => resolveRuntimeConfig(doc, 'doc')),
    ['signals: lists a signal twice'],
  );
});

test('unreadable files and bad syntax are config errors', (t) => {
  t.regex(errorsOf(() => loadRuntimeConfig('/nonexistent/sextant.json'))[0]!, /^cannot read file/);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sextant-cfg-'));
  fs.writeFileSync(path.join(dir, 'bad.json'), '{"pipeline": ');
  t.regex(errorsOf(() => loadRuntimeConfig(path.join(dir, 'bad.json')))[0]!, /^not valid JSON\/YAML/);
});

test('secrets come from env or files; every missing one is reported with its path', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sextant-secret-'));
  fs.writeFileSync(path.join(dir, 'keys'), 'k1\nk2\n');
  const reader = new SecretReader({ PASS: 's3cret' });
  t.is(reader.read({ env: 'PASS' }, 'kafka.sasl.password'), 's3cret');
  t.deepEqual(parseApiKeys(reader.read({ file: path.join(dir, 'keys') }, 'auth.apiKeys')), ['k1', 'k2']);
  reader.read({ env: 'NOPE' }, 'kafka.sasl.username');
  reader.read({ file: path.join(dir, 'missing') }, 'auth.apiKeys');
  t.is(reader.errors.length, 2);
  t.is(reader.errors[0], 'kafka.sasl.username.env: environment variable NOPE is not set');
  t.regex(reader.errors[1]!, /^auth\.apiKeys\.file: cannot read /);
  t.throws(() => reader.check('doc'), { instanceOf: ConfigError });
});

test('topic names follow sextant.<namespace>.<pipeline>.<signal>', (t) => {
  const config = { pipeline: { namespace: 'team-a', name: 'api' } };
  t.is(topicName(config, 'logs'), 'sextant.team-a.api.logs');
  t.is(topicName(config, 'dlq'), 'sextant.team-a.api.dlq');
});

test('the annotated example in examples/ decodes', (t) => {
  const config = loadRuntimeConfig(
    path.join(path.dirname(fileURLToPath(import.meta.url)), '../../../examples/runtime/runtime-config.yaml'),
  );
  t.is(config.sinks.opensearch?.indexPrefix, 'team-a');
});

const minimal = () => JSON.parse(fs.readFileSync(testdata('valid-minimal.json'), 'utf8')) as Record<string, unknown>;

test('retention: RetentionPolicy durations per signal, decoded to ms; unset means keep forever', (t) => {
  const config = resolveRuntimeConfig(
    { ...minimal(), retention: { logs: { hot: '36h', cold: '90d' }, metrics: { cold: '1y2w' }, interval: '90s' } },
    'x',
  );
  t.deepEqual(config.retention, {
    logs: { hot: 36 * 3_600_000, cold: 90 * 86_400_000 },
    metrics: { hot: 0, cold: (365 + 14) * 86_400_000 },
    interval: 90_000,
  });
  t.deepEqual(resolveRuntimeConfig(minimal(), 'x').retention, { logs: undefined, metrics: undefined, interval: 5 * 60_000 });
});

test('retention: bad durations, cold shorter than hot and unknown keys are each reported with their path', (t) => {
  const errors = errorsOf(() =>
    resolveRuntimeConfig(
      { ...minimal(), retention: { logs: { hot: '7 days', cold: 90 }, metrics: { hot: '2d', cold: '1d' }, traces: {} } },
      'x',
    ),
  );
  t.deepEqual(errors.sort(), [
    'retention.logs.cold: expected duration such as 7d, 36h or 90s, got 90',
    'retention.logs.hot: invalid duration "7 days": expected e.g. 7d, 36h, 90s or 0 (keep forever)',
    'retention.metrics.cold: must be at least hot: the query reads S3 for what is older than the hot window',
    'retention.traces: unknown field (valid: logs, metrics, interval)',
  ]);
  // The cross-field check runs once the fields themselves decode.
  t.deepEqual(
    errorsOf(() => resolveRuntimeConfig({ ...minimal(), retention: { interval: '500ms' } }, 'x')),
    ['retention.interval: must be at least 1s'],
  );
});
