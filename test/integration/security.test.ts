/**
 * Connection security against a real, dedicated Kafka broker (test/support/secure-kafka.ts:
 * KRaft with a SASL_SSL listener for SCRAM-SHA-512 and PLAIN and an SSL listener that
 * requires a client certificate, certificates made with openssl) and the shared OpenSearch:
 * `sextant ingestion` and `sextant processor` as child processes with kafka.tls and
 * kafka.sasl (credentials from env and file SecretRefs) deliver exact counts; a wrong
 * password and an untrusted CA leave ingestion running but not ready, with the cause in its
 * log; http.tls serves our own listeners over HTTPS only.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startRuntime, type RuntimeProcess } from '../support/runtime-process.js';
import { countDocs, osRequest, waitFor, waitForDocs } from '../support/distributed.js';
import { CLI } from '../support/sextant-process.js';
import { startSecureKafka, type SecureKafka } from '../support/secure-kafka.js';
import { infraVar } from './helpers/infra-env.js';

const API_KEY = 'it-security-key';
const opensearch = () => infraVar('OPENSEARCH_URL');

let broker: SecureKafka | undefined;
const processes: RuntimeProcess[] = [];
const prefixes: string[] = [];
const dirs: string[] = [];

test.before(async () => {
  broker = await startSecureKafka();
});

test.afterEach.always(async () => {
  for (const p of processes.splice(0)) await p.kill();
  for (const prefix of prefixes.splice(0)) await osRequest('DELETE', `/${prefix}-*`).catch(() => undefined);
});

test.after.always(async () => {
  await broker?.stop();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function kafkaBroker(): SecureKafka {
  if (!broker) throw new Error('the secure Kafka broker did not start');
  return broker;
}

interface Setup {
  id: string;
  dir: string;
  configFile: string;
  env: Record<string, string>;
}

/**
 * A runtime config for a fresh pipeline; `kafka(dir)` (brokers, tls, sasl) is merged over
 * clientId/topics and may write secret files into dir first.
 */
function setup(
  kafka: (dir: string) => Record<string, unknown>,
  extra: Record<string, unknown> = {},
  env: Record<string, string> = {},
): Setup {
  const id = `it-sec-${randomBytes(4).toString('hex')}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sextant-security-'));
  dirs.push(dir);
  prefixes.push(id);
  const configFile = path.join(dir, 'runtime.json');
  const config = {
    pipeline: { namespace: 'it', name: id },
    http: { port: 0 },
    auth: { apiKeys: { env: 'SEXTANT_API_KEYS' } },
    kafka: {
      clientId: id,
      topics: { partitions: 3, replicationFactor: 1 },
      producer: { requestTimeoutMs: 5_000 },
      consumer: { sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000 },
      ...kafka(dir),
    },
    sinks: { opensearch: { endpoints: [opensearch()], indexPrefix: id, bulk: { maxDocs: 500, maxBytes: 1_000_000 } } },
    ...extra,
  };
  fs.writeFileSync(configFile, JSON.stringify(config, null, 2));
  return { id, dir, configFile, env: { SEXTANT_API_KEYS: API_KEY, ...env } };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Writes a secret to a file in the setup's dir (SecretRef {file}). */
function secretFile(dir: string, name: string, value: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `${value}\n`, { mode: 0o600 });
  return file;
}

async function start(s: Setup, component: 'ingestion' | 'processor'): Promise<RuntimeProcess> {
  const p = await startRuntime(component, s.configFile, s.env);
  processes.push(p);
  return p;
}

const readyStatus = async (url: string) => (await fetch(`${url}/readyz`)).status;

function logBody(runId: string, first: number, count: number): string {
  const base = BigInt(Date.now()) * 1_000_000n;
  const entries = Array.from({ length: count }, (_, k) => ({
    timestamp: String(base + BigInt(first + k)),
    labels: { service: `svc-${(first + k) % 5}`, run: runId },
    message: `entry ${first + k}`,
  }));
  return JSON.stringify({ entries });
}

/** Pushes `count` entries in requests of 100, sequentially; every answer must be 200. */
async function push(url: string, runId: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 100) {
    const res = await fetch(`${url}/api/v1/logs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: logBody(runId, i, Math.min(100, count - i)),
    });
    if (res.status !== 200) throw new Error(`push answered ${res.status}: ${await res.text()}`);
  }
}

