import test from 'ava';
import kafkajs from 'kafkajs';
import { KafkaTopicsRejectedError, KafkaUnavailableError, PodSecretReader, topicRejection } from './kafka-topics.js';

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

const config = {
  kafka: { brokers: ['kafka:9092'], topics: { partitions: 6, replicationFactor: 3 } },
} as unknown as Parameters<typeof topicRejection>[1];

test("Kafka's own refusal (INVALID_REPLICATION_FACTOR) is KafkaTopicsRejected, with the code, the topics and the fix", (t) => {
  // The shape kafkajs throws from admin.createTopics: an aggregate of per-topic protocol errors.
  const cause = (topic: string) =>
    Object.assign(new Error('Replication-factor is invalid'), { type: 'INVALID_REPLICATION_FACTOR', code: 38, topic });
  const aggregate = new kafkajs.KafkaJSAggregateError('Topic creation errors', [
    cause('sextant.a.api.logs'),
    cause('sextant.a.api.dlq'),
  ] as never);
  const rejected = topicRejection(aggregate, config);
  t.true(rejected instanceof KafkaTopicsRejectedError);
  t.is(rejected!.reason, 'KafkaTopicsRejected');
  t.false(rejected!.retry);
  t.is(
    rejected!.message,
    'Kafka kafka:9092 refused to create the topics: INVALID_REPLICATION_FACTOR (Replication-factor is invalid) for sextant.a.api.logs, sextant.a.api.dlq: spec.kafka.replicationFactor is 3: it must not exceed the number of brokers in the cluster',
  );
});

test('a connection error is not a rejection (it stays KafkaUnavailable, retried)', (t) => {
  t.is(topicRejection(new Error('Connection error: connect ECONNREFUSED'), config), undefined);
  t.true(new KafkaUnavailableError('x').retry);
  t.is(new KafkaUnavailableError('x').reason, 'KafkaUnavailable');
});
