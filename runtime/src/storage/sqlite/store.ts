/**
 * The embedded store (`sextant up`): SQLite through better-sqlite3 in WAL mode. Writes are
 * whole batches in one transaction; reads implement the StorageReader primitives.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { sortedLabels } from '../../model/labels.js';
import { logRecordId, messageHash, seriesFingerprint, streamFingerprint } from '../../model/fingerprint.js';
import type { Labels, LogEntry, MetricMetadata, MetricType, Sample } from '../../model/types.js';
import { compileLineFilters, compileMatchers } from '../matchers.js';
import {
  SampleLimitError,
  type LogPage,
  type LogSelection,
  type FamilyMetadata,
  type FamilyMetadataQuery,
  type MetadataQuery,
  type SampleSelection,
  type SeriesSamples,
  type StorageReader,
  type StoredLogEntry,
} from '../reader.js';
import { groupFamilyMetadata } from '../reader-common.js';
import { decodeCursor, encodeCursor, type Position } from './cursor.js';
import { SCHEMA, SCHEMA_VERSION } from './schema.js';
import { STALE_NAN, isStaleNaN, staleNaNBytes } from '../../model/stale.js';

export type SyncMode = 'full' | 'normal';

export interface SqliteStoreOptions {
  /** Directory holding sextant.db (created if missing), or ':memory:'. */
  dataDir: string;
  /**
   * `full` (default) fsyncs the WAL on every commit, so an acknowledged write survives a
   * power loss; `normal` survives a process crash only, and is faster.
   */
  sync?: SyncMode;
  /**
   * A second, read-only connection to a store another connection writes (the query worker
   * threads, storage/sqlite/thread-reader.ts): no schema changes, and the index of streams
   * and series catches up with the writer's commits before each read.
   */
  readOnly?: boolean;
}

export interface WriteResult {
  written: number;
  duplicates: number;
}

interface IndexedSet {
  id: number;
  fingerprint: string;
  labels: Labels;
  /** Time span of the stored records in ms, for metadata pruning. */
  first: number;
  last: number;
}

const NS_PER_MS = 1_000_000n;
/** Rows fetched per stream per round of the k-way merge in selectLogs. */
const CHUNK = 256;
/** Label sets remembered by their JSON text (cleared when full: streams are few). */
const LABELS_CACHE_SIZE = 10_000;

/**
 * The inclusive ts range of the next page after `pos`: the selection's [startNs, endNs)
 * narrowed to the side of the cursor the direction reads (pos.ts itself stays in, for the
 * entries after pos.seq at the same ts).
 */
function pageBounds(selection: LogSelection, pos: Position): [bigint, bigint] {
  const last = selection.endNs - 1n;
  if (selection.direction === 'forward') return [pos.ts > selection.startNs ? pos.ts : selection.startNs, last];
  return [selection.startNs, pos.ts < last ? pos.ts : last];
}

export class SqliteStore implements StorageReader {
  readonly db: Database.Database;
  private readonly streamIndex = new Map<string, IndexedSet>();
  private readonly seriesIndex = new Map<string, IndexedSet>();
  private readonly labelsCache = new Map<string, IndexedSet>();
  private readonly stmts;
  private metadataStmts: Record<'upsert' | 'expire' | 'all' | 'one', Database.Statement> | undefined;
  private readonly readOnly: boolean;
  /** PRAGMA data_version when the index was last loaded: it moves when another connection commits. */
  private indexedVersion = -1;

