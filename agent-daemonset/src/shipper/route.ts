/**
 * The shipper of one route: batches log entries (by count, bytes and age), gzips them,
 * keeps sealed batches in a bounded memory queue, spills the oldest to a bounded disk
 * spool when memory is full, and sends them one at a time, in order, with retries. When
 * memory and spool are both full, `accepting` turns false and the tailer pauses the
 * route's files: backpressure instead of drops.
 *
 * Ordering invariant that makes restarts exact: per route, batches are acknowledged in
 * order, and the spool always holds the *oldest* unacknowledged batches (a spill takes the
 * oldest in-memory batch first, the one in flight included). So after a crash, for each
 * file: checkpoint (acked) ≤ spooled ranges ≤ what was only in memory — the reader resumes
 * after the last spooled entry, and everything after it is read again from the file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { Logger } from '../../../runtime/src/common/index.js';
import { ThrottledLog } from '../../../runtime/src/common/index.js';
import type { AgentConfig, RouteConfig } from '../config.js';
import type { AgentMetrics } from '../metrics.js';
import { backoffMs, post, type SendOutcome } from './http.js';

const gzip = promisify(zlib.gzip);
const gunzip = promisify(zlib.gunzip);

const MAX_COMPRESSING = 4;

/** Where an entry came from, so its acknowledgement can advance that file's checkpoint. */
export interface AckTarget {
  /** Called in order with growing `end` once the entries up to `end` are delivered (or given up on). */
  ack(generation: number, end: number): void;
  /** Identity written into the spool: device, inode and head (base64). */
  identity(): { dev: string; ino: string; head: string };
}

/** A mark as stored in the spool (identity instead of a live object). */
export interface SpoolMark {
  dev: string;
  ino: string;
  head: string;
  end: number;
}

interface Batch {
  seq: number;
  entries: number;
  rawBytes: number;
  /** gzipped NDJSON; undefined once spilled to disk and not in flight. */
  body: Buffer | undefined;
  bodyBytes: number;
  spoolPath: string | undefined;
  /** Header line of its spool file, built when the spill is planned. */
  header: string | undefined;
  /** Bytes it takes (or will take) in the spool, header included, so the spool limit holds on disk. */
  spoolCost: number;
  /** Live marks (this run): target → [generation, end]. */
  marks: Map<AckTarget, [number, number]>;
  /** Marks restored from the spool (previous run). */
  storedMarks: SpoolMark[];
  acked: boolean;
  spilling: boolean;
}

export interface RouteShipperOptions {
  route: RouteConfig;
  queue: AgentConfig['queue'];
  retry: AgentConfig['retry'];
  spoolDir: string;
  metrics: AgentMetrics;
  log: Logger;
  /** Acknowledgement of a mark restored from the spool of a previous run. */
  ackStored: (mark: SpoolMark) => void;
}

export class RouteShipper {
  readonly name: string;
  private route: RouteConfig;
  private readonly queue: Batch[] = [];
  /**
   * The batch being built, as NDJSON bytes: entries are written into one buffer as they
   * come, so their strings die young instead of piling up in the V8 heap.
   */
  private pendingBuf: Buffer | undefined;
  /**
   * Batch buffers whose compression has finished, kept for the next batches: at most as
   * many as can be in use at once (the pending batch and MAX_COMPRESSING being compressed).
   * Without them every batch allocated a fresh buffer of maxBytes + 64 KiB; those lived
   * through the compression, left V8's young generation and waited for a full GC, so the
   * benchmark's agent held 12-15 MB more at its peak (agent-daemonset/README.md, Benchmark).
   * Keeping only one spare saved little: compressions finish in bursts.
   */
  private spareBufs: Buffer[] = [];
  private pendingCount = 0;
  private pendingBytes = 0;
  private pendingMarks = new Map<AckTarget, [number, number]>();
  private pendingSince = 0;
  private seq = 0;
  private memoryBytes = 0;
  private spoolBytes = 0;
  private sealing: Promise<void> = Promise.resolve();
  private spilling: Promise<void> = Promise.resolve();
  private wakeSender: (() => void) | undefined;
  private closing = false;
  private stopSleep: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private readonly throttled = new ThrottledLog(30_000);
  /** Set when memory is over its budget and the spool can take no more. */
  private full = false;
  private compressing = 0;
  /**
   * The ingestion is failing (the batch at the head has been retried). Only then does a full
   * memory queue spill to the disk spool; while it is merely busy, a full queue pauses the
   * tailer instead (the log file itself holds the data, and open files stay readable after
   * rotation or deletion).
   */
  private degraded = false;
  /** Called when the route accepts entries again after being full. */
  onResume: () => void = () => {};
  /** Removed from the routes: takes no more entries, delivers what it holds (see retire). */
  private retiring = false;
  private whenEmpty: (() => void) | undefined;

