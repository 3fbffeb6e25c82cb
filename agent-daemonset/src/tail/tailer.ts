/**
 * Finds container log files under the pods root, reads them with positioned reads
 * (fs.read at a tracked offset, polled), follows rotation and tracks checkpoints.
 *
 * - Identity of a file is (device, inode) plus its first bytes ("head"), so a reused
 *   inode or a truncated-and-refilled file is not mistaken for the old content.
 * - Rename rotation: the path now names another inode (or nothing); the old file stays
 *   open and is read to its end until it has not grown for `rotateWait`, then released.
 * - Copytruncate: the size fell below our offset (or the head changed). The copy is found
 *   beside it by its head and read from our offset on, so nothing is lost; the truncated
 *   file is read again from 0.
 * - Deleted (no links left): read to the end, then released.
 * - Checkpoints advance only from acknowledgements (AckTarget.ack), never from reads.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../../runtime/src/common/index.js';
import { CheckpointStore, HEAD_BYTES, headsAgree, identityKey, type Checkpoint } from '../checkpoints.js';
import { sanitiseLabelName, type AgentConfig, type MultilineRule } from '../config.js';
import type { AgentMetrics } from '../metrics.js';
import type { PodRef } from '../selector.js';
import type { AckTarget, RouteShipper, SpoolMark } from '../shipper/route.js';
import { FileDecoder, type DecodedEntry } from './decoder.js';
import { parsePodLogPath, type PodLogPath } from './paths.js';

/** Pod labels from the Kubernetes watch (or nothing, without one). */
export interface PodMetadata {
  /** False without a Kubernetes connection: files are routed by namespace/pod/container only. */
  readonly enabled: boolean;
  labels(uid: string): Record<string, string> | undefined;
}

export interface TailerOptions {
  root: string;
  stateDir: string;
  nodeName: string;
  config: AgentConfig;
  shippers: RouteShipper[];
  pods: PodMetadata;
  metrics: AgentMetrics;
  log: Logger;
}

type FileState = 'active' | 'rotated' | 'released';

class TailedFile implements AckTarget {
  generation = 0;
  ackedOffset: number;
  state: FileState = 'active';
  rotatedAt = 0;
  lastGrowthAt = Date.now();
  lastCheckAt = 0;
  lastSize = 0;
  decoder!: FileDecoder;
  /** Stream labels as JSON, per stream (stdout, stderr). */
  labelsJson: { stdout: string; stderr: string } = { stdout: '{}', stderr: '{}' };
  podLabels: Record<string, string> = {};
  /** Its route is being removed: not read (nor checked) until the route has delivered what it holds. */
  parked = false;
  /**
   * Where the lines it read without a route begin (a line boundary), while it has none: a
   * route that comes later ships them from there, so a pod that logs before the operator's
   * routes reach the agent (a ConfigMap volume lags by up to a minute) loses nothing.
   */
  unroutedFrom: number | undefined;

  constructor(
    public handle: fs.promises.FileHandle | undefined,
    public path: string,
    public dev: string,
    public ino: string,
    public head: Buffer,
    public readOffset: number,
    acked: number,
    readonly meta: PodLogPath,
    public route: RouteShipper | undefined,
    private readonly onAck: (f: TailedFile) => void,
  ) {
    this.ackedOffset = acked;
  }

  get key(): string {
    return identityKey(this.dev, this.ino);
  }

  /** Reads again from `offset`, an earlier line boundary, and checkpoints it, so a restart reads from there too. */
  rewind(offset: number): void {
    this.readOffset = offset;
    this.ackedOffset = offset;
    this.onAck(this);
  }

  ack(generation: number, end: number): void {
    if (generation !== this.generation || end <= this.ackedOffset) return;
    this.ackedOffset = end;
    this.onAck(this);
  }

  identity(): { dev: string; ino: string; head: string } {
    return { dev: this.dev, ino: this.ino, head: this.head.toString('base64') };
  }
}

