/**
 * The processor runner for one (pipeline, sink): its own consumer group
 * `sextant.<namespace>.<pipeline>.<sink>`, so sinks progress independently (docs/architecture.md §4).
 *
 * Per batch: decode + stages and DLQ for poison records; then a writing sink's records enter
 * the WritePipeline (write-pipeline.ts), which merges batches of all partitions into sink
 * writes, keeps a few in flight while Kafka fetches on, and commits a partition's offsets
 * only after the sink acknowledged every record up to them. A sink outage fills the
 * pipeline: writes back off exponentially, eachBatch waits with heartbeats, nothing is
 * committed or dropped. On SIGTERM fetching stops, the pipeline drains (bounded wait) and
 * commits, then the group is left; what could not drain stays uncommitted for the next owner.
 *
 * A buffering sink (S3: objects of many batches) takes each batch into memory, and the
 * runner commits only what the sink reports durable after a flush; flushes that become due
 * by age run from a timer, serialised with the batches. See eachBufferedBatch.
 */
import { Partitioners, type Consumer, type EachBatchPayload, type IHeaders, type Kafka, type Message, type Producer } from 'kafkajs';
import { Backoff, retry, retryWhile, sleep, type BackoffPolicy } from '../../common/backoff.js';
import type { Logger } from '../../common/log.js';
import { encodeLogEntry, encodeMetadata, encodeSample, HEADER_ERROR, HEADER_ERROR_STAGE, HEADER_ORIGIN } from '../../bus/kafka/codec.js';
import type { Signal } from '../../model/types.js';
import { topicName, type RuntimeConfig } from '../../platform/runtime-config.js';
import type { ProcessorMetrics } from '../metrics.js';
import type { Pipeline } from '../pipeline.js';
import { Stages } from '../process.js';
import { prepareBatch, type DeadLetter } from './batch.js';
import type { RunnerMetrics } from './metrics.js';
import {
  isBuffering,
  SinkUnavailableError,
  type AnySink,
  type BufferingSink,
  type DurableOffset,
  type Sink,
  type SinkRecord,
} from '../../storage/sink.js';
import { WritePipeline, type RejectedItem } from './write-pipeline.js';

export interface RunnerOptions {
  kafka: Kafka;
  config: RuntimeConfig;
  sink: AnySink;
  pipeline: Pipeline;
  metrics: RunnerMetrics;
  processorMetrics: ProcessorMetrics;
  log: Logger;
  /** First and largest backoff after a failed sink write. */
  backoffMs?: BackoffPolicy;
  /**
   * Whether this runner sends undecodable records to the DLQ (default true). Every sink's
   * group reads the same records, so a processor with several sinks lets one of them do
   * it — otherwise each poison record would be dead-lettered once per sink.
   */
  deadLetterUndecodable?: boolean;
  /**
   * Told which partitions this member holds ({topic: partitions}) after every group join, and
   * undefined whenever that is no longer known (rebalance started, consumer crashed or
   * stopped). The processor elects its retention runner from it (platform/retention-election.ts).
   */
  onAssignment?: (assignment: Record<string, number[]> | undefined) => void;
  /** Writing sinks: sink writes in flight at once (default 2: one indexing while the next is built). */
  writesInFlight?: number;
  /** Writing sinks: how long close() waits for the pipeline to write and commit what it took (default 10 s). */
  drainMs?: number;
}

/** Records per merged write when the sink does not say (OpenSearch says: bulk.maxDocs). */
const DEFAULT_WRITE_RECORDS = 5_000;

export function consumerGroupId(config: Pick<RuntimeConfig, 'pipeline'>, sink: string): string {
  return `sextant.${config.pipeline.namespace}.${config.pipeline.name}.${sink}`;
}

export class SinkRunner {
  private consumer: Consumer | undefined;
  private producer: Producer | undefined;
  private sinkHealthy = true;
  private consumerRunning = false;
  /** The stages, their drop log and counters: the same code as the embedded processor's. */
  private readonly stages: Stages;
  private readonly signalOf = new Map<string, Signal>();
  private readonly backoff: BackoffPolicy;
  /** Buffering sinks: one flush or batch at a time (batches, the age timer, shutdown). */
  private locked = false;
  private closing = false;
  private timer: NodeJS.Timeout | undefined;
  private tickBackoff!: Backoff;
  private nextTickAt = 0;
  /** Writing sinks: the merged, pipelined write path. */
  private pipeline: WritePipeline | undefined;