  constructor(private readonly o: RouteShipperOptions) {
    this.route = o.route;
    this.name = o.route.name;
  }

  /** Reads the spool of a previous run; returns its marks so the tailer can resume after them. */
  loadSpool(): SpoolMark[] {
    fs.mkdirSync(this.o.spoolDir, { recursive: true });
    const marks: SpoolMark[] = [];
    const names = fs
      .readdirSync(this.o.spoolDir)
      .filter((n) => n.endsWith('.batch'))
      .sort();
    for (const name of names) {
      const file = path.join(this.o.spoolDir, name);
      try {
        const data = fs.readFileSync(file);
        const nl = data.indexOf(0x0a);
        const header = JSON.parse(data.toString('utf8', 0, nl)) as { seq: number; entries: number; rawBytes: number; marks: SpoolMark[] };
        const batch: Batch = {
          seq: header.seq,
          entries: header.entries,
          rawBytes: header.rawBytes,
          body: undefined,
          bodyBytes: data.length,
          spoolPath: file,
          header: undefined,
          spoolCost: data.length,
          marks: new Map(),
          storedMarks: header.marks,
          acked: false,
          spilling: false,
        };
        this.queue.push(batch);
        this.spoolBytes += data.length;
        this.seq = Math.max(this.seq, header.seq);
        marks.push(...header.marks);
      } catch (error) {
        // A batch cut by a crash mid-write never got renamed into place; anything else is damage.
        this.o.log.error({ err: error, route: this.name, file }, 'unreadable spool batch: moved aside');
        fs.renameSync(file, `${file}.damaged`);
      }
    }
    for (const n of fs.readdirSync(this.o.spoolDir)) if (n.endsWith('.tmp')) fs.rmSync(path.join(this.o.spoolDir, n), { force: true });
    if (this.queue.length > 0)
      this.o.log.info({ route: this.name, batches: this.queue.length, bytes: this.spoolBytes }, 'resuming spooled batches');
    this.updateGauges();
    return marks;
  }

  start(): void {
    this.loop = this.sendLoop();
  }

  /** False while the memory queue and the spool are full (or the route is being removed): the tailer must not add more. */
  get accepting(): boolean {
    // Also bounded: batches still being compressed (the reader can outrun zlib).
    return !this.full && !this.retiring && this.compressing < MAX_COMPRESSING;
  }

  /** The route's current settings. */
  get config(): RouteConfig {
    return this.route;
  }

  /**
   * New settings for the same route (endpoint, API key, batch limits, selectors): what the
   * route holds is kept and sent with them from the next request on. A backoff sleep ends
   * now, so a route that was failing against its old endpoint or key retries at once.
   */
  reconfigure(route: RouteConfig): void {
    this.route = route;
    this.stopSleep?.();
  }

  /**
   * The route was removed: take no more entries, seal what is pending and deliver
   * everything held (memory and spool) for up to `timeoutMs`. What is still undelivered
   * then is given up on — counted as dropped with reason `route_removed`, its spool files
   * deleted, and its files' checkpoints moved past it like any other drop. Resolves with
   * the number of entries given up on, after the spool folder is removed.
   */
  async retire(timeoutMs: number): Promise<number> {
    this.retiring = true;
    this.seal();
    await this.sealing.catch(() => {});
    if (!this.loop) this.start(); // removed before the first scan: deliver anyway
    if (this.queue.length > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.whenEmpty = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.whenEmpty = undefined;
    }
    await this.close();
    let abandoned = 0;
    for (const b of this.queue.splice(0)) {
      abandoned += b.entries;
      this.drop(b.entries, 'route_removed', `route ${this.name} was removed and its batch was not delivered within ${timeoutMs} ms`);
      await this.finish(b);
    }
    // Entries handed over after the seal above (a read that was in flight when the route
    // was removed) were never sent: their marks are not acknowledged, so the files are read
    // again from before them by the route they move to. Marks without entries behind them
    // (a finished file) are.
    const marks = this.pendingMarks;
    const late = this.pendingCount;
    this.pendingMarks = new Map();
    this.pendingBuf = undefined;
    this.pendingCount = 0;
    this.pendingBytes = 0;
    if (late > 0)
      this.o.log.info({ route: this.name, entries: late }, 'removed route: entries read after its removal are left to the next route');
    else for (const [target, [generation, end]] of marks) target.ack(generation, end);
    await fs.promises.rm(this.o.spoolDir, { recursive: true, force: true });
    this.o.metrics.spoolBytes.remove({ route: this.name });
    this.o.metrics.queueBytes.remove({ route: this.name });
    this.o.metrics.backpressure.remove({ route: this.name });
    return abandoned;
  }

