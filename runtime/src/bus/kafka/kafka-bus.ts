/**
 * The Kafka bus of the ingestion runtime (docs/architecture.md §4). publish* resolves only after Kafka
 * acknowledged the records (acks=all, idempotent producer). kafkajs does no batching of its
 * own, so publishes are coalesced here: whatever arrives while a send is in flight, or within
 * `lingerMs`, goes out as one sendBatch (cut at `maxBatchRecords` and `maxBatchBytes`). The
 * byte bound matters: kafkajs puts all records of a partition in one record batch, and the
 * broker refuses a batch over its `message.max.bytes` (1 MiB by default) — an outage-like
 * 503 for a perfectly good request. A single publish over the bound goes out in several
 * sends and is acknowledged when all of them are.
 *
 * While Kafka is unreachable the bus is not ready: publishes fail at once with
 * BusUnavailableError (ingestion answers 503 + Retry-After, /readyz is false) and a probe
 * reconnects a fresh producer in the background until a metadata request succeeds.
 */
import { CompressionTypes, type IHeaders, type Kafka, type Message, type Producer, type TopicMessages } from 'kafkajs';
import { sleep } from '../../common/backoff.js';
import type { Logger } from '../../common/log.js';
import type { LogEntry, MetricMetadata, Sample, Signal } from '../../model/types.js';
import { topicName, type RuntimeConfig } from '../../platform/runtime-config.js';
import { BusUnavailableError, type Bus, type PublishResult } from '../bus.js';
import { encodeLogEntry, encodeMetadata, encodeSample, recordHeaders } from './codec.js';
import type { KafkaBusMetrics } from './metrics.js';
import { MemoizedKeyPartitioner } from './partitioner.js';
import { ensureTopics } from './topics.js';

interface Pending {
  topic: string;
  messages: Message[];
  /** messageBytes of each message, computed once (the byte bounds look at every record twice). */
  sizes: number[];
  bytes: number;
  resolve: (result: PublishResult) => void;
  reject: (error: Error) => void;
}

export interface KafkaBusOptions {
  kafka: Kafka;
  config: RuntimeConfig;
  metrics: KafkaBusMetrics;
  log: Logger;
}

const PROBE_INTERVAL_MS = 1_000;
/** While idle, Kafka is asked for its cluster metadata this often, so /readyz notices an outage without traffic. */
const HEALTH_INTERVAL_MS = 2_000;

export class KafkaBus implements Bus {
  private producer: Producer | undefined;
  private healthy = false;
  private closed = false;
  private pending: Pending[] = [];
  private pendingRecords = 0;
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | undefined;
  private probing: Promise<void> | undefined;
  private lastAck = 0;
  private healthTimer: NodeJS.Timeout | undefined;
  private checking = false;
  private readonly logsTopic: string;
  private readonly metricsTopic: string;

  constructor(private readonly options: KafkaBusOptions) {
    this.logsTopic = topicName(options.config, 'logs');
    this.metricsTopic = topicName(options.config, 'metrics');
  }

  /** Connects (creating the topics) in the background; ready() turns true once done. */
  start(): void {
    this.probe();
    this.healthTimer = setInterval(() => void this.checkHealth(), HEALTH_INTERVAL_MS);
    this.healthTimer.unref();
  }

  private async checkHealth(): Promise<void> {
    if (!this.healthy || this.checking || this.closed || Date.now() - this.lastAck < HEALTH_INTERVAL_MS) return;
    this.checking = true;
    const admin = this.options.kafka.admin();
    try {
      await withTimeout(
        (async () => {
          await admin.connect();
          await admin.describeCluster();
        })(),
        this.options.config.kafka.producer.requestTimeoutMs,
      );
    } catch (error) {
      if (this.healthy) {
        this.options.log.warn({ err: error }, 'Kafka health check failed');
        this.markUnhealthy();
      }
    } finally {
      await admin.disconnect().catch(() => undefined);
      this.checking = false;
    }
  }

