/**
 * The in-memory side of the S3 sink: one buffer per (topic, partition) holding the encoded
 * records of consecutive Kafka batches (segments), and the flush policy. Pure — no I/O, no
 * clock of its own — so the policy is unit-tested exactly.
 *
 * A buffer covers a contiguous run of consumed offsets [first, last]; records dropped by a
 * stage or sent to the DLQ still count toward the range (their offsets are consumed), so
 * the range always starts at the partition's committed offset.
 */
import type { Signal } from '../../model/types.js';
import { hourStartOfNs } from './layout.js';
import type { EncodedRecord } from './records.js';

export interface Segment {
  firstOffset: bigint;
  lastOffset: bigint;
  records: EncodedRecord[];
}

export interface FlushLimits {
  maxBytes: number;
  maxAgeMs: number;
  maxRecords: number;
}

/**
 * recovery: ends where a predecessor's uncommitted flush ended (journal); retry: the same
 * range again after a failed attempt.
 */
export type FlushReason = 'bytes' | 'records' | 'age' | 'recovery' | 'retry' | 'shutdown';

export class PartitionBuffer {
  readonly segments: Segment[] = [];
  records = 0;
  bytes = 0;
  /** When the oldest buffered segment arrived (ms); undefined while empty. */
  openedAtMs: number | undefined;
  /**
   * Ends the next flushes must have, ascending: the ranges a predecessor wrote but did not
   * commit (from the flush journal), or the range of our own failed attempt — so a rewrite
   * produces the same keys (sink.ts). The runner cuts batches at these offsets.
   */
  pins: bigint[] = [];
  pinReason: 'recovery' | 'retry' = 'recovery';
  /** Last offset taken in (buffered or flushed) while this process owns the partition. */
  lastSeen: bigint | undefined;

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly signal: Signal,
  ) {}

  get firstOffset(): bigint | undefined {
    return this.segments[0]?.firstOffset;
  }

  get lastOffset(): bigint | undefined {
    return this.segments[this.segments.length - 1]?.lastOffset;
  }

  append(segment: Segment, nowMs: number): void {
    if (this.lastSeen !== undefined && segment.firstOffset <= this.lastSeen) {
      throw new Error(`segment ${segment.firstOffset}-${segment.lastOffset} does not follow offset ${this.lastSeen}`);
    }
    const straddled = this.pins.find((p) => segment.firstOffset <= p && segment.lastOffset > p);
    if (straddled !== undefined) {
      throw new Error(`segment ${segment.firstOffset}-${segment.lastOffset} straddles the pinned flush end ${straddled}`);
    }
    if (this.segments.length === 0) this.openedAtMs = nowMs;
    this.segments.push(segment);
    this.records += segment.records.length;
    for (const r of segment.records) this.bytes += Buffer.byteLength(r.line) + 1;
    this.lastSeen = segment.lastOffset;
  }

  /** Why the buffer should be written now, or undefined. A pin overrides the limits: only reaching it counts. */
  due(limits: FlushLimits, nowMs: number, shutdown = false): FlushReason | undefined {
    if (this.segments.length === 0) return undefined;
    const pin = this.pins[0];
    if (pin !== undefined) return this.lastOffset! >= pin ? this.pinReason : undefined;
    if (this.records >= limits.maxRecords) return 'records';
    if (this.bytes >= limits.maxBytes) return 'bytes';
    if (nowMs - this.openedAtMs! >= limits.maxAgeMs) return 'age';
    return shutdown ? 'shutdown' : undefined;
  }

  /** The segments the next flush writes: all, or up to the first pin. */
  flushable(): Segment[] {
    const pin = this.pins[0];
    if (pin === undefined) return [...this.segments];
    return this.segments.filter((s) => s.lastOffset <= pin);
  }

  /** Drops the segments a successful flush wrote. */
  release(flushed: readonly Segment[], nowMs: number): void {
    const done = new Set(flushed);
    const kept = this.segments.filter((s) => !done.has(s));
    this.segments.length = 0;
    this.segments.push(...kept);
    this.records = 0;
    this.bytes = 0;
    for (const s of kept) {
      this.records += s.records.length;
      for (const r of s.records) this.bytes += Buffer.byteLength(r.line) + 1;
    }
    this.openedAtMs = kept.length > 0 ? nowMs : undefined;
    const last = flushed[flushed.length - 1]?.lastOffset;
    if (last !== undefined && this.pins[0] !== undefined && last >= this.pins[0]) {
      this.pins.shift();
      this.pinReason = 'recovery';
    }
  }
}

/** A flush's records grouped by the UTC hour of their own timestamps, each group in offset order. */
export function groupByHour(segments: readonly Segment[]): Map<number, EncodedRecord[]> {
  const groups = new Map<number, EncodedRecord[]>();
  for (const s of segments) {
    for (const r of s.records) {
      const hour = hourStartOfNs(r.timestampNs);
      let group = groups.get(hour);
      if (!group) groups.set(hour, (group = []));
      group.push(r);
    }
  }
  return new Map([...groups.entries()].sort(([a], [b]) => a - b));
}