  constructor(private readonly options: RunnerOptions) {
    for (const s of options.config.signals) this.signalOf.set(topicName(options.config, s), s);
    this.backoff = options.backoffMs ?? { initial: 200, max: 30_000 };
    this.tickBackoff = new Backoff(this.backoff);
    this.stages = new Stages(options.pipeline, options.processorMetrics, options.log);
  }

  get sinkName(): string {
    return this.options.sink.name;
  }

  ready(): boolean {
    return this.consumerRunning && this.sinkHealthy;
  }

  async start(): Promise<void> {
    const { kafka, config, sink, log, metrics } = this.options;
    await this.retry('sink start', () => sink.start());
    metrics.sinkUp.set({ sink: sink.name }, 1);
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await this.producer.connect();
    const groupId = consumerGroupId(config, sink.name);
    const consumer = kafka.consumer({
      groupId,
      sessionTimeout: config.kafka.consumer.sessionTimeoutMs,
      heartbeatInterval: config.kafka.consumer.heartbeatIntervalMs,
      allowAutoTopicCreation: false,
    });
    this.consumer = consumer;
    const { onAssignment } = this.options;
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      this.consumerRunning = true;
      // Kafka delivers every assigned partition again from its committed offset.
      if (isBuffering(sink)) sink.reset('rebalance');
      onAssignment?.(e.payload.memberAssignment);
    });
    consumer.on(consumer.events.REBALANCING, () => onAssignment?.(undefined));
    consumer.on(consumer.events.CRASH, (e) => {
      this.consumerRunning = false;
      onAssignment?.(undefined);
      log.warn({ err: e.payload.error, restart: e.payload.restart }, 'Kafka consumer crashed');
    });
    consumer.on(consumer.events.STOP, () => {
      this.consumerRunning = false;
      onAssignment?.(undefined);
    });
    if (!isBuffering(sink)) this.pipeline = this.writePipeline(sink);
    await consumer.connect();
    // A new group starts at the earliest offset: nothing published before it existed is lost.
    await consumer.subscribe({ topics: [...this.signalOf.keys()], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      // A buffering sink appends and flushes in offset order, one batch at a time; a writing
      // sink's batches only enter the write pipeline, several partitions at once.
      partitionsConsumedConcurrently: isBuffering(sink) ? 1 : config.kafka.consumer.concurrency,
      eachBatch: (p) => this.eachBatch(p),
    });
    if (isBuffering(sink)) {
      const buffering = sink;
      this.timer = setInterval(() => void this.tick(buffering), sink.tickMs);
      this.timer.unref();
    }
    log.info({ groupId, topics: [...this.signalOf.keys()], sink: sink.name }, 'processor: consuming');
  }

  /** Leaves the group after the batch in hand (kafkajs waits for it), then disconnects. */
  async close(): Promise<void> {
    const { sink } = this.options;
    if (isBuffering(sink)) await this.drain(sink);
    else if (this.pipeline) await this.drainPipeline(this.pipeline);
    await this.consumer?.disconnect();
    await this.producer?.disconnect();
    await this.options.sink.close();
  }

  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, heartbeat, isRunning, isStale, resolveOffset } = payload;
    const { sink, metrics } = this.options;
    if (batch.messages.length === 0) return;
    const signal = this.signalOf.get(batch.topic);
    if (!signal) return;
    if (isBuffering(sink)) return this.eachBufferedBatch(payload, sink, signal);
    const writes = this.pipeline!;
    const running = () => isRunning() && !isStale() && !this.closing;
    const prepared = prepareBatch(signal, batch.topic, batch.partition, batch.messages, this.stages);
    // Not taken while the pipeline is full (or the consumer stops): Kafka delivers it again.
    if (!(await writes.waitForRoom(heartbeat, running))) return;
    if (!(await this.sendUndecodable(prepared.deadLetters, batch.topic, batch.partition, heartbeat, running))) return;
    const last = batch.lastOffset();
    writes.enqueue({ topic: batch.topic, partition: batch.partition, signal, lastOffset: last }, prepared.records);
    // Consumed, not committed: the pipeline commits once the sink acknowledged it.
    resolveOffset(last);
    metrics.lag.set({ sink: sink.name, topic: batch.topic, partition: String(batch.partition) }, Number(batch.offsetLag()));
    if (prepared.processed) this.stages.count(prepared.received, prepared.processed);
    await heartbeat();
  }

  private writePipeline(sink: Sink): WritePipeline {
    const { metrics, log } = this.options;
    const maxRecords = sink.maxRecordsPerWrite ?? DEFAULT_WRITE_RECORDS;
    const inFlight = this.options.writesInFlight ?? 2;
    return new WritePipeline({
      sink,
      maxRecords,
      inFlight,
      // Room for the writes in flight and as many again being merged: beyond it Kafka waits.
      maxPending: maxRecords * inFlight * 2,
      backoffMs: this.backoff,
      deadLetter: (items) => this.deadLetterRejected(items),
      commit: (offsets) => this.consumer!.commitOffsets(offsets),
      onWritten: (signal, count) => metrics.written.inc({ sink: sink.name, signal }, count),
      onCommitted: () => metrics.commits.inc({ sink: sink.name }),
      onFailure: (error) => this.sinkFailed(sink.name, error),
      onSuccess: () => this.sinkRecovered(sink.name),
      log,
    });
  }

  /** Records the sink refused for good (mapping errors) → the DLQ, re-encoded as on the bus. */
  private async deadLetterRejected(items: RejectedItem[]): Promise<void> {
    const { sink, metrics, log } = this.options;
    const messages: Message[] = items.map(({ record, reason, segment }) => {
      const encoded = encodeAsOnTheBus(record);
      return this.deadLetter(
        encoded.key ?? null,
        encoded.value,
        {},
        { reason: 'rejected', error: reason, partition: segment.partition },
        segment.topic,
      );
    });
    await this.producer!.send({ topic: topicName(this.options.config, 'dlq'), messages, acks: -1 });
    metrics.dlq.inc({ sink: sink.name, reason: 'rejected' }, items.length);
    log.warn(
      { sink: sink.name, topic: items[0]!.segment.topic, count: items.length, example: items[0]!.reason },
      'records sent to the dead-letter topic (sextant_processor_dlq_records_total)',
    );
  }

  /** SIGTERM with a writing sink: stop fetching, let the pipeline write and commit what it took (bounded), then leave. */
  private async drainPipeline(pipeline: WritePipeline): Promise<void> {
    this.closing = true;
    try {
      this.consumer?.pause([...this.signalOf.keys()].map((topic) => ({ topic })));
    } catch {
      // not running: nothing is fetched anyway
    }
    if (!(await pipeline.drain(this.options.drainMs ?? 10_000)))
      this.options.log.warn(
        { sink: this.options.sink.name },
        'shutdown: writes still pending; their records stay uncommitted for the next owner',
      );
  }

  /**
   * A batch for a buffering sink. The batch enters the sink's buffer (poison records go to
   * the DLQ first) and is resolved at once, so Kafka moves on while nothing is committed;
   * then every due flush runs and only the offsets it made durable are committed. A failed
   * flush blocks here with backoff and heartbeats — the consumer is paused, the buffer stays
   * bounded, nothing is committed or dropped. Before the batch, begin() may name an offset
   * the next flush must end at (a predecessor's uncommitted flush): the batch is cut there.
   */
  private async eachBufferedBatch(payload: EachBatchPayload, sink: BufferingSink, signal: Signal): Promise<void> {
    const { batch, heartbeat, resolveOffset } = payload;
    const { metrics } = this.options;
    const running = () => payload.isRunning() && !payload.isStale() && !this.closing;
    if (!(await this.acquire(heartbeat, running))) return;
    try {
      const messages = batch.messages;
      const first = BigInt(messages[0]!.offset);
      const last = BigInt(messages[messages.length - 1]!.offset);
      let pins: bigint[] = [];
      const begun = await this.withBackoff(sink.name, heartbeat, running, async () => {
        pins = await sink.begin({ topic: batch.topic, partition: batch.partition, signal, firstOffset: first });
      });
      if (!begun) return; // nothing taken: Kafka delivers the batch again
      const slices = cutAfter(
        messages,
        pins.filter((p) => p >= first && p < last),
      );
      for (const slice of slices) {
        const prepared = prepareBatch(signal, batch.topic, batch.partition, slice, this.stages);
        if (!(await this.sendUndecodable(prepared.deadLetters, batch.topic, batch.partition, heartbeat, running))) return;
        const lastOfSlice = slice[slice.length - 1]!.offset;
        sink.append(
          {
            topic: batch.topic,
            partition: batch.partition,
            signal,
            firstOffset: BigInt(slice[0]!.offset),
            lastOffset: BigInt(lastOfSlice),
          },
          prepared.records,
        );
        resolveOffset(lastOfSlice);
        if (prepared.processed) this.stages.count(prepared.received, prepared.processed);
      }
      const backoff = new Backoff(this.backoff);
      for (;;) {
        const outcome = await sink.flush({ shutdown: false, heartbeat });
        await this.commitDurable(sink, outcome.durable);
        if (!outcome.error) break;
        this.sinkFailed(sink.name, outcome.error);
        if (!running()) return; // the buffer is left uncommitted: replayed by the next owner
        await this.sleepWithHeartbeat(backoff.next(), heartbeat, running);
      }
      this.sinkRecovered(sink.name);
      metrics.lag.set({ sink: sink.name, topic: batch.topic, partition: String(batch.partition) }, Number(batch.offsetLag()));
      await heartbeat();
    } finally {
      this.locked = false;
    }
  }

  /** Age-due flushes while no batch arrives (the timer of a buffering sink); skipped while a batch holds the lock. */
  private async tick(sink: BufferingSink): Promise<void> {
    if (this.locked || this.closing || !this.consumerRunning || Date.now() < this.nextTickAt) return;
    this.locked = true;
    try {
      const outcome = await sink.flush({ shutdown: false });
      await this.commitDurable(sink, outcome.durable);
      if (outcome.error) {
        this.sinkFailed(sink.name, outcome.error);
        this.nextTickAt = Date.now() + this.tickBackoff.next();
      } else {
        this.tickBackoff.reset();
        this.sinkRecovered(sink.name);
      }
    } catch (error) {
      this.options.log.warn({ err: error, sink: sink.name }, 'timed flush or its commit failed; the next batch or tick retries');
    } finally {
      this.locked = false;
    }
  }

  /** SIGTERM with a buffering sink: stop fetching, flush everything (bounded wait), commit, then leave. */
  private async drain(sink: BufferingSink): Promise<void> {
    this.closing = true;
    clearInterval(this.timer);
    try {
      this.consumer?.pause([...this.signalOf.keys()].map((topic) => ({ topic })));
    } catch {
      // not running: nothing is fetched anyway
    }
    while (this.locked) await sleep(50);
    this.locked = true;
    const deadline = Date.now() + 10_000;
    const backoff = new Backoff(this.backoff);
    try {
      for (;;) {
        const outcome = await sink.flush({ shutdown: true });
        await this.commitDurable(sink, outcome.durable);
        if (!outcome.error) return;
        const delay = backoff.next();
        if (Date.now() + delay > deadline) {
          this.options.log.warn(
            { err: outcome.error, sink: sink.name },
            'shutdown: sink still failing; buffered records stay uncommitted for the next owner',
          );
          return;
        }
        await sleep(delay);
      }
    } catch (error) {
      this.options.log.warn({ err: error, sink: sink.name }, 'shutdown flush failed; buffered records stay uncommitted for the next owner');
    } finally {
      this.locked = false;
    }
  }

  private async commitDurable(sink: BufferingSink, durable: DurableOffset[]): Promise<void> {
    if (durable.length === 0) return;
    await this.consumer!.commitOffsets(durable.map(({ topic, partition, offset }) => ({ topic, partition, offset })));
    this.options.metrics.commits.inc({ sink: sink.name });
    for (const d of durable) this.options.metrics.written.inc({ sink: sink.name, signal: d.signal }, d.records);
  }

  /** Waits for the lock with heartbeats; false when the consumer stops meanwhile. */
  private async acquire(heartbeat: () => Promise<void>, running: () => boolean): Promise<boolean> {
    let beat = Date.now();
    while (this.locked) {
      if (!running()) return false;
      await sleep(50);
      if (Date.now() - beat >= 1_000) {
        beat = Date.now();
        await heartbeat().catch(() => undefined);
      }
    }
    if (!running()) return false;
    this.locked = true;
    return true;
  }

  /** Runs fn until it succeeds, backing off with heartbeats; false when the consumer stops first. */
  private async withBackoff(
    sinkName: string,
    heartbeat: () => Promise<void>,
    running: () => boolean,
    fn: () => Promise<void>,
  ): Promise<boolean> {
    const done = await retryWhile(running, fn, {
      policy: this.backoff,
      onError: (error) => this.sinkFailed(sinkName, error),
      wait: (ms) => this.sleepWithHeartbeat(ms, heartbeat, running),
    });
    return done !== undefined;
  }

  private sinkFailed(sinkName: string, error: unknown): void {
    this.options.metrics.sinkErrors.inc({ sink: sinkName });
    if (this.sinkHealthy) this.options.log.warn({ err: error, sink: sinkName }, 'sink write failed; backing off (no commit, no drop)');
    this.sinkHealthy = false;
    this.options.metrics.sinkUp.set({ sink: sinkName }, 0);
  }

  private sinkRecovered(sinkName: string): void {
    if (!this.sinkHealthy) this.options.log.info({ sink: sinkName }, 'sink accepts writes again');
    this.sinkHealthy = true;
    this.options.metrics.sinkUp.set({ sink: sinkName }, 1);
  }

  /**
   * Undecodable records of a batch → the DLQ (unless another sink's runner sends them), with
   * backoff; false when the consumer stopped before they were sent (nothing of the batch is taken).
   */
  private async sendUndecodable(
    deadLetters: DeadLetter[],
    topic: string,
    partition: number,
    heartbeat: () => Promise<void>,
    running: () => boolean,
  ): Promise<boolean> {
    const { sink, metrics, log } = this.options;
    const letters = this.options.deadLetterUndecodable === false ? [] : deadLetters;
    if (letters.length === 0) return true;
    const dlq = letters.map((d) => this.deadLetter(d.message.key, d.message.value, d.message.headers ?? {}, d, topic));
    const sent = await this.withBackoff(sink.name, heartbeat, running, async () => {
      await this.producer!.send({ topic: topicName(this.options.config, 'dlq'), messages: dlq, acks: -1 });
    });
    if (!sent) return false;
    for (const d of letters) metrics.dlq.inc({ sink: sink.name, reason: d.reason });
    log.warn(
      { sink: sink.name, topic, partition, count: dlq.length, example: letters[0]?.error },
      'records sent to the dead-letter topic (sextant_processor_dlq_records_total)',
    );
    return true;
  }

  private deadLetter(
    key: Buffer | string | null,
    value: Buffer | string | null,
    headers: IHeaders,
    d: Pick<DeadLetter, 'reason' | 'error' | 'partition'>,
    topic: string,
  ): Message {
    return {
      key,
      value,
      headers: {
        ...headers,
        [HEADER_ERROR]: d.error,
        [HEADER_ERROR_STAGE]: d.reason === 'undecodable' ? 'decode' : `sink:${this.options.sink.name}`,
        [HEADER_ORIGIN]: `${topic}/${d.partition}`,
      },
    };
  }

  private async sleepWithHeartbeat(ms: number, heartbeat: () => Promise<void>, isRunning: () => boolean): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until && isRunning()) {
      await sleep(Math.min(1_000, until - Date.now()));
      await heartbeat().catch(() => undefined);
    }
  }

  private async retry(what: string, fn: () => Promise<void>): Promise<void> {
    await retry(fn, {
      policy: this.backoff,
      retryable: (error) => error instanceof SinkUnavailableError,
      onError: (error) => this.options.log.warn({ err: error, what }, `${what} failed; retrying`),
    });
  }
}

/** Splits a batch after each of the given offsets (ascending). */
export function cutAfter<M extends { offset: string }>(messages: M[], offsets: bigint[]): M[][] {
  if (offsets.length === 0) return [messages];
  const slices: M[][] = [[]];
  let k = 0;
  for (const m of messages) {
    slices[slices.length - 1]!.push(m);
    const offset = BigInt(m.offset);
    while (k < offsets.length && offsets[k]! <= offset) k++;
    if (k > 0 && offsets[k - 1] === offset) slices.push([]);
  }
  return slices.filter((s) => s.length > 0);
}

function encodeAsOnTheBus(record: SinkRecord): Message {
  switch (record.kind) {
    case 'log':
      return encodeLogEntry(record.entry, {});
    case 'sample':
      return encodeSample(record.sample, {});
    case 'metadata':
      return encodeMetadata(record.metadata, {});
  }
}
