import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../common/config-error.js';
import { loadRuntimeConfig, requireFor, resolveRuntimeConfig } from '../../platform/runtime-config.js';
import { S3_DEFAULTS } from './config.js';

const base = { pipeline: { namespace: 'a', name: 'b' }, kafka: { brokers: ['k:1'] } };

function errors(s3: unknown): string[] {
  try {
    resolveRuntimeConfig({ ...base, sinks: { s3 } }, 'cfg.json');
  } catch (error) {
    if (error instanceof ConfigError) return error.errors;
    throw error;
  }
  return [];
}

test('sinks.s3 with only a bucket gets the defaults', (t) => {
  const config = resolveRuntimeConfig({ ...base, sinks: { s3: { bucket: 'sextant-archive' } } }, 'cfg.json');
  t.deepEqual(config.sinks.s3, {
    bucket: 'sextant-archive',
    region: 'us-east-1',
    prefix: '',
    endpoint: undefined,
    forcePathStyle: false,
    accessKeyId: undefined,
    secretAccessKey: undefined,
    requestChecksumCalculation: 'WHEN_SUPPORTED',
    requestTimeoutMs: 30_000,
    flush: { maxBytes: S3_DEFAULTS.flush.maxBytes, maxAge: 300_000, maxRecords: 500_000 },
    multipart: S3_DEFAULTS.multipart,
  });
  t.notThrows(() => requireFor(config, 'processor'));
});

test('a full s3 section decodes; durations are Prometheus-style', (t) => {
  const config = resolveRuntimeConfig(
    {
      ...base,
      sinks: {
        s3: {
          bucket: 'b.archive-1',
          region: 'eu-west-1',
          prefix: 'team-a/',
          endpoint: 'http://minio.storage:9000',
          forcePathStyle: true,
          accessKeyId: { env: 'S3_KEY' },
          secretAccessKey: { file: '/etc/s3/secret' },
          requestChecksumCalculation: 'WHEN_REQUIRED',
          flush: { maxBytes: 1000, maxAge: '1m30s', maxRecords: 10 },
          multipart: { thresholdBytes: 1, partSizeBytes: 5 * 1024 * 1024 },
        },
      },
    },
    'cfg.json',
  );
  t.like(config.sinks.s3, { flush: { maxAge: 90_000, maxBytes: 1000, maxRecords: 10 }, accessKeyId: { env: 'S3_KEY' } });
});

test('every bad field is reported at once with its path', (t) => {
  const found = errors({
    bucket: 'Bad_Bucket',
    prefix: 'a//b',
    endpoint: 'minio:9000',
    accessKeyId: { env: 'X' },
    requestChecksumCalculation: 'ALWAYS',
    flush: { maxAge: 'soon', maxBytes: 0 },
    multipart: { partSizeBytes: 1024 },
    colour: 1,
  });
  const expect = [
    /^sinks\.s3\.bucket: must be an S3 bucket name/,
    /^sinks\.s3\.prefix: must be printable ASCII/,
    /^sinks\.s3\.requestChecksumCalculation: expected "WHEN_SUPPORTED" or "WHEN_REQUIRED"/,
    /^sinks\.s3\.flush\.maxAge: invalid duration "soon"/,
    /^sinks\.s3\.flush\.maxBytes: expected positive integer, got 0/,
    /^sinks\.s3\.multipart\.partSizeBytes: must be between 5242880/,
    /^sinks\.s3\.colour: unknown field/,
  ];
  for (const re of expect)
    t.true(
      found.some((e) => re.test(e)),
      `${re} in\n${found.join('\n')}`,
    );
  // cross-field checks run once the fields are well-typed
  const cross = errors({ bucket: 'ok-bucket', endpoint: 'minio:9000', accessKeyId: { env: 'X' }, flush: { maxAge: '10ms' } });
  t.deepEqual(cross.sort(), [
    'sinks.s3.endpoint: not an http(s) URL: "minio:9000"',
    'sinks.s3.flush: maxAge must be at least 1s',
    'sinks.s3: set both accessKeyId and secretAccessKey, or neither',
  ]);
});

test('the processor needs at least one sink', (t) => {
  const config = resolveRuntimeConfig({ ...base, sinks: {} }, 'cfg.json');
  const error = t.throws(() => requireFor(config, 'processor'), { instanceOf: ConfigError });
  t.deepEqual(error?.errors, ['sinks: the processor needs at least one sink (opensearch, s3)']);
});

test('the annotated example in examples/ documents every s3 field', (t) => {
  const file = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../../../examples/runtime/runtime-config.yaml');
  const s3 = loadRuntimeConfig(file).sinks.s3;
  t.like(s3, { bucket: 'sextant-archive', prefix: 'team-a/', forcePathStyle: true, flush: { maxAge: 300_000 } });
  for (const key of Object.keys(s3!)) t.regex(fs.readFileSync(file, 'utf8'), new RegExp(`\\b${key}:`), `${key} is in the example`);
});
