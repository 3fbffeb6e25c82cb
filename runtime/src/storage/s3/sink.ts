/**
 * The S3 cold sink: buffers each Kafka partition's records, and when a buffer is due (bytes,
 * records, age) writes one gzip NDJSON object per UTC hour of the records' own timestamps,
 * each with its index sidecar (layout.ts, records.ts, object-index.ts). The runner commits
 * the partition's offset only after every object of the flush is written.
 *
 * Why a rewrite never duplicates (the commit protocol):
 *
 * An object's name is its partition and the flush's offset range [first, last]. `first` is
 * always the partition's committed offset — a flush starts where the previous one, whose
 * end was committed, stopped, and a new owner starts from the committed offset — so it is
 * the same in every run. `last` is not: it depends on when the size/age limits fired and on
 * how Kafka cut the batches. A process that wrote [C, X] and crashed before committing
 * would leave objects that a successor flushing [C, Y] (Y ≠ X) duplicates.
 *
 * So each flush first records its range in the partition's journal
 * (`_journal/p<partition>.json`, the last 32 flushes) and only then writes objects. When a
 * process starts a new run of a partition (start, rebalance, rewind) it reads the journal;
 * if an entry starts at its first offset C, the predecessor's flush [C, X] may be partly
 * written and uncommitted, and the next flush is *pinned* to end exactly at X — and if an
 * entry starts at X+1, the one after it to that entry's end, and so on (one flush() may
 * write several ranges of a partition before their common commit). The runner cuts batches
 * at the pins, and each flush writes the same records under the same keys with
 * byte-identical bodies — an overwrite. A failed flush attempt pins its own range the same
 * way, so a retry never grows the range while new batches arrive.
 *
 * Not covered: a zombie (a member that lost the partition without noticing) flushing while
 * the new owner reads the journal; and stage config changes between the crash and the
 * rewrite (the same range may then hold other records, still under the same keys). Both
 * show as overlapping offset ranges in the names (layout.rangesOverlap), so a reader can
 * detect them and dedupe by record id; sextant_s3_overlapping_ranges_total counts the ones
 * the journal reveals.
 */
import type { Logger } from '../../common/log.js';
import type { Signal } from '../../model/types.js';
import type { S3SinkSettings } from './config.js';
import {
  SinkUnavailableError,
  type BufferingSink,
  type DurableOffset,
  type FlushOutcome,
  type SegmentSource,
  type SinkRecord,
} from '../sink.js';
import { groupByHour, PartitionBuffer, type FlushLimits, type FlushReason, type Segment } from './buffer.js';
import { indexKey, journalKey, objectKey, type PipelineLocation } from './layout.js';
import type { S3SinkMetrics } from './metrics.js';
import { IndexBuilder } from './object-index.js';
import { encodeLogRecord, encodeObjectBody, encodeSampleRecord } from './records.js';
import { S3UnavailableError, type ObjectStore } from './store.js';

const JOURNAL_ENTRIES = 32;

export interface JournalEntry {
  first: string;
  last: string;
  objects: string[];
  at: string;
}

export interface S3SinkOptions {
  store: ObjectStore;
  settings: Pick<S3SinkSettings, 'prefix' | 'flush'>;
  pipeline: { namespace: string; name: string };
  metrics: S3SinkMetrics;
  log: Logger;
  now?: () => number;
}

export class S3Sink implements BufferingSink {
  readonly name = 's3';
  readonly buffering = true;
  readonly tickMs: number;
  private buffers = new Map<string, PartitionBuffer>();
  private journals = new Map<string, JournalEntry[]>();
  private readonly failed = new Set<string>();
  private generation = 0;
  private readonly limits: FlushLimits;
  private readonly now: () => number;

  constructor(private readonly options: S3SinkOptions) {
    const f = options.settings.flush;
    this.limits = { maxBytes: f.maxBytes, maxRecords: f.maxRecords, maxAgeMs: f.maxAge };
    this.tickMs = Math.max(100, Math.min(1_000, Math.floor(f.maxAge / 4)));
    this.now = options.now ?? Date.now;
  }

  async start(): Promise<void> {
    const { store, metrics, log } = this.options;
    try {
      await store.check();
    } catch (error) {
      if (error instanceof S3UnavailableError) metrics.errors.inc({ operation: error.operation });
      throw new SinkUnavailableError(`bucket ${store.bucket} not reachable: ${(error as Error).message}`);
    }
    log.info({ bucket: store.bucket, prefix: this.options.settings.prefix, flush: this.limits }, 'S3 sink: bucket reachable');
  }

