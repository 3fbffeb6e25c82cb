/**
 * The write path of a writing sink (OpenSearch), decoupled from Kafka's fetch loop.
 *
 * kafkajs fetches again only after every batch of the previous fetch was handled, so a
 * runner that waits for the sink inside eachBatch leaves the sink idle while it fetches and
 * decodes, and itself idle while the sink indexes; and each partition's batch (one 1 MiB
 * fetch, ~2,300 log records) became one small bulk request. Here eachBatch only prepares
 * its records and enqueues them; the pipeline merges the queue — whatever partitions the
 * records came from — into sink writes of up to `maxRecords`, keeps up to `inFlight` of
 * them running, and commits a partition's offset only once every record up to it was
 * acknowledged (or rejected into the DLQ). What is queued or in flight is never committed:
 * a crash, a rebalance or a shutdown that cannot drain replays it, and deterministic ids
 * make the replay overwrite what already landed (docs/architecture.md §3–§4).
 *
 * Backpressure: the queue holds at most `maxPending` records (plus the batch that crossed
 * the bound); eachBatch waits for room (with heartbeats), so a sink outage — writes retried
 * with exponential backoff, never dropped — stops the consumer from fetching.
 */
import { retryWhile, type BackoffPolicy } from '../../common/backoff.js';
import type { Logger } from '../../common/log.js';
import type { Signal } from '../../model/types.js';
import type { Sink, SinkRecord } from '../../storage/sink.js';

/** The records of one Kafka batch: committed (lastOffset + 1) once all of them are acknowledged. */
export interface Segment {
  topic: string;
  partition: number;
  signal: Signal;
  lastOffset: string;
}

/** A record the sink refused for good, with the batch it came from (for the DLQ headers). */
export interface RejectedItem {
  record: SinkRecord;
  reason: string;
  segment: Segment;
}

export interface OffsetToCommit {
  topic: string;
  partition: number;
  /** The next offset to read (what Kafka commits). */
  offset: string;
}

export interface WritePipelineOptions {
  sink: Sink;
  /** Records per sink write (the sink still cuts its requests by count and bytes). */
  maxRecords: number;
  /** Records queued or in flight above which enqueue has to wait. */
  maxPending: number;
  /** Sink writes running at once. */
  inFlight: number;
  backoffMs: BackoffPolicy;
  /** Sends refused records to the DLQ; a throw is retried with backoff (the offsets wait). */
  deadLetter(items: RejectedItem[]): Promise<void>;
  commit(offsets: OffsetToCommit[]): Promise<void>;
  /** Records acknowledged by the sink (rejected ones excluded). */
  onWritten(signal: Signal, count: number): void;
  onCommitted(): void;
  onFailure(error: unknown): void;
  onSuccess(): void;
  log: Logger;
}

interface Tracked extends Segment {
  /** Records of the segment not yet acknowledged or dead-lettered. */
  remaining: number;
}

interface Item {
  record: SinkRecord;
  segment: Tracked;
}

export class WritePipeline {
  private queue: Item[] = [];
  private pending = 0;
  private active = 0;
  private pumpScheduled = false;
  private stopped = false;
  /** Per topic/partition, the segments not yet committable, in offset order. */
  private readonly segments = new Map<string, Tracked[]>();
  /** Per topic/partition, the offset to commit next (all records before it acknowledged). */
  private readonly toCommit = new Map<string, OffsetToCommit>();
  private committing: Promise<void> | undefined;
  private waiters: (() => void)[] = [];
  /** Backoff sleeps: ended early only by stop(). */
  private readonly sleepers = new Set<() => void>();

  constructor(private readonly options: WritePipelineOptions) {}

  /** Whether the queue is at its bound: enqueue after waitForRoom. */
  full(): boolean {
    return this.pending >= this.options.maxPending;
  }

  /** Nothing queued, written, dead-lettered or left to commit. */
  idle(): boolean {
    return this.pending === 0 && this.active === 0 && this.segments.size === 0 && this.toCommit.size === 0 && !this.committing;
  }

  /**
   * Takes one batch's records. A batch whose records were all dropped or dead-lettered
   * still enters as an empty segment, so its offset is committed in order.
   */
  enqueue(segment: Segment, records: SinkRecord[]): void {
    const key = keyOf(segment);
    const tracked: Tracked = { ...segment, remaining: records.length };
    const list = this.segments.get(key);
    if (list) list.push(tracked);
    else this.segments.set(key, [tracked]);
    for (const record of records) this.queue.push({ record, segment: tracked });
    this.pending += records.length;
    if (records.length === 0) this.settle([key]);
    // Merge whatever the other partitions' batches of this fetch enqueue in the same turn.
    if (!this.pumpScheduled) {
      this.pumpScheduled = true;
      setImmediate(() => {
        this.pumpScheduled = false;
        this.pump();
      });
    }
  }