/** Ingestion and processor with this Kafka config; `count` entries in → exactly `count` documents. */
async function deliverExactly(t: { is: (a: unknown, b: unknown, m?: string) => void }, s: Setup, count: number): Promise<void> {
  const ingestion = await start(s, 'ingestion');
  await waitFor(
    `${ingestion.url}/readyz`,
    60_000,
    () => readyStatus(ingestion.url),
    (c) => c === 200,
  );
  const processor = await start(s, 'processor');
  await push(ingestion.url, s.id, count);
  const final = await waitForDocs(s.id, 'logs', count, 120_000);
  t.is(final, count);
  await new Promise((r) => setTimeout(r, 2_000));
  t.is(await countDocs(s.id, 'logs'), count, 'nothing more arrives later (no duplicates)');
  t.is(await processor.stop(), 0, 'processor: graceful SIGTERM over SASL_SSL');
  t.is(await ingestion.stop(), 0);
}

/** The SASL_SSL listener with SCRAM-SHA-512, username from env IT_KAFKA_USER, password from env or a file. */
function scram(k: SecureKafka, dir: string, password: { env: string } | { value: string }, caFile = k.caFile): Record<string, unknown> {
  return {
    brokers: [k.saslSsl],
    tls: { caFile },
    sasl: {
      mechanism: 'scram-sha-512',
      username: { env: 'IT_KAFKA_USER' },
      password: 'env' in password ? password : { file: secretFile(dir, 'kafka-password', password.value) },
    },
  };
}

/** A request with our CA (or none); resolves with the status and body, rejects on connection/TLS errors. */
function request(
  url: string,
  options: { ca?: Buffer; method?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const client = u.protocol === 'https:' ? https : http;
    const req = client.request(
      u,
      { method: options.method ?? 'GET', headers: options.headers, ...(options.ca ? { ca: options.ca } : {}), timeout: 10_000 },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** The structured log lines (bunyan JSON) of a runtime process whose msg matches. */
function logLines(p: RuntimeProcess, msg: RegExp): { msg: string; err?: { message?: string; name?: string } }[] {
  return p
    .output()
    .split('\n')
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as { msg: string; err?: { message?: string; name?: string } }];
      } catch {
        return [];
      }
    })
    .filter((l) => msg.test(l.msg));
}