export class Tailer {
  private readonly files = new Map<string, TailedFile>();
  /** Checkpoints of the previous run, used when a file is first opened. */
  private restored = new Map<string, Checkpoint>();
  /** Per identity, the end of the last entry in the spool of the previous run. */
  private spoolEnds = new Map<string, SpoolMark>();
  /** Files seen while their pod's labels are not yet known: path → first seen (ms). */
  private readonly waiting = new Map<string, number>();
  private readonly checkpoints: CheckpointStore;
  private readonly chunk: Buffer;
  /** The routes' shippers in route order (the first match gets a new file); replaced on a routes reload. */
  private shippers: RouteShipper[];
  private stopped = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private lastScan = 0;
  private scanRequested = false;
  private readonly startedAt = Date.now();
  /** Identities of files finished in this run (rotated away or copied), so a later scan does not read them again. */
  private readonly finished = new Set<string>();
  /** First scan done; readiness. */
  scanned = false;
  private scannedOnce!: () => void;
  /** Resolves after the first discovery scan (the shippers start then, see Agent). */
  readonly firstScan = new Promise<void>((resolve) => (this.scannedOnce = resolve));

  constructor(private readonly o: TailerOptions) {
    this.chunk = Buffer.allocUnsafe(o.config.tail.readChunkBytes);
    this.checkpoints = new CheckpointStore(o.stateDir, () => this.snapshot());
    this.shippers = [];
    this.setShippers(o.shippers);
  }

  /**
   * The routes changed (routes file reloaded): new files are matched against `shippers`, in
   * this order. Open files keep their route (a removed route's files are parked first, see
   * park); open files that had no route are matched again from their last line boundary, so
   * a pipeline added for running pods gets their logs from now on.
   */
  setShippers(shippers: RouteShipper[]): void {
    for (const s of shippers) s.onResume = () => this.wake?.();
    this.shippers = [...shippers];
    for (const f of this.files.values()) if (!f.route && !f.parked && f.state !== 'released') this.route(f);
    this.requestScan();
  }

  /** `route` is being removed: its files stop until unpark (its batches are acknowledged in order meanwhile). */
  park(route: RouteShipper): void {
    for (const f of this.files.values()) if (f.route === route && f.state !== 'released') f.parked = true;
  }

  /** `route` has delivered (or given up on) everything it held: its files are routed again. */
  unpark(route: RouteShipper): void {
    for (const f of this.files.values()) {
      if (f.route !== route) continue;
      f.parked = false;
      f.route = undefined;
      if (f.state !== 'released') this.route(f);
    }
    this.requestScan();
  }

  /** A pod's labels changed in the watch: its open files carry the new labels from their next entry. */
  podChanged(uid: string): void {
    const labels = this.o.pods.labels(uid);
    if (labels) {
      for (const f of this.files.values()) {
        if (f.meta.uid !== uid || f.state === 'released') continue;
        f.podLabels = labels;
        f.labelsJson = this.streamLabels(f.meta, labels);
        if (!f.route && !f.parked) this.route(f);
      }
    }
    this.requestScan();
  }

  /**
   * Matches a file that has no route against the routes. When it finds one, the file is read
   * again, with a fresh decoder, from where its unrouted lines begin (they were only counted,
   * not decoded): what is still in the file ships.
   */
  private route(f: TailedFile): void {
    const ref: PodRef = { namespace: f.meta.namespace, pod: f.meta.pod, container: f.meta.container, labels: f.podLabels };
    const route = this.shippers.find((s) => routeMatches(s, ref));
    if (!route) {
      f.decoder = this.decoderFor(f, this.multilineFor(f, f.podLabels));
      return;
    }
    f.route = route;
    f.rewind(Math.min(f.unroutedFrom ?? f.ackedOffset, f.ackedOffset));
    f.unroutedFrom = undefined;
    f.decoder = this.decoderFor(f, this.multilineFor(f, f.podLabels));
    this.o.log.info({ file: f.path, route: route.name, offset: f.readOffset }, 'file routed after a routes or labels change');
  }