  constructor(options: SqliteStoreOptions) {
    const file = options.dataDir === ':memory:' ? ':memory:' : path.join(options.dataDir, 'sextant.db');
    this.readOnly = options.readOnly ?? false;
    if (this.readOnly) {
      if (file === ':memory:') throw new Error('a read-only SQLite store needs the data directory of a writer');
      this.db = new Database(file, { readonly: true, fileMustExist: true });
      this.db.pragma('busy_timeout = 5000');
    } else {
      if (file !== ':memory:') fs.mkdirSync(options.dataDir, { recursive: true });
      this.db = new Database(file);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${options.sync === 'normal' ? 'NORMAL' : 'FULL'}`);
      this.db.pragma('busy_timeout = 5000');
      this.db.exec(SCHEMA);
    }
    this.migrate();
    this.stmts = this.prepare();
    this.loadIndex();
  }

  private migrate(): void {
    const row = this.db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).get() as { value: string } | undefined;
    if (!row && this.readOnly) throw new Error('the data directory holds no Sextant store yet');
    if (!row) {
      this.db.prepare(`INSERT INTO meta (key, value) VALUES ('schema_version', ?)`).run(String(SCHEMA_VERSION));
    } else if (Number(row.value) !== SCHEMA_VERSION) {
      throw new Error(`data directory has schema version ${row.value}; this build reads version ${SCHEMA_VERSION}`);
    }
  }

  private prepare() {
    const db = this.db;
    // A page is `ts BETWEEN lo AND hi` (pageBounds: the cursor folded into one of them) plus
    // the tie-break on seq at the cursor's ts. With the cursor as a separate OR term SQLite
    // bounds the index scan by the selection only, so every page re-read the rows before
    // the cursor: paging through a stream was quadratic in its length.
    const after = (order: 'ASC' | 'DESC') => (order === 'ASC' ? '(ts > ? OR seq > ?)' : '(ts < ? OR seq < ?)');
    const logPage = (order: 'ASC' | 'DESC') =>
      db
        .prepare(
          `SELECT seq, hash, ts, message, fields FROM logs
         WHERE stream_id = ? AND ts >= ? AND ts <= ? AND ${after(order)}
         ORDER BY ts ${order}, seq ${order} LIMIT ?`,
        )
        .safeIntegers(true);
    const textPage = (order: 'ASC' | 'DESC') =>
      db
        .prepare(
          `SELECT seq, hash, ts, message, fields, stream_id FROM logs
         WHERE seq IN (SELECT rowid FROM logs_fts WHERE logs_fts MATCH ?)
           AND stream_id IN (SELECT value FROM json_each(?)) AND ts >= ? AND ts <= ? AND ${after(order)}
         ORDER BY ts ${order}, seq ${order} LIMIT ?`,
        )
        .safeIntegers(true);
    return {
      insertStream: db.prepare(`INSERT INTO streams (fingerprint, labels, first_ts, last_ts) VALUES (?, ?, ?, ?)`),
      spanStream: db.prepare(`UPDATE streams SET first_ts = min(first_ts, ?), last_ts = max(last_ts, ?) WHERE id = ?`),
      insertLog: db.prepare(
        `INSERT INTO logs (stream_id, ts, hash, message, fields) VALUES (?, ?, ?, ?, ?) ON CONFLICT (stream_id, ts, hash) DO NOTHING`,
      ),
      insertFts: db.prepare(`INSERT INTO logs_fts (rowid, message) VALUES (?, ?)`),
      insertSeries: db.prepare(`INSERT INTO series (fingerprint, labels, first_ts, last_ts) VALUES (?, ?, ?, ?)`),
      spanSeries: db.prepare(`UPDATE series SET first_ts = min(first_ts, ?), last_ts = max(last_ts, ?) WHERE id = ?`),
      upsertSample: db.prepare(
        `INSERT INTO samples (series_id, ts, value) VALUES (?, ?, ?) ON CONFLICT (series_id, ts) DO UPDATE SET value = excluded.value`,
      ),
      logForward: logPage('ASC'),
      logBackward: logPage('DESC'),
      textForward: textPage('ASC'),
      textBackward: textPage('DESC'),
      samples: db.prepare(`SELECT ts, value FROM samples WHERE series_id = ? AND ts >= ? AND ts <= ? ORDER BY ts LIMIT ?`).raw(true),
      expiredLogs: db
        .prepare(`DELETE FROM logs WHERE seq IN (SELECT seq FROM logs WHERE stream_id = ? AND ts < ? LIMIT ?) RETURNING seq, message`)
        .safeIntegers(true),
      deleteFts: db.prepare(`INSERT INTO logs_fts (logs_fts, rowid, message) VALUES ('delete', ?, ?)`),
      expiredSamples: db.prepare(`DELETE FROM samples WHERE series_id = ? AND ts < ?`),
      setStreamFirst: db.prepare(`UPDATE streams SET first_ts = ? WHERE id = ?`),
      setSeriesFirst: db.prepare(`UPDATE series SET first_ts = ? WHERE id = ?`),
      stats: db.prepare(
        `SELECT count(*) AS entries, coalesce(sum(length(CAST(message AS BLOB))), 0) AS bytes FROM logs WHERE stream_id = ? AND ts >= ? AND ts < ?`,
      ),
    };
  }

  /**
   * Loads the streams and series into the in-memory index; again, it adds the rows it does not
   * have and refreshes the time spans of the rest (a writer widens them, retention narrows them).
   */
  private loadIndex(): void {
    this.indexedVersion = this.db.pragma('data_version', { simple: true }) as number;
    const load = (table: string, into: Map<string, IndexedSet>) => {
      const rows = this.db.prepare(`SELECT id, fingerprint, labels, first_ts, last_ts FROM ${table}`).all() as Array<{
        id: number;
        fingerprint: string;
        labels: string;
        first_ts: number | null;
        last_ts: number | null;
      }>;
      for (const r of rows) {
        const first = r.first_ts ?? -Infinity;
        const last = r.last_ts ?? Infinity;
        const known = into.get(r.fingerprint);
        if (known) {
          known.first = first;
          known.last = last;
        } else {
          into.set(r.fingerprint, { id: r.id, fingerprint: r.fingerprint, labels: JSON.parse(r.labels) as Labels, first, last });
        }
      }
    };
    load('streams', this.streamIndex);
    load('series', this.seriesIndex);
  }

  /** A read-only connection sees what the writer committed since its index was loaded. */
  private catchUp(): void {
    if (this.readOnly && (this.db.pragma('data_version', { simple: true }) as number) !== this.indexedVersion) this.loadIndex();
  }

  // ---------------------------------------------------------------- writes

  /** Stores log entries in one transaction; entries already stored (same record id) are skipped. */
  writeLogs(entries: readonly LogEntry[]): WriteResult {
    return this.write(entries, []).logs;
  }

  /** Stores samples in one transaction; a sample with an existing (series, timestamp) overwrites. */
  writeSamples(samples: readonly Sample[]): WriteResult {
    return this.write([], samples).samples;
  }

  /**
   * Stores every kind in ONE transaction (the embedded bus group-commits many requests this
   * way). On failure nothing is stored and the in-memory index is restored to match.
   */
  write(
    entries: readonly LogEntry[],
    samples: readonly Sample[],
    metadata: readonly MetricMetadata[] = [],
  ): { logs: WriteResult; samples: WriteResult } {
    const addedStreams: string[] = [];
    const addedSeries: string[] = [];
    const streamSpans = new Map<IndexedSet, [number, number]>();
    const seriesSpans = new Map<IndexedSet, [number, number]>();
    const s = this.stmts;
    const run = this.db.transaction(() => {
      let written = 0;
      for (const entry of entries) {
        const tsMs = Number(entry.timestampNs / NS_PER_MS);
        let stream = this.streamOf(entry.labels);
        if (!stream) {
          const fp = streamFingerprint(entry.labels);
          const labels = sortedLabels(entry.labels);
          const id = Number(s.insertStream.run(fp, JSON.stringify(labels), tsMs, tsMs).lastInsertRowid);
          stream = { id, fingerprint: fp, labels, first: tsMs, last: tsMs };
          this.streamIndex.set(fp, stream);
          addedStreams.push(fp);
        }
        const fields = isEmpty(entry.fields) ? null : JSON.stringify(entry.fields);
        const info = s.insertLog.run(stream.id, entry.timestampNs, messageHash(entry.message), entry.message, fields);
        if (info.changes === 1) {
          written++;
          s.insertFts.run(info.lastInsertRowid, entry.message);
          widen(streamSpans, stream, tsMs);
        }
      }
      for (const sample of samples) {
        const fp = seriesFingerprint(sample.name, sample.labels);
        let series = this.seriesIndex.get(fp);
        if (!series) {
          const labels = sortedLabels({ ...sample.labels, __name__: sample.name });
          const id = Number(s.insertSeries.run(fp, JSON.stringify(labels), sample.timestampMs, sample.timestampMs).lastInsertRowid);
          series = { id, fingerprint: fp, labels, first: sample.timestampMs, last: sample.timestampMs };
          this.seriesIndex.set(fp, series);
          addedSeries.push(fp);
        }
        s.upsertSample.run(series.id, sample.timestampMs, storedValue(sample.value));
        widen(seriesSpans, series, sample.timestampMs);
      }
      if (metadata.length > 0) {
        const upsert = this.metadataStatements()!.upsert;
        for (const m of metadata) upsert.run(m.metric, m.type, m.help, m.unit, m.timestampMs);
      }
      for (const [set, [first, last]] of streamSpans) s.spanStream.run(first, last, set.id);
      for (const [set, [first, last]] of seriesSpans) s.spanSeries.run(first, last, set.id);
      return written;
    });
    try {
      const written = run();
      applySpans(streamSpans);
      applySpans(seriesSpans);
      return {
        logs: { written, duplicates: entries.length - written },
        samples: { written: samples.length, duplicates: 0 },
      };
    } catch (error) {
      this.labelsCache.clear();
      for (const fp of addedStreams) this.streamIndex.delete(fp);
      for (const fp of addedSeries) this.seriesIndex.delete(fp);
      throw error;
    }
  }

  /**
   * The stream of a label set, or undefined if new. Clients send the same label objects
   * over and over, so a cache keyed by their JSON text skips sorting and hashing; a set
   * whose keys arrive in another order just takes the slower path once.
   */
  private streamOf(labels: Labels): IndexedSet | undefined {
    const key = JSON.stringify(labels);
    const cached = this.labelsCache.get(key);
    if (cached) return cached;
    const stream = this.streamIndex.get(streamFingerprint(labels));
    if (stream) {
      if (this.labelsCache.size >= LABELS_CACHE_SIZE) this.labelsCache.clear();
      this.labelsCache.set(key, stream);
    }
    return stream;
  }

  // ---------------------------------------------------------------- log reads

  selectLogs(selection: LogSelection): LogPage {
    const streams = this.matchStreams(selection, Number(selection.startNs / NS_PER_MS), Number(selection.endNs / NS_PER_MS));
    const forward = selection.direction === 'forward';
    const limit = Math.max(0, selection.limit);
    if (streams.length === 0 || limit === 0) return { entries: [] };
    const start: Position = selection.cursor
      ? decodeCursor(selection.cursor, selection.direction)
      : forward
        ? { ts: selection.startNs, seq: -1n }
        : { ts: selection.endNs, seq: -1n };
    const keep = compileLineFilters(selection.lineFilters ?? []);
    const sources = selection.text
      ? [this.textSource(selection, streams, start)]
      : streams.map((stream) => this.streamSource(selection, stream, start));
    const entries: StoredLogEntry[] = [];
    for (const row of mergeSources(sources, forward)) {
      if (!keep(row.message)) continue;
      entries.push(row);
      if (entries.length === limit) {
        return { entries, nextCursor: encodeCursor(selection.direction, { ts: row.timestampNs, seq: row.seq }) };
      }
    }
    return { entries };
  }

  private streamSource(selection: LogSelection, stream: IndexedSet, from: Position): Source {
    const stmt = selection.direction === 'forward' ? this.stmts.logForward : this.stmts.logBackward;
    let pos = from;
    return () => {
      const [lo, hi] = pageBounds(selection, pos);
      const rows = stmt.all(stream.id, lo, hi, pos.ts, pos.seq, CHUNK) as LogRow[];
      const out = rows.map((r) => toEntry(r, stream));
      const last = out[out.length - 1];
      if (last) pos = { ts: last.timestampNs, seq: last.seq };
      return { rows: out, done: rows.length < CHUNK };
    };
  }

  private textSource(selection: LogSelection, streams: IndexedSet[], from: Position): Source {
    const stmt = selection.direction === 'forward' ? this.stmts.textForward : this.stmts.textBackward;
    const byId = new Map(streams.map((s) => [s.id, s]));
    const ids = JSON.stringify(streams.map((s) => s.id));
    const match = ftsQuery(selection.text!);
    let pos = from;
    return () => {
      const [lo, hi] = pageBounds(selection, pos);
      const rows = stmt.all(match, ids, lo, hi, pos.ts, pos.seq, CHUNK) as Array<LogRow & { stream_id: bigint }>;
      const out = rows.map((r) => toEntry(r, byId.get(Number(r.stream_id))!));
      const last = out[out.length - 1];
      if (last) pos = { ts: last.timestampNs, seq: last.seq };
      return { rows: out, done: rows.length < CHUNK };
    };
  }

  logStreams(query: MetadataQuery): Labels[] {
    return this.matchStreams(query, query.startMs, query.endMs).map((s) => s.labels);
  }

  logLabelNames(query: MetadataQuery): string[] {
    return labelNames(this.matchStreams(query, query.startMs, query.endMs));
  }

  logLabelValues(name: string, query: MetadataQuery): string[] {
    return labelValues(name, this.matchStreams(query, query.startMs, query.endMs));
  }

  logStats(query: MetadataQuery): { streams: number; entries: number; bytes: number } {
    const streams = this.matchStreams(query, query.startMs, query.endMs);
    const start = BigInt(Math.floor(query.startMs ?? 0)) * NS_PER_MS;
    const end = query.endMs === undefined ? 2n ** 63n - 1n : BigInt(Math.ceil(query.endMs)) * NS_PER_MS + 1n;
    let entries = 0;
    let bytes = 0;
    let active = 0;
    for (const stream of streams) {
      const row = this.stmts.stats.get(stream.id, start, end) as { entries: number; bytes: number };
      if (row.entries > 0) active++;
      entries += row.entries;
      bytes += row.bytes;
    }
    return { streams: active, entries, bytes };
  }

  private matchStreams(query: { matchers?: LogSelection['matchers'] }, startMs?: number, endMs?: number): IndexedSet[] {
    this.catchUp();
    return matchSets(this.streamIndex, query.matchers ?? [], startMs, endMs);
  }

  // ---------------------------------------------------------------- metric reads

  selectSamples(selection: SampleSelection): SeriesSamples[] {
    this.catchUp();
    const out: SeriesSamples[] = [];
    // One row past the budget tells that it is exceeded, without reading the rest.
    let left = selection.maxSamples ?? -1;
    for (const series of matchSets(this.seriesIndex, selection.matchers, selection.startMs, selection.endMs)) {
      const rows = this.stmts.samples.all(series.id, selection.startMs, selection.endMs, left < 0 ? -1 : left + 1) as Array<
        [number, StoredValue]
      >;
      if (left >= 0 && rows.length > left) throw new SampleLimitError(selection.maxSamples!);
      if (left >= 0) left -= rows.length;
      if (rows.length === 0) continue;
      // A marker keeps its slot (as STALE_NAN) and is named by time: PromQL ends the series there.
      const stale = rows.filter((r) => isStaleBlob(r[1])).map((r) => r[0]);
      out.push({
        labels: series.labels,
        timestampsMs: rows.map((r) => r[0]),
        values: rows.map((r) => valueOf(r[1])),
        ...(stale.length > 0 ? { staleTimestampsMs: stale } : {}),
      });
    }
    return out;
  }

  series(query: MetadataQuery): Labels[] {
    this.catchUp();
    return matchSets(this.seriesIndex, query.matchers ?? [], query.startMs, query.endMs).map((s) => s.labels);
  }

  metricLabelNames(query: MetadataQuery): string[] {
    this.catchUp();
    return labelNames(matchSets(this.seriesIndex, query.matchers ?? [], query.startMs, query.endMs));
  }

  metricLabelValues(name: string, query: MetadataQuery): string[] {
    this.catchUp();
    return labelValues(name, matchSets(this.seriesIndex, query.matchers ?? [], query.startMs, query.endMs));
  }

  metricMetadata(query: FamilyMetadataQuery): FamilyMetadata {
    const stmts = this.metadataStatements();
    if (!stmts) return {};
    const rows = (query.metric === undefined ? stmts.all.all() : stmts.one.all(query.metric)) as Array<{
      metric: string;
      type: MetricType;
      help: string;
      unit: string;
      last_seen: number;
    }>;
    return groupFamilyMetadata(
      rows.map((r) => ({ metric: r.metric, type: r.type, help: r.help, unit: r.unit, timestampMs: r.last_seen })),
      query,
    );
  }

  /**
   * Prepared on first use: a read-only store opened on a directory an older build wrote has
   * no metric_metadata table until a writer opens it (undefined then); a writer always has it.
   */
  private metadataStatements() {
    if (!this.metadataStmts) {
      if (!this.db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'metric_metadata'`).get()) return undefined;
      const db = this.db;
      this.metadataStmts = {
        upsert: db.prepare(
          `INSERT INTO metric_metadata (metric, type, help, unit, last_seen) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (metric, type, help, unit) DO UPDATE SET last_seen = max(last_seen, excluded.last_seen)`,
        ),
        expire: db.prepare(`DELETE FROM metric_metadata WHERE last_seen < ?`),
        all: db.prepare(`SELECT metric, type, help, unit, last_seen FROM metric_metadata`),
        one: db.prepare(`SELECT metric, type, help, unit, last_seen FROM metric_metadata WHERE metric = ?`),
      };
    }
    return this.metadataStmts;
  }

  /**
   * Deletes log entries older than `beforeNs`, a chunk per transaction so writers wait at
   * most one chunk. Returns how many were deleted.
   */
  deleteLogsBefore(beforeNs: bigint, chunk = 10_000): number {
    let deleted = 0;
    const beforeMs = Number(beforeNs / NS_PER_MS);
    for (const stream of this.streamIndex.values()) {
      if (stream.first >= beforeMs) continue;
      for (;;) {
        const rows = this.db.transaction(() => {
          const gone = this.stmts.expiredLogs.all(stream.id, beforeNs, chunk) as Array<{ seq: bigint; message: string }>;
          // External-content FTS5 tables need the old text to remove an entry's terms.
          for (const row of gone) this.stmts.deleteFts.run(row.seq, row.message);
          return gone.length;
        })();
        deleted += rows;
        if (rows < chunk) break;
      }
      stream.first = beforeMs;
      this.stmts.setStreamFirst.run(beforeMs, stream.id);
    }
    return deleted;
  }

  /** Deletes samples older than `beforeMs`, and metadata last received before it; returns how many samples were deleted. */
  deleteSamplesBefore(beforeMs: number): number {
    this.metadataStatements()?.expire.run(beforeMs);
    let deleted = 0;
    for (const series of this.seriesIndex.values()) {
      if (series.first >= beforeMs) continue;
      deleted += this.stmts.expiredSamples.run(series.id, beforeMs).changes;
      series.first = beforeMs;
      this.stmts.setSeriesFirst.run(beforeMs, series.id);
    }
    return deleted;
  }

  /** Counts for tests and the startup log line. */
  counts(): { streams: number; entries: number; series: number; samples: number } {
    const one = (sql: string) => (this.db.prepare(sql).get() as { n: number }).n;
    return {
      streams: this.streamIndex.size,
      entries: one('SELECT count(*) AS n FROM logs'),
      series: this.seriesIndex.size,
      samples: one('SELECT count(*) AS n FROM samples'),
    };
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

// ---------------------------------------------------------------- helpers

interface LogRow {
  seq: bigint;
  hash: bigint;
  ts: bigint;
  message: string;
  fields: string | null;
}

type MergedEntry = StoredLogEntry & { seq: bigint };
type Source = () => { rows: MergedEntry[]; done: boolean };

function toEntry(row: LogRow, stream: IndexedSet): MergedEntry {
  return {
    id: logRecordId(stream.fingerprint, { timestampNs: row.ts, message: row.message }, row.hash),
    timestampNs: row.ts,
    labels: stream.labels,
    message: row.message,
    fields: row.fields === null ? {} : (JSON.parse(row.fields) as Record<string, unknown>),
    seq: row.seq,
  };
}

/**
 * K-way merge of per-stream pages in (ts, seq) order, refilling a stream's buffer from
 * its source when it runs dry. Each source yields rows already in the merge order.
 */
function* mergeSources(sources: Source[], forward: boolean): Generator<MergedEntry> {
  const heads = sources.map((next) => ({ next, rows: [] as MergedEntry[], at: 0, done: false }));
  const before = (a: MergedEntry, b: MergedEntry): boolean => {
    if (a.timestampNs !== b.timestampNs) return forward ? a.timestampNs < b.timestampNs : a.timestampNs > b.timestampNs;
    return forward ? a.seq < b.seq : a.seq > b.seq;
  };
  for (;;) {
    let best: (typeof heads)[number] | undefined;
    for (const head of heads) {
      if (head.at === head.rows.length) {
        if (head.done) continue;
        const page = head.next();
        head.rows = page.rows;
        head.at = 0;
        head.done = page.done;
        if (head.rows.length === 0) continue;
      }
      if (!best || before(head.rows[head.at]!, best.rows[best.at]!)) best = head;
    }
    if (!best) return;
    yield best.rows[best.at++]!;
  }
}

/** Every whitespace-separated term must occur (FTS5 phrases, quoted so no operator leaks in). */
function ftsQuery(text: string): string {
  return text
    .split(/\s+/)
    .filter(Boolean)
    .map((term) => `"${term.replaceAll('"', '""')}"`)
    .join(' ');
}

function matchSets(sets: Map<string, IndexedSet>, matchers: LogSelection['matchers'], startMs?: number, endMs?: number): IndexedSet[] {
  const matches = compileMatchers(matchers);
  const out: IndexedSet[] = [];
  for (const set of sets.values()) {
    if (startMs !== undefined && set.last < startMs) continue;
    if (endMs !== undefined && set.first > endMs) continue;
    if (matches(set.labels)) out.push(set);
  }
  return out;
}

function labelNames(sets: IndexedSet[]): string[] {
  const names = new Set<string>();
  for (const set of sets) for (const name in set.labels) names.add(name);
  return [...names].sort();
}

function labelValues(name: string, sets: IndexedSet[]): string[] {
  const values = new Set<string>();
  for (const set of sets) {
    const value = set.labels[name];
    if (value !== undefined) values.add(value);
  }
  return [...values].sort();
}

function widen(spans: Map<IndexedSet, [number, number]>, set: IndexedSet, ts: number): void {
  const span = spans.get(set);
  if (!span) spans.set(set, [ts, ts]);
  else {
    if (ts < span[0]) span[0] = ts;
    if (ts > span[1]) span[1] = ts;
  }
}

function applySpans(spans: Map<IndexedSet, [number, number]>): void {
  for (const [set, [first, last]] of spans) {
    set.first = Math.min(set.first, first);
    set.last = Math.max(set.last, last);
  }
}

function isEmpty(object: object): boolean {
  for (const _ in object) return false;
  return true;
}

/** A sample value as its column holds it: NULL for NaN, the 8 bytes of a staleness marker as a BLOB. */
type StoredValue = number | null | Buffer;

const STALE_BLOB = staleNaNBytes();

function storedValue(value: number): StoredValue {
  if (!Number.isNaN(value)) return value;
  return isStaleNaN(value) ? STALE_BLOB : null;
}

function valueOf(stored: StoredValue): number {
  if (stored === null) return NaN;
  return typeof stored === 'number' ? stored : STALE_NAN;
}

/** Only a marker is stored as a BLOB (storedValue). */
function isStaleBlob(stored: StoredValue): stored is Buffer {
  return Buffer.isBuffer(stored);
}
