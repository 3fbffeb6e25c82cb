/**
 * Shared pieces of the distributed-runtime benchmarks (ingest-kafka, processor-opensearch,
 * latency): runtime configs against the test/infra servers, generated log entries, the
 * HTTP push loop, metric scraping, and clean-up of the topics and indices a run created.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { encodeLogEntry, recordHeaders } from '../../runtime/src/bus/kafka/codec.js';
import '../../runtime/src/bus/kafka/request-queue-fix.js';
import type { LogEntry } from '../../runtime/src/model/types.js';
import { infraVar } from '../integration/helpers/infra-env.js';
import { startRuntime, type RuntimeProcess } from '../support/runtime-process.js';

export const API_KEY = 'bench-key';
export const NAMESPACE = 'bench';

export const brokers = (): string[] => infraVar('KAFKA_BROKERS').split(',');
export const opensearchUrl = (): string => infraVar('OPENSEARCH_URL');

/** A fresh DNS-1123 pipeline name, so every run has its own topics, groups and indices. */
export function benchId(kind: string): string {
  return `${kind}-${randomBytes(3).toString('hex')}`;
}

export interface ConfigOptions {
  id: string;
  partitions: number;
  indexPrefix?: string;
  bulkMaxDocs?: number;
  /** kafka.producer.maxBatchRecords of the ingestion (its default, 10,000, is not bounded by bytes). */
  maxBatchRecords?: number;
}

/** The runtime config document (runtime/src/platform/runtime-config.ts) for one bench pipeline. */
export function writeRuntimeConfig(o: ConfigOptions): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sextant-bench-dist-'));
  const file = path.join(dir, 'runtime.json');
  const config = {
    pipeline: { namespace: NAMESPACE, name: o.id },
    signals: ['logs'],
    http: { port: 0 },
    auth: { apiKeys: { env: 'SEXTANT_API_KEYS' } },
    kafka: {
      brokers: brokers(),
      clientId: o.id,
      topics: { partitions: o.partitions, replicationFactor: 1 },
      ...(o.maxBatchRecords ? { producer: { maxBatchRecords: o.maxBatchRecords } } : {}),
    },
    // The benchmark is the only client: the per-key rate limit must not be what is measured.
    rateLimit: { requestsPerSecond: 1_000_000, burst: 1_000_000 },
    sinks: {
      opensearch: {
        endpoints: [opensearchUrl()],
        indexPrefix: o.indexPrefix ?? o.id,
        ...(o.bulkMaxDocs ? { bulk: { maxDocs: o.bulkMaxDocs, maxBytes: 5 * 1024 * 1024 } } : {}),
      },
    },
  };
  fs.writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

export function start(
  component: 'ingestion' | 'processor' | 'query',
  configFile: string,
  env: Record<string, string> = {},
): Promise<RuntimeProcess> {
  return startRuntime(component, configFile, { SEXTANT_API_KEYS: API_KEY, ...env });
}

export interface HttpEntry {
  timestamp: string;
  labels: Record<string, string>;
  message: string;
  fields: Record<string, unknown>;
}

/** Log entry i: 8 streams, a message of exactly messageBytes ASCII bytes, one structured field. */
export function makeEntry(i: number, t0Ns: bigint, messageBytes: number, tag = ''): HttpEntry {
  const head = `${tag}${i} GET /api/items/${i % 1000} 200 `;
  return {
    timestamp: (t0Ns + BigInt(i) * 1000n).toString(),
    labels: { service: `svc${i % 8}`, level: i % 20 === 0 ? 'error' : 'info' },
    message: head + 'x'.repeat(Math.max(0, messageBytes - head.length)),
    fields: { status: 200 },
  };
}

export function toLogEntry(e: HttpEntry): LogEntry {
  return { timestampNs: BigInt(e.timestamp), labels: e.labels, message: e.message, fields: e.fields };
}