  /**
   * Waits until the queue has room, calling heartbeat about every second; false when
   * `running` turns false first (the batch is then not taken: Kafka delivers it again).
   */
  async waitForRoom(heartbeat: () => Promise<void>, running: () => boolean): Promise<boolean> {
    let beat = Date.now();
    while (this.full()) {
      if (!running() || this.stopped) return false;
      await this.changed(1_000);
      if (Date.now() - beat >= 1_000) {
        beat = Date.now();
        await heartbeat().catch(() => undefined);
      }
    }
    return running() && !this.stopped;
  }

  /**
   * Shutdown: waits (up to timeoutMs) until everything taken is written and committed, then
   * stops; what is left stays uncommitted for the next owner. True when fully drained.
   */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.idle() && Date.now() < deadline) {
      if (!this.committing && this.toCommit.size > 0 && this.active === 0 && this.pending === 0) this.flushCommits();
      await this.changed(Math.min(200, Math.max(1, deadline - Date.now())));
    }
    const drained = this.idle();
    this.stop();
    return drained;
  }

  /** Stops writing: retries end, nothing more is committed. */
  stop(): void {
    this.stopped = true;
    for (const s of this.sleepers) s();
    this.wake();
  }

  private pump(): void {
    const { maxRecords, inFlight } = this.options;
    while (!this.stopped && this.active < inFlight && this.queue.length > 0) {
      const items = this.queue.splice(0, maxRecords);
      this.active++;
      void this.write(items).finally(() => {
        this.active--;
        this.pending -= items.length;
        this.wake();
        this.pump();
      });
    }
  }

  /** One sink write: retried with backoff until acknowledged (or stopped); then DLQ, then offsets. */
  private async write(items: Item[]): Promise<void> {
    const { sink } = this.options;
    const records = items.map((i) => i.record);
    let rejected: { index: number; reason: string }[] | undefined;
    await this.retrying(async () => {
      rejected = await sink.write(records);
    });
    if (rejected === undefined) return; // stopped: nothing acknowledged is counted or committed
    const refused = rejected.map((r) => ({ record: records[r.index]!, reason: r.reason, segment: items[r.index]!.segment }));
    if (refused.length > 0) {
      let sent = false;
      await this.retrying(async () => {
        await this.options.deadLetter(refused);
        sent = true;
      });
      if (!sent) return;
    }
    const written = new Map<Signal, number>();
    const touched = new Set<string>();
    const refusedAt = new Set(rejected.map((r) => r.index));
    items.forEach((item, index) => {
      item.segment.remaining--;
      touched.add(keyOf(item.segment));
      if (!refusedAt.has(index)) written.set(item.segment.signal, (written.get(item.segment.signal) ?? 0) + 1);
    });
    for (const [signal, count] of written) this.options.onWritten(signal, count);
    this.settle([...touched]);
  }

  /** Runs fn until it succeeds, backing off; returns without success once stopped. */
  private async retrying(fn: () => Promise<void>): Promise<void> {
    const done = await retryWhile(() => !this.stopped, fn, {
      policy: this.options.backoffMs,
      onError: (error) => this.options.onFailure(error),
      wait: (ms) => this.sleep(ms),
    });
    if (done) this.options.onSuccess();
  }

  /** Moves each partition's commit point past its leading fully-acknowledged segments. */
  private settle(keys: string[]): void {
    for (const key of keys) {
      const list = this.segments.get(key);
      if (!list) continue;
      let done: Tracked | undefined;
      while (list.length > 0 && list[0]!.remaining === 0) done = list.shift();
      if (list.length === 0) this.segments.delete(key);
      if (done) this.toCommit.set(key, { topic: done.topic, partition: done.partition, offset: (BigInt(done.lastOffset) + 1n).toString() });
    }
    this.flushCommits();
  }

  /** One commit at a time, so a partition's commits reach Kafka in offset order. */
  private flushCommits(): void {
    if (this.committing || this.toCommit.size === 0 || this.stopped) return;
    const batch = [...this.toCommit.entries()];
    this.committing = this.options
      .commit(batch.map(([, o]) => o))
      .then(
        () => {
          // A later offset may have replaced an entry meanwhile: it is committed next round.
          for (const [key, o] of batch) if (this.toCommit.get(key) === o) this.toCommit.delete(key);
          this.options.onCommitted();
        },
        (error: unknown) => {
          // Kept: the next acknowledgement (or the drain) commits them; until then a restart replays them.
          this.options.log.warn({ err: error, offsets: batch.length }, 'offset commit failed; retried with the next one');
        },
      )
      .finally(() => {
        this.committing = undefined;
        this.wake();
      });
  }

  /** Resolves on the next state change or after ms. */
  private changed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.waiters.push(done);
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

function keyOf(s: Pick<Segment, 'topic' | 'partition'>): string {
  return `${s.topic}\u0000${s.partition}`;
}