  /** Loads checkpoints and the spool marks of the previous run, then starts reading. */
  start(spoolMarks: SpoolMark[]): void {
    this.restored = this.checkpoints.load();
    for (const m of spoolMarks) {
      const key = identityKey(m.dev, m.ino);
      const prev = this.spoolEnds.get(key);
      if (!prev || m.end > prev.end) this.spoolEnds.set(key, m);
    }
    this.loop = this.run();
  }

  /** Asks for a discovery scan at the next turn (e.g. a pod appeared in the watch). */
  requestScan(): void {
    this.scanRequested = true;
    this.wake?.();
  }

  /** Acknowledgement of a batch spooled by the previous run. */
  ackStored(mark: SpoolMark): void {
    const key = identityKey(mark.dev, mark.ino);
    const f = this.files.get(key);
    if (f) {
      if (f.generation === 0 && headsAgree(Buffer.from(mark.head, 'base64'), f.head)) f.ack(0, mark.end);
      return;
    }
    // Not open yet (waiting for its pod's labels): move its restored checkpoint on.
    const c = this.restored.get(key);
    if (c && mark.end > c.offset && headsAgree(Buffer.from(mark.head, 'base64'), Buffer.from(c.head, 'base64'))) {
      c.offset = mark.end;
      void this.checkpoints.save().catch((error: unknown) => this.o.log.error({ err: error }, 'cannot write checkpoints'));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
  }

  /** Writes the checkpoints and closes the files (after the shippers have stopped). */
  async close(): Promise<void> {
    await this.checkpoints.save();
    for (const f of this.files.values()) await f.handle?.close();
  }

  /** Bytes read but not yet acknowledged, summed over files. */
  checkpointLag(): number {
    let lag = 0;
    for (const f of this.files.values()) lag += f.readOffset - f.ackedOffset;
    return lag;
  }

  /** True when every file is read to its end and every read byte is acknowledged. */
  caughtUp(): boolean {
    for (const f of this.files.values())
      if (f.state !== 'released' && (f.lastSize > f.readOffset || f.ackedOffset < f.readOffset)) return false;
    return true;
  }

  private snapshot(): Checkpoint[] {
    // Files of the last run not opened yet keep their checkpoints.
    const out: Checkpoint[] = [...this.restored.values()].filter((c) => !this.files.has(identityKey(c.dev, c.ino)));
    for (const f of this.files.values()) {
      out.push({ dev: f.dev, ino: f.ino, head: f.head.toString('base64'), path: f.path, offset: f.ackedOffset });
    }
    return out;
  }

  private onAck = (f: TailedFile): void => {
    if (f.state === 'released' && f.ackedOffset >= f.readOffset && this.files.get(f.key) === f) this.files.delete(f.key);
    void this.checkpoints.save().then(
      () => this.o.metrics.checkpointWrites.inc(),
      (error: unknown) => this.o.log.error({ err: error }, 'cannot write checkpoints'),
    );
  };

  private async run(): Promise<void> {
    const t = this.o.config.tail;
    while (!this.stopped) {
      const now = Date.now();
      if (this.scanRequested || now - this.lastScan >= t.rescanIntervalMs) {
        this.scanRequested = false;
        this.lastScan = now;
        try {
          await this.scan(now);
        } catch (error) {
          this.o.log.error({ err: error, root: this.o.root }, 'cannot scan the pods log folder');
        }
        this.scanned = true;
        this.scannedOnce();
      }
      let busy = false;
      for (const f of [...this.files.values()]) {
        if (this.stopped) break;
        if (f.state === 'released' || f.parked) continue;
        try {
          if (!f.route || f.route.accepting) {
            const n = await this.readOnce(f);
            if (n > 0) busy = true;
          }
          // Parked while the read was in flight (a routes reload): leave it to unpark.
          if (f.parked) continue;
          if (now - f.lastCheckAt >= t.pollIntervalMs) await this.check(f, now);
          if (!f.parked) f.decoder.tick(now);
        } catch (error) {
          this.o.log.error({ err: error, file: f.path }, 'error while reading a file; releasing it');
          await this.release(f, 'error');
        }
      }
      for (const s of this.shippers) s.tick(now);
      this.updateGauges();
      if (!busy && !this.stopped && !this.scanRequested) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, t.pollIntervalMs);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
      }
    }
  }

  private updateGauges(): void {
    let open = 0;
    let lag = 0;
    let unread = 0;
    for (const f of this.files.values()) {
      if (f.handle) open++;
      lag += f.readOffset - f.ackedOffset;
      if (f.state !== 'released') unread += Math.max(0, f.lastSize - f.readOffset);
    }
    const m = this.o.metrics;
    m.filesTailed.set(open);
    m.checkpointLag.set(lag);
    m.unreadBytes.set(unread);
  }

  /** One positioned read; returns the bytes read. */
  private async readOnce(f: TailedFile): Promise<number> {
    // The head is compared before every read: a file truncated and refilled past our offset
    // between two polls (copytruncate under load) must not be read from the middle.
    if (f.head.length > 0) {
      const head = await readHead(f.handle!);
      if (!headsAgree(head, f.head)) {
        await this.truncated(f, Date.now());
        return 1; // busy: read again at once
      }
      if (head.length > f.head.length) f.head = head;
    }
    const { bytesRead } = await f.handle!.read(this.chunk, 0, this.chunk.length, f.readOffset);
    // Parked meanwhile: its route takes no more entries, and unpark reads again from the
    // last acknowledged offset, so these bytes are not lost by dropping them here.
    if (bytesRead === 0 || f.parked) return 0;
    const data = this.chunk.subarray(0, bytesRead);
    if (f.readOffset === 0 && f.head.length < HEAD_BYTES) f.head = Buffer.from(data.subarray(0, Math.min(HEAD_BYTES, bytesRead)));
    const m = this.o.metrics;
    m.bytesRead.inc(bytesRead);
    f.lastGrowthAt = Date.now();
    if (!f.route) {
      // Matches no route: counted, not shipped yet; the checkpoint follows the reads.
      f.unroutedFrom ??= f.ackedOffset;
      let lines = 0;
      let last = -1;
      for (let i = data.indexOf(0x0a); i >= 0; i = data.indexOf(0x0a, i + 1)) {
        lines++;
        last = i;
      }
      m.linesRead.inc(lines);
      m.linesUnrouted.inc(lines);
      f.readOffset += bytesRead;
      if (last >= 0) f.ack(f.generation, f.readOffset - bytesRead + last + 1);
      return bytesRead;
    }
    const before = f.decoder.stats.lines;
    f.decoder.feed(data, f.readOffset);
    f.readOffset += bytesRead;
    f.lastSize = Math.max(f.lastSize, f.readOffset);
    m.linesRead.inc(f.decoder.stats.lines - before);
    return bytesRead;
  }

  /** Size, truncation, rotation and deletion checks of one file (at most every pollInterval). */
  private async check(f: TailedFile, now: number): Promise<void> {
    f.lastCheckAt = now;
    const st = await f.handle!.stat({ bigint: true });
    const size = Number(st.size);
    if (size < f.readOffset) {
      await this.truncated(f, now);
      return;
    }
    if (f.readOffset > 0 || size > f.head.length) {
      const head = await readHead(f.handle!);
      if (!headsAgree(head, f.head)) {
        await this.truncated(f, now);
        return;
      }
      if (head.length > f.head.length) f.head = head;
    }
    f.lastSize = size;
    if (size > f.readOffset) return; // more to read
    if (st.nlink === 0n) {
      this.o.metrics.rotations.inc({ kind: 'delete' });
      await this.release(f, 'deleted');
      return;
    }
    if (f.state === 'active') {
      const at = await fs.promises.stat(f.path, { bigint: true }).catch(() => undefined);
      if (!at || identityKey(at.dev, at.ino) !== f.key) {
        f.state = 'rotated';
        f.rotatedAt = now;
        this.o.metrics.rotations.inc({ kind: 'rename' });
        this.o.log.debug({ file: f.path }, 'file rotated (renamed); reading it to its end');
        if (at) this.requestScan();
      }
    }
    if (f.state === 'rotated' && now - Math.max(f.rotatedAt, f.lastGrowthAt) >= this.o.config.tail.rotateWaitMs) {
      await this.release(f, 'rotated');
    }
  }

  /** The file shrank (copytruncate, or truncated in place): finish the copy if we find it, then restart at 0. */
  private async truncated(f: TailedFile, now: number): Promise<void> {
    const dir = path.dirname(f.path);
    const base = path.basename(f.path);
    let copy: { file: string; handle: fs.promises.FileHandle; dev: string; ino: string } | undefined;
    for (const name of await fs.promises.readdir(dir).catch(() => [] as string[])) {
      if (f.head.length === 0) break; // nothing to recognise the copy by
      if (!name.startsWith(`${base}.`) || name.endsWith('.gz') || name.endsWith('.tmp')) continue;
      const file = path.join(dir, name);
      const st = await fs.promises.stat(file, { bigint: true }).catch(() => undefined);
      if (!st || Number(st.size) < f.readOffset) continue;
      const candidate = identityKey(st.dev, st.ino);
      if (this.files.has(candidate) || this.finished.has(candidate)) continue;
      const handle = await fs.promises.open(file, 'r').catch(() => undefined);
      if (!handle) continue;
      const head = await readHead(handle);
      if (head.length >= f.head.length && headsAgree(head, f.head)) {
        copy = { file, handle, dev: String(st.dev), ino: String(st.ino) };
        break;
      }
      await handle.close();
    }
    this.o.log.debug(
      { file: f.path, key: f.key, offset: f.readOffset, head: f.head.toString().slice(0, 60), found: copy?.file },
      'file truncated: looking for its copy',
    );
    const original = { handle: f.handle!, path: f.path, dev: f.dev, ino: f.ino };
    const head = await readHead(original.handle);
    if (copy) {
      // The content we were reading now lives in the copy: same object, so acknowledgements
      // of batches in flight still land on it.
      this.files.delete(f.key);
      f.handle = copy.handle;
      f.path = copy.file;
      f.dev = copy.dev;
      f.ino = copy.ino;
      f.state = 'rotated';
      f.rotatedAt = now;
      this.files.set(f.key, f);
      this.o.metrics.rotations.inc({ kind: 'copytruncate' });
      this.o.log.debug({ file: original.path, copy: copy.file, offset: f.readOffset }, 'copytruncate: finishing the copy');
      const fresh = this.newFile(original.handle, original.path, original.dev, original.ino, head, 0, 0, f.meta, f.route);
      fresh.labelsJson = f.labelsJson;
      fresh.podLabels = f.podLabels;
      fresh.decoder = this.decoderFor(fresh, this.multilineFor(fresh, fresh.podLabels));
      this.files.set(fresh.key, fresh);
      return;
    }
    // No copy: what was written after our offset and before the truncation is gone.
    this.o.metrics.rotations.inc({ kind: 'truncate' });
    this.o.log.warn({ file: f.path, offset: f.readOffset }, 'file truncated and no copy found; reading it again from the start');
    f.generation++;
    f.readOffset = 0;
    f.ackedOffset = 0;
    f.lastSize = 0;
    f.head = head;
    f.decoder = this.decoderFor(f, this.multilineFor(f, f.podLabels));
  }

  private async release(f: TailedFile, why: string): Promise<void> {
    if (f.state === 'released') return;
    if (f.route) {
      f.decoder.flush(f.readOffset);
      f.route.mark(f, f.generation, f.readOffset);
    } else if (f.ackedOffset < f.readOffset) {
      f.ack(f.generation, f.readOffset);
    }
    f.state = 'released';
    this.finished.add(f.key);
    const handle = f.handle;
    f.handle = undefined;
    await handle?.close().catch(() => {});
    this.o.log.debug({ file: f.path, why }, 'file released');
    if (f.ackedOffset >= f.readOffset && this.files.get(f.key) === f) this.files.delete(f.key);
  }

  /** Discovery: every <ns>_<pod>_<uid>/<container>/<n>.log, and rotated files we still owe. */
  private async scan(now: number): Promise<void> {
    const root = this.o.root;
    const seen = new Set<string>();
    const seenKeys = new Set<string>();
    for (const podDir of await readdirOrEmpty(root)) {
      for (const container of await readdirOrEmpty(path.join(root, podDir))) {
        for (const name of await readdirOrEmpty(path.join(root, podDir, container))) {
          const meta = parsePodLogPath(path.join(podDir, container, name));
          if (!meta) continue;
          const file = path.join(root, podDir, container, name);
          const st = await fs.promises.stat(file, { bigint: true }).catch(() => undefined);
          if (!st || !st.isFile()) continue;
          const key = identityKey(st.dev, st.ino);
          seen.add(file);
          seenKeys.add(key);
          if (this.files.has(key) || this.finished.has(key)) continue;
          // A rotated file is read when the last run owed it (checkpoint or spool), or when it
          // appeared during this run without us ever seeing it under its live name (created and
          // rotated between two scans) — but not when it is the copy of a file we are reading
          // (copytruncate: that file's truncation check takes the copy over).
          const unseen = meta.rotated && !this.restored.has(key) && !this.spoolEnds.has(key);
          if (unseen && (Number(st.mtimeMs) < this.startedAt || (await this.isCopyOfTracked(file)))) continue;
          // A file rotated before we ever had it open under its live name (created and
          // rotated between two scans): the rotation happened unseen, so it cannot be told
          // whether it was a rename or a copy; it is counted as such.
          if ((await this.open(file, meta, key, Number(st.size), now)) && unseen) this.o.metrics.rotations.inc({ kind: 'unseen' });
        }
      }
    }
    for (const file of this.waiting.keys()) if (!seen.has(file)) this.waiting.delete(file);
    // Checkpoints of the last run are for the first look at each file only; those of files
    // that are gone are dropped.
    this.restored = new Map([...this.restored].filter(([key]) => !this.files.has(key) && seenKeys.has(key)));
    for (const key of this.finished) if (!seenKeys.has(key)) this.finished.delete(key);
  }

  /** True when `file` begins like a file we are reading in the same folder (its copy). */
  private async isCopyOfTracked(file: string): Promise<boolean> {
    const dir = path.dirname(file);
    const live = [...this.files.values()].filter((f) => f.state !== 'released' && path.dirname(f.path) === dir);
    if (live.length === 0) return false;
    const handle = await fs.promises.open(file, 'r').catch(() => undefined);
    if (!handle) return true; // gone; nothing to read
    try {
      const head = await readHead(handle);
      return live.some((f) => f.head.length > 0 && head.length >= f.head.length && headsAgree(head, f.head));
    } finally {
      await handle.close();
    }
  }

  /** Opens a discovered file; false when it is not opened (yet): waiting for its pod's labels, or gone. */
  private async open(file: string, meta: PodLogPath, key: string, size: number, now: number): Promise<boolean> {
    let labels: Record<string, string> = {};
    if (this.o.pods.enabled) {
      const known = this.o.pods.labels(meta.uid);
      if (!known) {
        const since = this.waiting.get(file) ?? now;
        this.waiting.set(file, since);
        if (now - since < this.o.config.tail.podMetadataWaitMs) return false; // wait for the watch
        this.o.log.warn({ file, pod: `${meta.namespace}/${meta.pod}` }, 'pod labels unknown after waiting; routing without them');
      } else labels = known;
    }
    this.waiting.delete(file);
    const handle = await fs.promises.open(file, 'r').catch(() => undefined);
    if (!handle) return false;
    const st = await handle.stat({ bigint: true });
    if (identityKey(st.dev, st.ino) !== key) {
      await handle.close(); // replaced between stat and open: the next scan sees the new one
      return false;
    }
    const head = await readHead(handle);
    let acked = 0;
    const restored = this.restored.get(key);
    if (restored && restored.offset <= size && headsAgree(Buffer.from(restored.head, 'base64'), head)) acked = restored.offset;
    else if (restored)
      this.o.log.info({ file }, 'checkpoint does not match the file (truncated or a reused inode): reading from the start');
    let readOffset = acked;
    const spooled = this.spoolEnds.get(key);
    if (spooled && spooled.end <= size && spooled.end > readOffset && headsAgree(Buffer.from(spooled.head, 'base64'), head)) {
      readOffset = spooled.end; // already in the spool; delivered from there
    }
    this.spoolEnds.delete(key);
    const ref: PodRef = { namespace: meta.namespace, pod: meta.pod, container: meta.container, labels };
    const route = this.shippers.find((s) => routeMatches(s, ref));
    const f = this.newFile(handle, file, String(st.dev), String(st.ino), head, readOffset, acked, meta, route);
    f.lastSize = size;
    if (meta.rotated) {
      // Already rotated away: read to its end, then release.
      f.state = 'rotated';
      f.rotatedAt = now;
    }
    f.labelsJson = this.streamLabels(meta, labels);
    f.podLabels = labels;
    f.decoder = this.decoderFor(f, this.multilineFor(f, labels));
    this.files.set(key, f);
    this.o.log.debug({ file, key, size, offset: readOffset, head: head.toString().slice(0, 60) }, 'file opened');
    this.o.log.info(
      { file, route: route?.name ?? null, offset: readOffset, pod: `${meta.namespace}/${meta.pod}`, container: meta.container },
      route ? 'tailing file' : 'file matches no route: lines are counted, not shipped',
    );
    return true;
  }

  private newFile(
    handle: fs.promises.FileHandle,
    file: string,
    dev: string,
    ino: string,
    head: Buffer,
    readOffset: number,
    acked: number,
    meta: PodLogPath,
    route: RouteShipper | undefined,
  ): TailedFile {
    const f = new TailedFile(handle, file, dev, ino, head, readOffset, acked, meta, route, this.onAck);
    f.decoder = this.decoderFor(f, undefined);
    return f;
  }

  private multilineFor(f: TailedFile, labels: Record<string, string> = {}): MultilineRule | undefined {
    const ref: PodRef = { namespace: f.meta.namespace, pod: f.meta.pod, container: f.meta.container, labels };
    return this.o.config.multiline.find((m) => m.match.matches(ref));
  }

  private decoderFor(f: TailedFile, rule: MultilineRule | undefined): FileDecoder {
    const t = this.o.config.tail;
    const m = this.o.metrics;
    return new FileDecoder(
      {
        format: t.format,
        maxLineBytes: t.maxLineBytes,
        multiline: rule ? { startPattern: rule.startPattern, timeoutMs: rule.timeoutMs } : undefined,
      },
      (e: DecodedEntry) => {
        let json = `{"timestamp":"${e.timestampNs}","labels":${f.labelsJson[e.stream]},"message":${JSON.stringify(e.message)}`;
        if (e.fields) {
          json += `,"fields":${JSON.stringify(e.fields)}`;
          for (const flag of Object.keys(e.fields)) m.linesFlagged.inc({ flag });
        }
        if (f.route) f.route.add(json + '}', f, f.generation, e.endOffset);
        else f.ack(f.generation, e.endOffset); // its route was removed and no other matches: not shipped
      },
    );
  }

  private streamLabels(meta: PodLogPath, podLabels: Record<string, string>): { stdout: string; stderr: string } {
    const base: Record<string, string> = {};
    for (const key of this.o.config.labelsFromPod) {
      const value = podLabels[key];
      if (value !== undefined && value !== '') base[sanitiseLabelName(key)] = value;
    }
    Object.assign(base, { namespace: meta.namespace, pod: meta.pod, container: meta.container, node: this.o.nodeName });
    return {
      stdout: JSON.stringify({ ...base, stream: 'stdout' }),
      stderr: JSON.stringify({ ...base, stream: 'stderr' }),
    };
  }
}

function routeMatches(s: RouteShipper, ref: PodRef): boolean {
  return s.config.logs && s.config.match.matches(ref);
}

async function readHead(handle: fs.promises.FileHandle): Promise<Buffer> {
  const buf = Buffer.alloc(HEAD_BYTES);
  const { bytesRead } = await handle.read(buf, 0, HEAD_BYTES, 0);
  return buf.subarray(0, bytesRead);
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await fs.promises.readdir(dir);
  } catch {
    return [];
  }
}