  add(json: string, target: AckTarget, generation: number, end: number): void {
    const max = this.route.batch.maxBytes;
    let room = this.pendingBuf ? this.pendingBuf.length - this.pendingBytes : 0;
    // json.length * 3 + 1 bounds the UTF-8 size; measure exactly only when that does not fit.
    if (json.length * 3 + 1 > room) {
      const need = Buffer.byteLength(json) + 1;
      if (need > room && this.pendingCount > 0) {
        this.seal();
        room = 0;
      }
      if (need > room) {
        this.pendingBuf = this.batchBuffer(Math.max(max + 64 * 1024, need));
        this.pendingBytes = 0;
      }
    }
    if (this.pendingCount === 0) this.pendingSince = Date.now();
    const buf = this.pendingBuf!;
    this.pendingBytes += buf.write(json, this.pendingBytes);
    buf[this.pendingBytes++] = 0x0a;
    this.pendingCount++;
    this.pendingMarks.set(target, [generation, end]);
    if (this.pendingCount >= this.route.batch.maxEntries || this.pendingBytes >= max) this.seal();
  }

  /**
   * Acknowledges `target` up to `end` once everything handed over before this call is
   * delivered (for offsets that produced no entry, e.g. the end of a finished file).
   */
  mark(target: AckTarget, generation: number, end: number): void {
    if (this.idle && this.compressing === 0) target.ack(generation, end);
    else this.pendingMarks.set(target, [generation, end]);
  }

  /** Seals the pending batch if it is older than maxWait; acknowledges marks with no entries behind them. */
  tick(now: number): void {
    if (this.pendingCount > 0 && now - this.pendingSince >= this.route.batch.maxWaitMs) this.seal();
    // A quiet route keeps no spare megabytes; under load this point is rarely reached.
    if (this.pendingCount === 0 && this.compressing === 0) this.spareBufs.length = 0;
    if (this.pendingCount === 0 && this.pendingMarks.size > 0 && this.queue.length === 0 && this.compressing === 0) {
      const marks = this.pendingMarks;
      this.pendingMarks = new Map();
      for (const [target, [generation, end]] of marks) target.ack(generation, end);
    }
  }

  /** A buffer of at least `size` bytes for a new batch: a spare when one is big enough. */
  private batchBuffer(size: number): Buffer {
    const spare = this.spareBufs.pop();
    return spare && spare.length >= size ? spare : Buffer.allocUnsafe(size);
  }

  /** Seals the pending entries into a batch (gzip runs off the event loop, order is kept). */
  seal(): void {
    if (this.pendingCount === 0) return;
    const buffer = this.pendingBuf!;
    const ndjson = buffer.subarray(0, this.pendingBytes);
    const entries = this.pendingCount;
    const rawBytes = this.pendingBytes;
    const marks = this.pendingMarks;
    this.pendingBuf = undefined;
    this.pendingCount = 0;
    this.pendingBytes = 0;
    this.pendingMarks = new Map();
    const seq = ++this.seq;
    const compressed = gzip(ndjson, { level: this.route.batch.gzipLevel });
    this.memoryBytes += rawBytes; // counted until compressed, so memory stays bounded meanwhile
    this.compressing++;
    this.sealing = this.sealing.then(async () => {
      let body: Buffer;
      try {
        body = await compressed;
      } finally {
        this.memoryBytes -= rawBytes;
        this.compressing--;
        // zlib has finished reading it (compressed or failed): it may take the next batch. Only
        // the usual size is kept, not one grown for an oversized line.
        if (buffer.length === this.route.batch.maxBytes + 64 * 1024 && this.spareBufs.length <= MAX_COMPRESSING)
          this.spareBufs.push(buffer);
      }
      this.queue.push({
        seq,
        entries,
        rawBytes,
        body,
        bodyBytes: body.length,
        spoolPath: undefined,
        header: undefined,
        spoolCost: 0,
        marks,
        storedMarks: [],
        acked: false,
        spilling: false,
      });
      this.memoryBytes += body.length;
      this.rebalance();
      this.wakeSender?.();
      if (this.compressing === MAX_COMPRESSING - 1 && !this.full) this.onResume();
    });
  }