/** Request bodies of `batch` entries each, for entries first..first+count-1. */
export function makeBodies(first: number, count: number, batch: number, t0Ns: bigint, messageBytes: number): string[] {
  const bodies: string[] = [];
  for (let b = first; b < first + count; b += batch) {
    const entries: HttpEntry[] = [];
    for (let i = b; i < Math.min(first + count, b + batch); i++) entries.push(makeEntry(i, t0Ns, messageBytes));
    bodies.push(JSON.stringify({ entries }));
  }
  return bodies;
}

/** Mean size of the Kafka record value the ingestion writes for these entries (key and headers excluded). */
export function meanRecordValueBytes(entries: HttpEntry[]): number {
  const headers = recordHeaders(NAMESPACE);
  const total = entries.reduce((sum, e) => sum + Buffer.byteLength(String(encodeLogEntry(toLogEntry(e), headers).value)), 0);
  return Math.round(total / entries.length);
}

export async function postLogs(url: string, body: string): Promise<void> {
  const res = await fetch(`${url}/api/v1/logs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body,
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`ingestion answered ${res.status}: ${text}`);
}

/** Posts every body, `concurrency` requests in flight; calls onDone after each acknowledged one. */
export async function pushAll(url: string, bodies: string[], concurrency: number, onDone?: (index: number) => void): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < bodies.length) {
      const index = next++;
      await postLogs(url, bodies[index]!);
      onDone?.(index);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** Sum of every series of a counter/gauge in a Prometheus text exposition. */
export async function scrapeMetric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

export function kafkaAdminClient(): Kafka {
  return new Kafka({ clientId: 'sextant-bench', brokers: brokers(), logLevel: logLevel.NOTHING });
}

/** Deletes the topics whose names start with one of the prefixes (the bench's own, by construction). */
export async function deleteTopics(prefixes: string[]): Promise<void> {
  const admin = kafkaAdminClient().admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => prefixes.some((p) => t.startsWith(p)));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 });
  } finally {
    await admin.disconnect();
  }
}

/** Records in a topic: the sum of its partitions' high watermarks (the bench's topics start at offset 0). */
export async function topicRecords(topic: string): Promise<number> {
  const admin = kafkaAdminClient().admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

export async function osRequest<T>(method: string, urlPath: string, body?: unknown): Promise<T> {
  const res = await fetch(`${opensearchUrl()}${urlPath}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const json = (await res.json()) as T;
  if (res.status >= 300) throw new Error(`OpenSearch ${method} ${urlPath} answered ${res.status}: ${JSON.stringify(json)}`);
  return json;
}

/** Refresh, then _count over `<prefix>-logs-*` (0 when no index exists yet). */
export async function countDocs(prefix: string): Promise<number> {
  await osRequest('POST', `/${prefix}-logs-*/_refresh?allow_no_indices=true`);
  const body = await osRequest<{ count?: number }>('GET', `/${prefix}-logs-*/_count?allow_no_indices=true`);
  return body.count ?? 0;
}

/** Deletes the indices and index templates named by the prefix (the bench's own, by construction). */
export async function deleteIndices(prefix: string): Promise<void> {
  await osRequest('DELETE', `/${prefix}-*?allow_no_indices=true&expand_wildcards=all`).catch(() => undefined);
  for (const signal of ['logs', 'metrics']) await osRequest('DELETE', `/_index_template/${prefix}-${signal}`).catch(() => undefined);
}

/** Value at quantile q (0..1) of the values, nearest-rank. */
export function percentile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** The pid of a server test/infra started (kafka, opensearch), for its CPU-seconds; undefined if unknown. */
export function infraPid(service: 'kafka' | 'opensearch'): number | undefined {
  try {
    const run = infraVar('SEXTANT_INFRA_RUN');
    const pid = Number(fs.readFileSync(path.join(run, 'pids', `${service}.pid`), 'utf8').trim());
    return fs.existsSync(`/proc/${pid}/stat`) ? pid : undefined;
  } catch {
    return undefined;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