  /** Resolves once the bus is ready (tests and startup logs). */
  async waitReady(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.healthy && Date.now() < deadline) await sleep(50);
    return this.healthy;
  }

  ready(): boolean {
    return this.healthy && !this.closed;
  }

  publishLogs(entries: LogEntry[]): Promise<PublishResult> {
    return this.publish('logs', (headers) => entries.map((e) => encodeLogEntry(e, headers)));
  }

  publishSamples(samples: Sample[]): Promise<PublishResult> {
    return this.publish('metrics', (headers) => samples.map((s) => encodeSample(s, headers)));
  }

  publishMetadata(metadata: MetricMetadata[]): Promise<PublishResult> {
    return this.publish('metrics', (headers) => metadata.map((m) => encodeMetadata(m, headers)));
  }

  /** Onto the signal's topic, if this pipeline carries it; every message with the same headers. */
  private publish(signal: Signal, encode: (headers: IHeaders) => Message[]): Promise<PublishResult> {
    if (!this.options.config.signals.includes(signal))
      return Promise.reject(new BusUnavailableError(`this pipeline does not carry ${signal}`, 60));
    const headers = recordHeaders(this.options.config.pipeline.namespace);
    return this.enqueue(signal === 'logs' ? this.logsTopic : this.metricsTopic, encode(headers), headers);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.healthTimer) clearInterval(this.healthTimer);
    // Publishes already accepted into the queue are still sent (their requests are waiting).
    while (this.pending.length > 0 || this.sending) {
      if (!this.sending) this.flush();
      await this.sending;
    }
    await this.probing;
    await this.producer?.disconnect().catch(() => undefined);
  }

  /** All messages carry `headers` (one object per publish): their size is counted once. */
  private enqueue(topic: string, messages: Message[], headers: IHeaders): Promise<PublishResult> {
    if (this.closed) return Promise.reject(new BusUnavailableError('shutting down'));
    if (!this.healthy) return Promise.reject(new BusUnavailableError('Kafka is unavailable', 2));
    if (messages.length === 0) return Promise.resolve({ accepted: 0 });
    const headerBytes = headersBytes(headers);
    const sizes = new Array<number>(messages.length);
    let bytes = 0;
    for (let i = 0; i < messages.length; i++) bytes += sizes[i] = messageBytes(messages[i]!, headerBytes);
    return new Promise((resolve, reject) => {
      this.pending.push({ topic, messages, sizes, bytes, resolve, reject });
      this.pendingRecords += messages.length;
      if (this.sending) return; // flushed when the send in flight completes
      if (this.pendingRecords >= this.options.config.kafka.producer.maxBatchRecords) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.options.config.kafka.producer.lingerMs);
    });
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.sending || this.pending.length === 0) return;
    const { maxBatchRecords, maxBatchBytes } = this.options.config.kafka.producer;
    const batch: Pending[] = [];
    let records = 0;
    let bytes = 0;
    // Whole publishes only: a request's records are acknowledged together.
    while (
      this.pending.length > 0 &&
      (batch.length === 0 ||
        (records + this.pending[0]!.messages.length <= maxBatchRecords && bytes + this.pending[0]!.bytes <= maxBatchBytes))
    ) {
      const p = this.pending.shift()!;
      batch.push(p);
      records += p.messages.length;
      bytes += p.bytes;
    }
    this.pendingRecords -= records;
    this.sending = this.send(batch, records).finally(() => {
      this.sending = undefined;
      if (this.pending.length > 0) this.flush();
    });
  }

  private async send(batch: Pending[], records: number): Promise<void> {
    const { metrics, log, config } = this.options;
    const byTopic = new Map<string, Message[]>();
    const sizes = new Map<string, number[]>();
    for (const p of batch) {
      const list = byTopic.get(p.topic) ?? [];
      const listSizes = sizes.get(p.topic) ?? [];
      for (let i = 0; i < p.messages.length; i++) {
        list.push(p.messages[i]!);
        listSizes.push(p.sizes[i]!);
      }
      byTopic.set(p.topic, list);
      sizes.set(p.topic, listSizes);
    }
    const stop = metrics.sendDuration.startTimer();
    try {
      for (const topicMessages of chunkByBytes(byTopic, config.kafka.producer.maxBatchBytes, sizes)) {
        if (!this.producer || !this.healthy) throw new Error('Kafka is unavailable');
        await withTimeout(
          this.producer.sendBatch({
            topicMessages,
            acks: -1,
            timeout: config.kafka.producer.requestTimeoutMs,
            compression: config.kafka.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
          }),
          config.kafka.producer.requestTimeoutMs,
        );
      }
      stop();
      this.lastAck = Date.now();
      metrics.batches.inc();
      metrics.records.inc(records);
      for (const p of batch) p.resolve({ accepted: p.messages.length });
    } catch (error) {
      metrics.sendErrors.inc();
      log.warn({ err: error, records, requests: batch.length }, 'Kafka did not acknowledge a batch; its requests are answered 503');
      const unavailable = new BusUnavailableError(`Kafka did not acknowledge the records: ${(error as Error).message}`, 2);
      for (const p of batch) p.reject(unavailable);
      // Everything queued behind a failed send would most likely fail too: fail it now.
      for (const p of this.pending.splice(0)) p.reject(unavailable);
      this.pendingRecords = 0;
      this.markUnhealthy();
    }
  }

  private markUnhealthy(): void {
    if (this.healthy) this.options.log.warn('Kafka unavailable: not ready, answering 503 until it is back');
    this.healthy = false;
    this.options.metrics.up.set(0);
    this.probe();
  }

  /** Reconnects a fresh producer and checks the topics until Kafka answers; then ready. */
  private probe(): void {
    if (this.probing || this.closed) return;
    this.probing = (async () => {
      const { kafka, config, log, metrics } = this.options;
      let attempt = 0;
      while (!this.closed) {
        try {
          const old = this.producer;
          this.producer = undefined;
          await old?.disconnect().catch(() => undefined);
          await ensureTopics(kafka, config, log);
          const producer = kafka.producer({
            idempotent: true,
            maxInFlightRequests: 1,
            allowAutoTopicCreation: false,
            // The default's assignment, memoised per key (see partitioner.ts).
            createPartitioner: MemoizedKeyPartitioner,
          });
          await producer.connect();
          this.producer = producer;
          this.healthy = true;
          metrics.up.set(1);
          log.info({ brokers: config.kafka.brokers, attempt }, 'Kafka producer connected; ready');
          return;
        } catch (error) {
          if (attempt % 10 === 0) log.warn({ err: error, attempt }, 'Kafka unreachable; retrying');
          attempt++;
          await sleep(PROBE_INTERVAL_MS);
        }
      }
    })().finally(() => (this.probing = undefined));
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no acknowledgement within ${ms} ms`)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e as Error);
      },
    );
  });
}

/** Per-record framing of Kafka's record format (lengths, offsets, timestamps as varints) — an upper bound. */
const RECORD_OVERHEAD_BYTES = 32;

/**
 * A record's size on the wire, near enough to keep a batch under the broker's limit.
 * `headerBytes`, when given, is headersBytes(m.headers), computed once for records sharing them.
 */
export function messageBytes(m: Message, headerBytes = headersBytes(m.headers)): number {
  return RECORD_OVERHEAD_BYTES + byteLength(m.key) + byteLength(m.value) + headerBytes;
}

export function headersBytes(headers: IHeaders | undefined): number {
  let bytes = 0;
  for (const [k, v] of Object.entries(headers ?? {})) bytes += Buffer.byteLength(k) + byteLength(v as string | Buffer | undefined);
  return bytes;
}

function byteLength(v: string | Buffer | null | undefined | (string | Buffer)[]): number {
  if (v === null || v === undefined) return 0;
  if (Array.isArray(v)) return v.reduce((n, x) => n + Buffer.byteLength(x), 0);
  return Buffer.byteLength(v);
}

/**
 * Splits the messages into sends of at most maxBytes (a single larger record goes alone).
 * `sizes` (per topic, parallel to its messages) are their messageBytes when already known.
 */
export function chunkByBytes(byTopic: Map<string, Message[]>, maxBytes: number, sizes?: Map<string, number[]>): TopicMessages[][] {
  const chunks: TopicMessages[][] = [];
  let chunk = new Map<string, Message[]>();
  let bytes = 0;
  for (const [topic, messages] of byTopic) {
    const known = sizes?.get(topic);
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      const size = known?.[i] ?? messageBytes(m);
      if (bytes > 0 && bytes + size > maxBytes) {
        chunks.push([...chunk].map(([t, ms]) => ({ topic: t, messages: ms })));
        chunk = new Map();
        bytes = 0;
      }
      const list = chunk.get(topic) ?? [];
      list.push(m);
      chunk.set(topic, list);
      bytes += size;
    }
  }
  if (bytes > 0) chunks.push([...chunk].map(([t, ms]) => ({ topic: t, messages: ms })));
  return chunks;
}