  /** Spills the oldest in-memory batches while memory is over budget (and the ingestion is failing); updates `full`. */
  private rebalance(): void {
    let planned = this.memoryBytes;
    for (const b of this.degraded ? this.queue : []) {
      if (planned <= this.o.queue.memoryBytes) break;
      if (b.spoolPath !== undefined || b.spilling || b.acked || b.body === undefined) continue;
      const header = b.header ?? spoolHeader(b);
      const cost = Buffer.byteLength(header) + 1 + b.bodyBytes;
      if (this.spoolBytes + cost > this.o.queue.spoolBytes) break; // spool full: stop at the oldest that does not fit
      b.header = header;
      b.spoolCost = cost;
      b.spilling = true;
      planned -= b.bodyBytes;
      this.spoolBytes += cost;
      this.spilling = this.spilling.then(() => this.spill(b));
    }
    const wasFull = this.full;
    this.full = planned > this.o.queue.memoryBytes;
    this.o.metrics.backpressure.set({ route: this.name }, this.full ? 1 : 0);
    if (wasFull && !this.full) this.onResume();
    this.updateGauges();
  }

  private async spill(b: Batch): Promise<void> {
    if (b.acked) {
      b.spilling = false;
      this.spoolBytes -= b.spoolCost;
      return;
    }
    const file = path.join(this.o.spoolDir, `${String(b.seq).padStart(16, '0')}.batch`);
    const header = b.header!;
    const tmp = `${file}.tmp`;
    try {
      const handle = await fs.promises.open(tmp, 'w');
      try {
        await handle.writev([Buffer.from(header + '\n'), b.body!]);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.promises.rename(tmp, file);
    } catch (error) {
      this.o.log.error({ err: error, route: this.name }, 'cannot write to the spool: keeping the batch in memory');
      b.spilling = false;
      this.spoolBytes -= b.spoolCost;
      return;
    }
    b.spilling = false;
    if (b.acked) {
      await fs.promises.rm(file, { force: true });
      this.spoolBytes -= b.spoolCost;
    } else {
      b.spoolPath = file;
      b.body = undefined;
      this.memoryBytes -= b.bodyBytes;
    }
    this.rebalance();
  }

  private updateGauges(): void {
    this.o.metrics.spoolBytes.set({ route: this.name }, this.spoolBytes);
    this.o.metrics.queueBytes.set({ route: this.name }, this.memoryBytes + this.pendingBytes);
  }

  private async sendLoop(): Promise<void> {
    for (;;) {
      const b = this.queue[0];
      if (!b) {
        if (this.closing) return;
        await new Promise<void>((resolve) => (this.wakeSender = resolve));
        this.wakeSender = undefined;
        continue;
      }
      const done = await this.deliver(b);
      if (!done) return; // closing
      this.queue.shift();
      await this.finish(b);
      if (this.queue.length === 0) this.whenEmpty?.();
    }
  }

  /** Sends one batch until it is delivered or given up on; false when interrupted by close. */
  private async deliver(b: Batch): Promise<boolean> {
    const body = b.body ?? (await fs.promises.readFile(b.spoolPath!)).subarray(0); // spooled: header + body
    const payload = b.body ? body : body.subarray(body.indexOf(0x0a) + 1);
    const parts = [payload];
    let attempt = 0;
    while (parts.length > 0) {
      if (this.closing) return false; // a request in flight finishes; no new one starts
      const part = parts[0]!;
      const outcome: SendOutcome = await post({
        url: `${this.route.endpoint}/api/v1/logs`,
        apiKey: this.route.apiKey,
        body: part,
        contentType: 'application/x-ndjson',
        gzip: true,
        timeoutMs: this.o.retry.requestTimeoutMs,
      });
      const m = this.o.metrics;
      if (outcome.kind === 'ok') {
        this.degraded = false;
        m.batchBytes.inc({ route: this.name }, part.length);
        const n = parts.length === 1 && part === payload ? b.entries : await countLines(part);
        m.entriesShipped.inc({ route: this.name }, n);
        m.batches.inc({ route: this.name, result: 'ok' });
        parts.shift();
        attempt = 0;
        continue;
      }
      m.failures.inc({ route: this.name, reason: outcome.reason });
      if (outcome.kind === 'too_large') {
        const lines = (await gunzip(part))
          .toString('utf8')
          .split('\n')
          .filter((l) => l.length > 0);
        if (lines.length <= 1) {
          this.drop(lines.length, outcome.reason, outcome.detail);
          parts.shift();
          continue;
        }
        const half = Math.ceil(lines.length / 2);
        const level = this.route.batch.gzipLevel;
        const halves = await Promise.all([
          gzip(lines.slice(0, half).join('\n') + '\n', { level }),
          gzip(lines.slice(half).join('\n') + '\n', { level }),
        ]);
        parts.splice(0, 1, ...halves);
        this.o.log.info({ route: this.name, entries: lines.length }, 'ingestion answered 413: splitting the batch in two');
        continue;
      }
      if (outcome.kind === 'fatal') {
        this.drop(parts.length === 1 && part === payload ? b.entries : await countLines(part), outcome.reason, outcome.detail);
        parts.shift();
        continue;
      }
      // Retryable: back off (full jitter), or as long as Retry-After asks (capped).
      const delay =
        outcome.retryAfterMs !== undefined
          ? Math.min(outcome.retryAfterMs, this.o.retry.maxRetryAfterMs)
          : backoffMs(attempt, this.o.retry.initialBackoffMs, this.o.retry.maxBackoffMs);
      this.throttled.record(`${outcome.reason}`, 1, (count) =>
        this.o.log.warn(
          { route: this.name, reason: outcome.reason, detail: outcome.detail, retryInMs: delay, failures: count },
          'ingestion request failed; retrying',
        ),
      );
      attempt++;
      m.retries.inc({ route: this.name });
      if (!this.degraded) {
        this.degraded = true;
        this.rebalance();
      }
      if (this.closing) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.stopSleep = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.stopSleep = undefined;
    }
    return true;
  }

  private drop(entries: number, reason: string, detail: string): void {
    this.o.metrics.entriesDropped.inc({ route: this.name, reason }, entries);
    this.o.metrics.batches.inc({ route: this.name, result: 'dropped' });
    this.throttled.record(`drop:${reason}`, entries, (count) =>
      this.o.log.error({ route: this.name, reason, detail, entries: count }, 'ingestion rejected a batch; not retrying (entries dropped)'),
    );
  }

  private async finish(b: Batch): Promise<void> {
    b.acked = true;
    for (const [target, [generation, end]] of b.marks) target.ack(generation, end);
    for (const mark of b.storedMarks) this.o.ackStored(mark);
    if (b.body !== undefined && b.spoolPath === undefined && !b.spilling) this.memoryBytes -= b.bodyBytes;
    if (b.spoolPath !== undefined) {
      if (b.body !== undefined) this.memoryBytes -= b.bodyBytes;
      this.spoolBytes -= b.spoolCost;
      await fs.promises.rm(b.spoolPath, { force: true });
    } else if (b.spilling && b.body !== undefined) {
      // spill() sees `acked` and removes the file; the memory is released here.
      this.memoryBytes -= b.bodyBytes;
      b.body = undefined;
    }
    this.rebalance();
  }

  /** Everything handed to the shipper is in a batch, delivered, or spooled; for tests and benchmarks. */
  get idle(): boolean {
    return this.pendingCount === 0 && this.queue.length === 0;
  }

  /**
   * Stops sending: a request in flight is allowed to finish (so its acknowledgement lands in
   * the checkpoint), backoff sleeps end, nothing new starts. Pending entries are not
   * flushed: the checkpoint does not cover them, so the next run reads them again.
   */
  async close(): Promise<void> {
    this.closing = true;
    this.whenEmpty?.(); // a retirement stops waiting
    this.stopSleep?.();
    this.wakeSender?.();
    await this.sealing.catch(() => {});
    await this.loop;
    await this.spilling.catch(() => {});
  }
}

/** The first line of a spool file: what a restart needs to resume after the batch. */
function spoolHeader(b: Batch): string {
  return JSON.stringify({
    seq: b.seq,
    entries: b.entries,
    rawBytes: b.rawBytes,
    marks: [...b.marks].map(([t, [, end]]) => ({ ...t.identity(), end })),
  });
}

async function countLines(gz: Buffer): Promise<number> {
  const text = (await gunzip(gz)).toString('utf8');
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return n;
}
