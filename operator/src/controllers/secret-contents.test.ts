import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { decodeResource, type Pipeline, type RetentionPolicy, type Sink } from '../api/v1alpha1.js';
import { renderPipeline } from '../render/pipeline.js';
import { checkSecretContents, secretKeysRead } from './secret-contents.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function examples() {
  const docs = ['pipeline.yaml', 'sinks.yaml', 'retention-policy.yaml', 'secrets.yaml'].flatMap((f) =>
    YAML.parseAllDocuments(fs.readFileSync(path.join(root, 'examples', f), 'utf8')).map(
      (d) => d.toJSON() as { kind: string; metadata: { name: string }; stringData?: Record<string, string> },
    ),
  );
  const meta = (d: { metadata: object }) => ({ ...d, metadata: { ...d.metadata, namespace: 'team-a', uid: 'u' } });
  const decoded = decodeResource('Pipeline', meta(docs.find((d) => d.kind === 'Pipeline')!));
  if (!decoded.ok) throw new Error(decoded.errors.join('; '));
  const pipeline: Pipeline = decoded.value;
  const sinks = docs.filter((d) => d.kind === 'Sink').map(meta) as unknown as Sink[];
  const rendered = renderPipeline(
    {
      pipeline,
      hotSink: sinks.find((s) => s.metadata.name === 'hot'),
      coldSink: sinks.find((s) => s.metadata.name === 'archive'),
      retention: meta(docs.find((d) => d.kind === 'RetentionPolicy')!) as unknown as RetentionPolicy,
      secretVersions: {},
    },
    { image: 'sextant:dev', operatorNamespace: 'sextant-system' },
  );
  const secrets = Object.fromEntries(docs.filter((d) => d.kind === 'Secret').map((d) => [d.metadata.name, { ...d.stringData }]));
  return { pipeline, objects: rendered.objects, secrets };
}

const valuesOf = (secrets: Record<string, Record<string, string>>) => (name: string, key: string) => secrets[name]?.[key];

test('the example Secrets hold every key the pods read', (t) => {
  const { pipeline, objects, secrets } = examples();
  t.deepEqual(
    secretKeysRead(objects).map((p) => `${p.secret}/${p.key}`),
    ['api-keys/keys', 'os-ca/ca.crt', 'os-creds/password', 'os-creds/username', 's3-creds/accessKeyId', 's3-creds/secretAccessKey'],
  );
  t.is(checkSecretContents(pipeline, objects, valuesOf(secrets)), undefined);
});

test('an API-key Secret without the keys key is SecretKeyNotFound, naming the Secret and the key', (t) => {
  const { pipeline, objects, secrets } = examples();
  delete secrets['api-keys']!.keys;
  secrets['api-keys']!.key = 'typo';
  const problem = checkSecretContents(pipeline, objects, valuesOf(secrets));
  t.is(problem?.reason, 'SecretKeyNotFound');
  t.regex(problem!.message, /^Secret team-a\/api-keys has no key "keys": the runtime pods read it/);
});

test('an S3 Secret without secretAccessKey is SecretKeyNotFound too', (t) => {
  const { pipeline, objects, secrets } = examples();
  delete secrets['s3-creds']!.secretAccessKey;
  t.regex(checkSecretContents(pipeline, objects, valuesOf(secrets))!.message, /Secret team-a\/s3-creds has no key "secretAccessKey"/);
});

test('an API-key Secret holding only separators is NoApiKeys', (t) => {
  const { pipeline, objects, secrets } = examples();
  secrets['api-keys']!.keys = ' ,\n, ';
  const problem = checkSecretContents(pipeline, objects, valuesOf(secrets));
  t.is(problem?.reason, 'NoApiKeys');
  t.regex(problem!.message, /holds no API key/);
});
