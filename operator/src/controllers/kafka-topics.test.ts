import test from 'ava';
import { PodSecretReader } from './kafka-topics.js';

const secrets: Record<string, Record<string, string>> = {
  'kafka-creds': { username: 'alice', password: 's3cret' },
  'kafka-ca': { 'ca.crt': '-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n' },
  whole: { 'tls.crt': 'CERT', 'tls.key': 'KEY' },
};
const lookup = (ns: string, name: string, key: string) => (ns === 'team-a' ? secrets[name]?.[key] : undefined);

const podSpec = {
  containers: [
    {
      name: 'processor',
      env: [
        { name: 'KAFKA_USERNAME', valueFrom: { secretKeyRef: { name: 'kafka-creds', key: 'username' } } },
        { name: 'KAFKA_PASSWORD', valueFrom: { secretKeyRef: { name: 'kafka-creds', key: 'password' } } },
        { name: 'PLAIN', value: 'v' },
      ],
      volumeMounts: [
        { name: 'ca', mountPath: '/etc/sextant/secrets/kafka-ca' },
        { name: 'client', mountPath: '/etc/sextant/secrets/client/' },
      ],
    },
  ],
  volumes: [
    { name: 'ca', secret: { secretName: 'kafka-ca', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
    { name: 'client', secret: { secretName: 'whole' } },
  ],
};

test('env from secretKeyRef and Secret volume files resolve as the runtime pod sees them', (t) => {
  const r = new PodSecretReader('team-a', podSpec, lookup);
  t.is(r.read({ env: 'KAFKA_USERNAME' }, 'kafka.sasl.username'), 'alice');
  t.is(r.read({ env: 'KAFKA_PASSWORD' }, 'kafka.sasl.password'), 's3cret');
  t.is(r.read({ env: 'PLAIN' }, 'x'), 'v');
  t.is(r.readFile('/etc/sextant/secrets/kafka-ca/ca.crt', 'kafka.tls.caFile')?.toString(), secrets['kafka-ca']!['ca.crt']);
  t.is(r.readFile('/etc/sextant/secrets/client/tls.key', 'kafka.tls.keyFile')?.toString(), 'KEY');
  t.deepEqual(r.errors, []);
});

test('unresolvable references are reported with their path, never read from the operator pod', (t) => {
  const r = new PodSecretReader('team-a', podSpec, lookup);
  process.env.SEXTANT_TEST_ONLY_IN_OPERATOR = 'leak';
  t.is(r.read({ env: 'SEXTANT_TEST_ONLY_IN_OPERATOR' }, 'kafka.sasl.username'), undefined);
  t.is(r.readFile('/etc/hostname', 'kafka.tls.caFile'), undefined);
  t.is(r.readFile('/etc/sextant/secrets/client/missing', 'kafka.tls.certFile'), undefined);
  t.deepEqual(r.errors, [
    "kafka.sasl.username: not resolvable from the pod's Secrets",
    'kafka.tls.caFile: /etc/hostname is not a key of a Secret mounted into the pod',
    'kafka.tls.certFile: /etc/sextant/secrets/client/missing is not a key of a Secret mounted into the pod',
  ]);
  delete process.env.SEXTANT_TEST_ONLY_IN_OPERATOR;
});