  async begin(source: Omit<SegmentSource, 'lastOffset'>): Promise<bigint[]> {
    const id = bufferId(source.topic, source.partition);
    const current = this.buffers.get(id);
    if (current?.lastSeen !== undefined) {
      if (source.firstOffset > current.lastSeen) return [...current.pins];
      // Kafka went back (a new generation without our reset, or a seek): what we hold
      // will be delivered again.
      this.release(current, 'rewind');
    }
    const entries = await this.readJournal(source.signal, source.partition);
    this.journals.set(id, entries);
    const buffer = new PartitionBuffer(source.topic, source.partition, source.signal);
    const first = source.firstOffset;
    const overlapping = entries.find((e) => BigInt(e.first) < first && first <= BigInt(e.last));
    // The chain of journal ranges from the committed offset on: [C, X], [X+1, Y], …
    for (let next = first; ;) {
      const entry = entries.find((e) => BigInt(e.first) === next);
      if (!entry || BigInt(entry.last) < next) break;
      buffer.pins.push(BigInt(entry.last));
      next = BigInt(entry.last) + 1n;
    }
    if (buffer.pins.length > 0) {
      this.options.log.info(
        { topic: source.topic, partition: source.partition, from: first.toString(), ends: buffer.pins.map(String) },
        'S3 sink: resuming after uncommitted flushes; the next flushes rewrite the same ranges and keys',
      );
    } else if (overlapping) {
      buffer.pins.push(BigInt(overlapping.last));
      this.options.metrics.overlaps.inc();
      this.options.log.warn(
        { topic: source.topic, partition: source.partition, committed: first.toString(), journal: overlapping },
        'S3 sink: the committed offset lies inside an earlier flush range; objects with overlapping ranges will exist (dedupe by record id)',
      );
    }
    this.buffers.set(id, buffer);
    return [...buffer.pins];
  }

  append(source: SegmentSource, records: SinkRecord[]): void {
    const buffer = this.buffers.get(bufferId(source.topic, source.partition));
    if (!buffer) throw new Error(`S3 sink: append to ${source.topic}/${source.partition} without begin()`);
    // Metric metadata stays in the hot tier only: the cold tier keeps what queries of old data read.
    const encoded = records.flatMap((r) =>
      r.kind === 'log' ? [encodeLogRecord(r.entry)] : r.kind === 'sample' ? [encodeSampleRecord(r.sample)] : [],
    );
    buffer.append({ firstOffset: source.firstOffset, lastOffset: source.lastOffset, records: encoded }, this.now());
    this.updateGauges();
  }

  async flush(options: { shutdown: boolean; heartbeat?: () => Promise<void> }): Promise<FlushOutcome> {
    const generation = this.generation;
    const durable: DurableOffset[] = [];
    try {
      for (const buffer of [...this.buffers.values()]) {
        for (;;) {
          const reason = buffer.due(this.limits, this.now(), options.shutdown);
          const segments = reason ? buffer.flushable() : [];
          if (!reason || segments.length === 0) break;
          const records = await this.write(buffer, segments, reason, options.heartbeat);
          // After a reset (rebalance) the range is durable but may belong to another member now.
          if (generation !== this.generation) return { durable: [] };
          buffer.release(segments, this.now());
          durable.push({
            topic: buffer.topic,
            partition: buffer.partition,
            offset: (segments[segments.length - 1]!.lastOffset + 1n).toString(),
            signal: buffer.signal,
            records,
          });
        }
      }
      return { durable };
    } catch (error) {
      if (!(error instanceof SinkUnavailableError)) throw error;
      return { durable: generation === this.generation ? durable : [], error };
    } finally {
      this.updateGauges();
    }
  }

  reset(reason: string): void {
    for (const buffer of this.buffers.values()) this.release(buffer, reason);
    this.buffers = new Map();
    this.journals = new Map();
    this.failed.clear();
    this.generation++;
    this.updateGauges();
  }

  async close(): Promise<void> {
    this.reset('shutdown');
  }

  private location(signal: Signal): PipelineLocation {
    const { settings, pipeline } = this.options;
    return { prefix: settings.prefix, signal, namespace: pipeline.namespace, pipeline: pipeline.name };
  }