/** Ingestion started against a Kafka it cannot use: it keeps running, is not ready, answers 503, and logs why. */
async function refusedByKafka(
  t: {
    is: (a: unknown, b: unknown, m?: string) => void;
    regex: (s: string, r: RegExp, m?: string) => void;
    log: (...v: unknown[]) => void;
  },
  s: Setup,
  cause: RegExp,
): Promise<void> {
  const ingestion = await start(s, 'ingestion');
  const lines = await waitFor(
    'the "Kafka unreachable" log line',
    60_000,
    async () => logLines(ingestion, /^Kafka unreachable/),
    (l) => l.length > 0,
  );
  const reason = lines[0]!.err?.message ?? '';
  t.log(`ingestion logged: ${lines[0]!.msg}: ${lines[0]!.err?.name}: ${reason}`);
  t.regex(reason, cause, 'the log line names the cause');
  const ready = await request(`${ingestion.url}/readyz`);
  t.is(ready.status, 503);
  t.regex(ready.body, /kafka/);
  const res = await fetch(`${ingestion.url}/api/v1/logs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: logBody(s.id, 0, 1),
  });
  t.is(res.status, 503);
  t.regex(res.headers.get('retry-after') ?? '', /^\d+$/);
  t.is(ingestion.child.exitCode, null, 'still running: not a crash');
  t.is(await ingestion.stop(), 0);
}

test.serial(
  'SCRAM-SHA-512 over TLS (CA file; username from env, password from file): 2,000 entries in → exactly 2,000 documents',
  async (t) => {
    const k = kafkaBroker();
    const s = setup((dir) => scram(k, dir, { value: k.users.scram.password }), {}, { IT_KAFKA_USER: k.users.scram.username });
    await deliverExactly(t, s, 2_000);
  },
);

test.serial('PLAIN over TLS (username from file, password from env): 300 entries in → exactly 300 documents', async (t) => {
  const k = kafkaBroker();
  const s = setup(
    (dir) => ({
      brokers: [k.saslSsl],
      tls: { caFile: k.caFile },
      sasl: {
        mechanism: 'plain',
        username: { file: secretFile(dir, 'kafka-user', k.users.plain.username) },
        password: { env: 'IT_KAFKA_PASSWORD' },
      },
    }),
    {},
    { IT_KAFKA_PASSWORD: k.users.plain.password },
  );
  await deliverExactly(t, s, 300);
});

test.serial('mutual TLS (client certificate and key files) on the SSL listener: 300 entries in → exactly 300 documents', async (t) => {
  const k = kafkaBroker();
  const s = setup(() => ({ brokers: [k.ssl], tls: { caFile: k.caFile, certFile: k.clientCertFile, keyFile: k.clientKeyFile } }));
  await deliverExactly(t, s, 300);
});

test.serial(
  'a wrong SCRAM password: ingestion keeps running, not ready, 503 + Retry-After, the authentication failure logged',
  async (t) => {
    const k = kafkaBroker();
    const s = setup(
      (dir) => scram(k, dir, { env: 'IT_KAFKA_PASSWORD' }),
      {},
      {
        IT_KAFKA_USER: k.users.scram.username,
        IT_KAFKA_PASSWORD: 'not-the-password',
      },
    );
    await refusedByKafka(t, s, /SASL SCRAM SHA512 authentication failed/);
  },
);

test.serial('a CA that did not sign the broker certificate: ingestion not ready, the TLS verification error logged', async (t) => {
  const k = kafkaBroker();
  const s = setup(
    (dir) => scram(k, dir, { value: k.users.scram.password }, k.untrustedCaFile),
    {},
    { IT_KAFKA_USER: k.users.scram.username },
  );
  await refusedByKafka(t, s, /self[- ]signed certificate in certificate chain|unable to get local issuer certificate/);
});

test.serial('kafka.tls.insecureSkipVerify accepts the broker certificate despite an untrusted CA (test setups only)', async (t) => {
  const k = kafkaBroker();
  const s = setup(
    (dir) => ({
      ...scram(k, dir, { value: k.users.scram.password }, k.untrustedCaFile),
      tls: { caFile: k.untrustedCaFile, insecureSkipVerify: true },
    }),
    {},
    { IT_KAFKA_USER: k.users.scram.username },
  );
  const ingestion = await start(s, 'ingestion');
  t.is(
    await waitFor(
      `${ingestion.url}/readyz`,
      60_000,
      () => readyStatus(ingestion.url),
      (c) => c === 200,
    ),
    200,
  );
  await push(ingestion.url, s.id, 100);
  t.is(await ingestion.stop(), 0);
});

test.serial('http.tls: ingestion and processor serve HTTPS with the configured certificate; plain HTTP gets nothing', async (t) => {
  const k = kafkaBroker();
  const ca = fs.readFileSync(k.caFile);
  const s = setup(
    (dir) => scram(k, dir, { value: k.users.scram.password }),
    { http: { port: 0, tls: { certFile: k.serverCertFile, keyFile: k.serverKeyFile } } },
    { IT_KAFKA_USER: k.users.scram.username },
  );
  const ingestion = await start(s, 'ingestion');
  t.regex(ingestion.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  await waitFor(
    'ingestion ready over HTTPS',
    60_000,
    async () => (await request(`${ingestion.url}/readyz`, { ca })).status,
    (c) => c === 200,
  );
  const processor = await start(s, 'processor');
  t.regex(processor.url, /^https:\/\//);
  const pushed = await request(`${ingestion.url}/api/v1/logs`, {
    ca,
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: logBody(s.id, 0, 100),
  });
  t.is(pushed.status, 200, pushed.body);
  t.is(await waitForDocs(s.id, 'logs', 100, 120_000), 100);
  t.is((await request(`${processor.url}/readyz`, { ca })).status, 200);

  // Without our CA the certificate is not trusted: it is the configured one, not some default.
  const untrusted = await request(`${ingestion.url}/readyz`).then(
    (r) => `answered ${r.status}`,
    (e: Error) => e.message,
  );
  t.regex(untrusted, /self[- ]signed certificate in certificate chain|unable to (get local issuer|verify the first) certificate/);
  // Plain HTTP to the TLS port: no HTTP answer at all (the TLS handshake fails on the request line).
  const plain = await request(ingestion.url.replace(/^https:/, 'http:') + '/readyz').then(
    (r) => `answered ${r.status}`,
    (e: Error) => `failed: ${e.message}`,
  );
  t.log(`plain HTTP to the HTTPS listener: ${plain}`);
  t.regex(plain, /^failed: |^answered 400$/);
  t.is(await processor.stop(), 0);
  t.is(await ingestion.stop(), 0);
});

test.serial('SCRAM-SHA-256 over TLS (both credentials from env): 300 entries in → exactly 300 documents', async (t) => {
  const k = kafkaBroker();
  const s = setup(
    () => ({
      brokers: [k.saslSsl],
      tls: { caFile: k.caFile },
      sasl: { mechanism: 'scram-sha-256', username: { env: 'IT_KAFKA_USER' }, password: { env: 'IT_KAFKA_PASSWORD' } },
    }),
    {},
    { IT_KAFKA_USER: k.users.scram.username, IT_KAFKA_PASSWORD: k.users.scram.password },
  );
  await deliverExactly(t, s, 300);
});

test.serial('the SSL listener without a client certificate: ingestion not ready, the TLS alert logged', async (t) => {
  const k = kafkaBroker();
  const s = setup(() => ({ brokers: [k.ssl], tls: { caFile: k.caFile } }));
  await refusedByKafka(t, s, /alert bad certificate|certificate required/);
});

// The processor connects to Kafka at start; refused credentials must neither crash-loop it
// silently nor leave it half-alive: it stays up, not ready, and retries with backoff,
// logging the authentication failure each time (exiting non-zero would also be honest).
test.serial(
  'a wrong SCRAM password: the processor either exits non-zero or keeps retrying, naming the authentication failure',
  async (t) => {
    const k = kafkaBroker();
    const port = await freePort();
    const s = setup(
      (dir) => scram(k, dir, { env: 'IT_KAFKA_PASSWORD' }),
      { http: { port } },
      {
        IT_KAFKA_USER: k.users.scram.username,
        IT_KAFKA_PASSWORD: 'not-the-password',
      },
    );
    // Spawned directly: startRuntime waits for "is up on", which a correct processor may never print here.
    const child = spawn(process.execPath, [CLI, 'processor', '--config', s.configFile], {
      env: { ...process.env, SEXTANT_LOG_LEVEL: 'warn', ...s.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.teardown(() => void child.kill('SIGKILL'));
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const failures = () => output.split('SASL SCRAM SHA512 authentication failed').length - 1;
    await waitFor(
      'an authentication failure in the log',
      60_000,
      async () => failures(),
      (n) => n > 0,
    );
    // Give it time either to exit or to make further attempts.
    const seen = failures();
    await new Promise((r) => setTimeout(r, 10_000));
    const exited = child.exitCode;
    t.log(`exit code ${exited}; authentication failures logged: ${seen}, then ${failures()}`);
    if (exited !== null) t.not(exited, 0, 'exits non-zero');
    else {
      t.true(failures() > seen, 'still running, so it must still be retrying');
      t.is((await request(`http://127.0.0.1:${port}/readyz`)).status, 503);
    }
  },
);