  /** Writes one flush: journal entry, then per hour the object and its index. Returns the records written. */
  private async write(buffer: PartitionBuffer, segments: Segment[], reason: FlushReason, heartbeat?: () => Promise<void>): Promise<number> {
    const { store, metrics, log } = this.options;
    const first = segments[0]!.firstOffset;
    const last = segments[segments.length - 1]!.lastOffset;
    const groups = groupByHour(segments);
    // Only consumed offsets, no records (all dropped or dead-lettered): nothing to write.
    if (groups.size === 0) return 0;
    const rangeId = `${buffer.topic}/${buffer.partition}/${first}`;
    if (this.failed.has(rangeId)) metrics.retries.inc({ signal: buffer.signal });
    const loc = this.location(buffer.signal);
    const keys = [...groups.keys()].map((hourStartMs) =>
      objectKey({ ...loc, hourStartMs, partition: buffer.partition, firstOffset: first, lastOffset: last }),
    );
    const timer = metrics.flushDuration.startTimer({ signal: buffer.signal });
    // From here on this range is fixed: a retry must write exactly it again.
    if (buffer.pins.length === 0) {
      buffer.pins.push(last);
      buffer.pinReason = 'retry';
    }
    try {
      await this.writeJournal(buffer, first, last, keys);
      let k = 0;
      for (const records of groups.values()) {
        const key = keys[k++]!;
        const body = await encodeObjectBody(records.map((r) => r.line));
        const put = await store.put(key, body, 'application/gzip');
        const index = new IndexBuilder();
        for (const r of records) index.add(r);
        const doc = index.build({
          signal: buffer.signal,
          key,
          topic: buffer.topic,
          partition: buffer.partition,
          firstOffset: first,
          lastOffset: last,
          bytes: body.length,
        });
        await store.put(indexKey(key), Buffer.from(JSON.stringify(doc)), 'application/json');
        metrics.objects.inc({ signal: buffer.signal });
        metrics.bytes.inc({ signal: buffer.signal }, body.length);
        metrics.records.inc({ signal: buffer.signal }, records.length);
        if (put.parts > 0) metrics.multipart.inc({ signal: buffer.signal });
        await heartbeat?.();
      }
    } catch (error) {
      this.failed.add(rangeId);
      if (error instanceof S3UnavailableError) {
        metrics.errors.inc({ operation: error.operation });
        throw new SinkUnavailableError(error.message);
      }
      throw error;
    }
    this.failed.delete(rangeId);
    const seconds = timer();
    metrics.flushes.inc({ signal: buffer.signal, reason });
    const count = [...groups.values()].reduce((n, g) => n + g.length, 0);
    log.debug(
      {
        topic: buffer.topic,
        partition: buffer.partition,
        first: first.toString(),
        last: last.toString(),
        objects: keys.length,
        records: count,
        reason,
        seconds,
      },
      'S3 sink: flushed',
    );
    return count;
  }

  private async readJournal(signal: Signal, partition: number): Promise<JournalEntry[]> {
    const key = journalKey(this.location(signal), partition);
    let body: Buffer | undefined;
    try {
      body = await this.options.store.get(key);
    } catch (error) {
      if (error instanceof S3UnavailableError) this.options.metrics.errors.inc({ operation: error.operation });
      throw new SinkUnavailableError(`cannot read the flush journal: ${(error as Error).message}`);
    }
    if (body === undefined) return [];
    try {
      const doc = JSON.parse(body.toString('utf8')) as { entries?: unknown };
      if (!Array.isArray(doc.entries)) throw new Error('entries: expected an array');
      return doc.entries.filter(
        (e): e is JournalEntry => typeof e === 'object' && e !== null && /^\d+$/.test(String(e.first)) && /^\d+$/.test(String(e.last)),
      );
    } catch (error) {
      // Without the journal a rewrite may overlap an uncommitted flush: loud, but not fatal.
      this.options.metrics.overlaps.inc();
      this.options.log.error({ key, err: error }, 'S3 sink: unreadable flush journal; starting without it (overlapping ranges possible)');
      return [];
    }
  }

  private async writeJournal(buffer: PartitionBuffer, first: bigint, last: bigint, objects: string[]): Promise<void> {
    const id = bufferId(buffer.topic, buffer.partition);
    const entries = (this.journals.get(id) ?? []).filter((e) => e.first !== first.toString());
    entries.push({ first: first.toString(), last: last.toString(), objects, at: new Date(this.now()).toISOString() });
    const kept = entries.slice(-JOURNAL_ENTRIES);
    const key = journalKey(this.location(buffer.signal), buffer.partition);
    await this.options.store.put(
      key,
      Buffer.from(JSON.stringify({ version: 1, topic: buffer.topic, partition: buffer.partition, entries: kept })),
      'application/json',
    );
    this.journals.set(id, kept);
  }

  private release(buffer: PartitionBuffer, reason: string): void {
    if (buffer.records === 0) return;
    this.options.metrics.replayed.inc({ reason }, buffer.records);
    this.options.log.info(
      { topic: buffer.topic, partition: buffer.partition, records: buffer.records, reason },
      'S3 sink: released uncommitted buffered records; Kafka delivers them again from the committed offset',
    );
  }

  private updateGauges(): void {
    const records: Record<Signal, number> = { logs: 0, metrics: 0 };
    const bytes: Record<Signal, number> = { logs: 0, metrics: 0 };
    for (const b of this.buffers.values()) {
      records[b.signal] += b.records;
      bytes[b.signal] += b.bytes;
    }
    for (const signal of ['logs', 'metrics'] as const) {
      this.options.metrics.buffered.set({ signal }, records[signal]);
      this.options.metrics.bufferedBytes.set({ signal }, bytes[signal]);
    }
  }
}

function bufferId(topic: string, partition: number): string {
  return `${topic}/${partition}`;
}
