/**
 * The StorageReader over the OpenSearch hot tier: the daily indices the processor writes
 * (documents.ts). Label matchers, time range, sort and limit are pushed down; what cannot be
 * pushed down with the same semantics (negative regexes, regexes outside a syntax subset
 * both engines read alike, line filters on the analysed `message`) is filtered in process.
 * Every hit is re-checked in process, so a push-down only ever narrows a superset and the
 * answer equals the SQLite store's for the same data.
 *
 * Order: (timestamp, _id) in the requested direction; `_id` (stream fingerprint + ts + hash)
 * breaks ties deterministically. SQLite breaks ties by arrival order instead, which no other
 * store can reproduce — entries with equal timestamps may come in another order.
 */
import type { Client } from '@opensearch-project/opensearch';
import { errors } from '@opensearch-project/opensearch';
import { sortedLabels } from '../../model/labels.js';
import type { Labels, MetricMetadata, MetricType } from '../../model/types.js';
import { compileLineFilters, compileMatchers, regexMatchesEmpty } from '../matchers.js';
import {
  SampleLimitError,
  type FamilyMetadata,
  type FamilyMetadataQuery,
  type LabelMatcher,
  type LogPage,
  type LogSelection,
  type LogStats,
  type MetadataQuery,
  type SampleSelection,
  type SeriesSamples,
  type StorageReader,
  type StoredLogEntry,
} from '../reader.js';
import { decodeTaggedCursor, encodeTaggedCursor, groupFamilyMetadata, labelNames, labelValues } from '../reader-common.js';
import { StorageUnavailableError } from '../tiered/unavailable.js';
import { metadataIndex, nsToIso, readPatterns } from './documents.js';
import { specialValueOf } from '../../model/stale.js';

export interface OpenSearchReaderOptions {
  client: Client;
  /** The sink's indexPrefix: indices are `<prefix>-<signal>-YYYY.MM.DD`. */
  indexPrefix: string;
  /** Hits per search request (default 1000). */
  pageSize?: number;
  /** Buckets per composite-aggregation request for metadata (default 1000). */
  bucketPageSize?: number;
}

type Query = Record<string, unknown>;
type Signal = 'logs' | 'metrics';

interface LogSource {
  ts_ns: string;
  labels?: Labels;
  message: string;
  fields?: Record<string, unknown>;
}

interface SampleSource {
  '@timestamp': number | string;
  name: string;
  series: string;
  labels?: Labels;
  value: number | null;
  special?: string;
}

interface Hit<S> {
  _id: string;
  _source: S;
  sort?: unknown[];
}

const NS_PER_MS = 1_000_000n;
/** date_nanos holds 1970-01-01 .. 2262-04-11; bounds outside are clamped to these. */
const MIN_NS = 0n;
const MAX_NS = 9_223_372_036_854_775_807n;

/**
 * Regexes in this subset mean the same to Lucene's RegExp (always anchored) and to an
 * anchored RE2 regex (with `.` matching newlines, as both do here): literals, `.`, `* + ?`, `|`, groups, `{n,m}`, simple bracket
 * classes and escaped punctuation. Anything else (`(?:`, `\d`, `[^`, `^`, `$`, Lucene's
 * `@ & ~ < > #` operators) stays in process.
 */
const PORTABLE_REGEX = /^(?:[A-Za-z0-9_ :/,=-]|\.|\*|\+|\?|\||\((?!\?)|\)|\[[A-Za-z0-9_-]+\]|\{\d+(?:,\d*)?\}|\\[.*+?|(){}[\]\\/-])*$/;

/** PORTABLE_REGEX, and no empty pattern or alternative: Lucene refuses `a|`, `(|b)`, `()`. */
function portableRegex(value: string): boolean {
  return value !== '' && PORTABLE_REGEX.test(value) && !/^\||\|$|\|\||\(\||\|\)|\(\)/.test(value.replace(/\\./g, 'x'));
}

export class OpenSearchReader implements StorageReader {
  private readonly client: Client;
  private readonly prefix: string;
  private readonly pageSize: number;
  private readonly bucketPageSize: number;

  constructor(options: OpenSearchReaderOptions) {
    this.client = options.client;
    this.prefix = options.indexPrefix;
    this.pageSize = options.pageSize ?? 1000;
    this.bucketPageSize = options.bucketPageSize ?? 1000;
  }

  /** True when the cluster answers (readiness). */
  async ping(): Promise<boolean> {
    try {
      await this.client.ping();
      return true;
    } catch {
      return false;
    }
  }

  // ---------------------------------------------------------------- log reads

  async selectLogs(selection: LogSelection): Promise<LogPage> {
    const limit = Math.max(0, selection.limit);
    const start = clampNs(selection.startNs);
    const end = clampNs(selection.endNs);
    if (limit === 0 || end <= start) return { entries: [] };
    const order = selection.direction === 'forward' ? 'asc' : 'desc';
    const match = compileMatchers(selection.matchers);
    const keep = compileLineFilters(selection.lineFilters ?? []);
    const pushed = pushDown(selection.matchers, 'logs');
    const filter: Query[] = [{ range: { '@timestamp': { gte: nsToIso(start), lt: nsToIso(end) } } }, ...pushed.filter];
    if (selection.text) {
      // Every whitespace-separated term must occur, as the embedded store's FTS does.
      for (const term of selection.text.split(/\s+/).filter(Boolean)) filter.push({ match_phrase: { message: term } });
    }
    const query = { bool: { filter, must_not: pushed.mustNot } };
    // When everything was pushed down each hit counts, so ask for no more than needed.
    const exact = pushed.exact && (selection.lineFilters ?? []).length === 0;
    let after: Position | undefined = selection.cursor ? decodeCursor(selection.cursor, selection.direction) : undefined;
    const entries: StoredLogEntry[] = [];
    for (;;) {
      const size = exact ? Math.min(this.pageSize, limit - entries.length) : this.pageSize;
      const hits = await this.search<LogSource>('logs', {
        size,
        query,
        sort: [{ '@timestamp': { order } }, { _id: { order } }],
        _source: ['ts_ns', 'labels', 'message', 'fields'],
        track_total_hits: false,
        // ISO text, not a number: a JSON number cannot carry nanoseconds exactly.
        ...(after ? { search_after: [nsToIso(after.ns), after.id] } : {}),
      });
      for (const hit of hits) {
        const timestampNs = BigInt(hit._source.ts_ns);
        after = { ns: timestampNs, id: hit._id };
        const labels = sortedLabels(hit._source.labels ?? {});
        if (!match(labels) || !keep(hit._source.message)) continue;
        entries.push({ id: hit._id, timestampNs, labels, message: hit._source.message, fields: hit._source.fields ?? {} });
        if (entries.length === limit) return { entries, nextCursor: encodeCursor(selection.direction, after) };
      }
      if (hits.length < size) return { entries };
    }
  }

  async logStreams(query: MetadataQuery): Promise<Labels[]> {
    return (await this.streams('logs', query, false)).map((s) => s.labels);
  }

  async logLabelNames(query: MetadataQuery): Promise<string[]> {
    return labelNames(labelsOf(await this.streams('logs', query, false)));
  }

  async logLabelValues(name: string, query: MetadataQuery): Promise<string[]> {
    return labelValues(name, labelsOf(await this.streams('logs', query, false)));
  }

  async logStats(query: MetadataQuery): Promise<LogStats> {
    const { streams, entries, bytes } = await this.logStatsNs(query.matchers ?? [], nsStatsBounds(query));
    return { streams: streams.length, entries, bytes };
  }

  /** Stats of [fromNs, toNs) with the streams' label sets (the tiered reader splits at any ns). */
  async logStatsNs(
    matchers: LabelMatcher[],
    [fromNs, toNs]: [bigint, bigint],
  ): Promise<{ streams: Labels[]; entries: number; bytes: number }> {
    const sets = await this.streams('logs', { matchers }, true, [fromNs, toNs]);
    let entries = 0;
    let bytes = 0;
    for (const s of sets) {
      entries += s.docs;
      bytes += s.bytes;
    }
    return { streams: sets.map((s) => s.labels), entries, bytes };
  }

  // ---------------------------------------------------------------- metric reads

  async selectSamples(selection: SampleSelection): Promise<SeriesSamples[]> {
    if (selection.endMs < selection.startMs) return [];
    const match = compileMatchers(selection.matchers);
    const pushed = pushDown(selection.matchers, 'metrics');
    const query = {
      bool: {
        filter: [
          { range: { '@timestamp': { gte: Math.max(0, selection.startMs), lte: selection.endMs, format: 'epoch_millis' } } },
          ...pushed.filter,
        ],
        must_not: pushed.mustNot,
      },
    };
    const out: Array<SeriesSamples & { fp: string }> = [];
    let loaded = 0;
    let current: (SeriesSamples & { fp: string }) | undefined;
    let skip: string | undefined;
    let after: unknown[] | undefined;
    for (;;) {
      const hits = await this.search<SampleSource>('metrics', {
        size: this.pageSize,
        query,
        // Grouped by series, ascending time within each: the contract's order per series.
        sort: [{ series: { order: 'asc' } }, { '@timestamp': { order: 'asc' } }],
        _source: ['@timestamp', 'name', 'series', 'labels', 'value', 'special'],
        track_total_hits: false,
        ...(after ? { search_after: after } : {}),
      });
      for (const hit of hits) {
        after = hit.sort;
        const s = hit._source;
        if (s.series === skip) continue;
        if (!current || current.fp !== s.series) {
          const labels = sortedLabels({ ...(s.labels ?? {}), __name__: s.name });
          if (!match(labels)) {
            skip = s.series;
            continue;
          }
          current = { fp: s.series, labels, timestampsMs: [], values: [] };
          out.push(current);
        }
        const ms = Number(s['@timestamp']);
        current.timestampsMs.push(ms);
        current.values.push(sampleValue(s));
        if (s.special === 'StaleNaN') (current.staleTimestampsMs ??= []).push(ms);
        if (selection.maxSamples !== undefined && ++loaded > selection.maxSamples) throw new SampleLimitError(selection.maxSamples);
      }
      if (hits.length < this.pageSize) break;
    }
    return out.map(({ fp: _, ...series }) => series);
  }

  async series(query: MetadataQuery): Promise<Labels[]> {
    return (await this.streams('metrics', query, false)).map((s) => s.labels);
  }

  async metricLabelNames(query: MetadataQuery): Promise<string[]> {
    return labelNames(labelsOf(await this.streams('metrics', query, false)));
  }

  async metricLabelValues(name: string, query: MetadataQuery): Promise<string[]> {
    return labelValues(name, labelsOf(await this.streams('metrics', query, false)));
  }

  /** Every metadata document (paged: one per family and variant, so they are few), grouped by family. */
  async metricMetadata(query: FamilyMetadataQuery): Promise<FamilyMetadata> {
    const rows: MetricMetadata[] = [];
    let after: unknown[] | undefined;
    for (;;) {
      let hits: Array<Hit<{ metric: string; type: MetricType; help: string; unit: string; last_seen: number }>>;
      try {
        const response = await this.client.search({
          index: metadataIndex(this.prefix),
          body: {
            size: this.pageSize,
            query: query.metric === undefined ? { match_all: {} } : { term: { metric: query.metric } },
            sort: [{ metric: 'asc' }, { _id: 'asc' }],
            track_total_hits: false,
            ...(after ? { search_after: after } : {}),
          } as never,
          ignore_unavailable: true,
          allow_no_indices: true,
        });
        hits = (response.body as { hits: { hits: typeof hits } }).hits.hits;
      } catch (error) {
        throw translateError(error);
      }
      for (const h of hits) {
        const { metric, type, help, unit, last_seen } = h._source;
        rows.push({ metric, type, help, unit, timestampMs: Number(last_seen) });
      }
      if (hits.length < this.pageSize) return groupFamilyMetadata(rows, query);
      after = hits[hits.length - 1]!.sort;
    }
  }

  // ---------------------------------------------------------------- helpers

  /**
   * The streams (series) with records in the query's range that match its matchers: one
   * composite aggregation over the fingerprint, paged, with one document's labels per
   * bucket. Bounds are whole milliseconds, inclusive, as the embedded store's spans are.
   */
  private async streams(
    signal: Signal,
    query: MetadataQuery,
    withBytes: boolean,
    nsRange?: [bigint, bigint],
  ): Promise<Array<{ labels: Labels; docs: number; bytes: number }>> {
    const matchers = query.matchers ?? [];
    const match = compileMatchers(matchers);
    const pushed = pushDown(matchers, signal);
    const range: Record<string, unknown> = {};
    if (nsRange) {
      range.gte = nsToIso(clampNs(nsRange[0]));
      range.lt = nsToIso(clampNs(nsRange[1]));
    } else if (signal === 'logs') {
      // Label sets take whole milliseconds, like the embedded store's stream spans.
      if (query.startMs !== undefined) range.gte = nsToIso(clampNs(BigInt(Math.floor(query.startMs)) * NS_PER_MS));
      if (query.endMs !== undefined) range.lt = nsToIso(clampNs((BigInt(Math.floor(query.endMs)) + 1n) * NS_PER_MS));
    } else {
      if (query.startMs !== undefined) range.gte = Math.max(0, Math.floor(query.startMs));
      if (query.endMs !== undefined) range.lte = Math.floor(query.endMs);
      range.format = 'epoch_millis';
    }
    const filter = [...(Object.keys(range).length > 0 ? [{ range: { '@timestamp': range } }] : []), ...pushed.filter];
    const field = signal === 'logs' ? 'stream' : 'series';
    const aggs: Record<string, unknown> = {
      one: { top_hits: { size: 1, _source: signal === 'logs' ? ['labels'] : ['labels', 'name'] } },
      ...(withBytes ? { bytes: { scripted_metric: UTF8_BYTES } } : {}),
    };
    const out: Array<{ labels: Labels; docs: number; bytes: number }> = [];
    let afterKey: unknown;
    for (;;) {
      const body = {
        size: 0,
        query: { bool: { filter, must_not: pushed.mustNot } },
        aggs: {
          sets: {
            composite: { size: this.bucketPageSize, sources: [{ fp: { terms: { field } } }], ...(afterKey ? { after: afterKey } : {}) },
            aggs,
          },
        },
      };
      const response = await this.request(signal, body);
      const agg = (response.aggregations as { sets?: CompositeResult } | undefined)?.sets;
      const buckets = agg?.buckets ?? [];
      for (const b of buckets) {
        const source = b.one.hits.hits[0]?._source ?? {};
        const labels = sortedLabels(signal === 'logs' ? (source.labels ?? {}) : { ...(source.labels ?? {}), __name__: source.name ?? '' });
        if (!match(labels)) continue;
        out.push({ labels, docs: b.doc_count, bytes: Number(b.bytes?.value ?? 0) });
      }
      if (buckets.length < this.bucketPageSize || agg?.after_key === undefined) return out;
      afterKey = agg.after_key;
    }
  }

  private async search<S>(signal: Signal, body: Record<string, unknown>): Promise<Hit<S>[]> {
    const response = await this.request(signal, body);
    return (response.hits as { hits: Hit<S>[] }).hits;
  }

  private async request(signal: Signal, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    try {
      const response = await this.client.search({
        index: readPatterns(this.prefix, signal),
        body: body as never,
        ignore_unavailable: true,
        allow_no_indices: true,
      });
      return response.body as Record<string, unknown>;
    } catch (error) {
      throw translateError(error);
    }
  }
}

interface CompositeResult {
  after_key?: unknown;
  buckets: Array<{
    doc_count: number;
    one: { hits: { hits: Array<{ _source?: { labels?: Labels; name?: string } }> } };
    bytes?: { value: number | string | null };
  }>;
}

/**
 * Sum of the UTF-8 byte lengths of `message` (what the embedded store reports as bytes).
 * `message` is a text field without doc values, so the script reads the source.
 */
const UTF8_BYTES = {
  init_script: 'state.b = 0L',
  map_script: `String m = params._source.message;
if (m != null) { long n = 0; int i = 0; int len = m.length();
  while (i < len) { int c = m.codePointAt(i); n += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4; i += Character.charCount(c); }
  state.b += n; }`,
  combine_script: 'return state.b',
  reduce_script: 'long t = 0; for (s in states) { if (s != null) { t += s } } return t',
};

interface PushDown {
  filter: Query[];
  mustNot: Query[];
  /** True when every matcher was pushed down with its exact semantics. */
  exact: boolean;
}

/**
 * Matchers as OpenSearch clauses. A missing label has the value "" (Prometheus), so `=""`
 * is "field missing" and `!=""` "field exists". Regexes outside PORTABLE_REGEX and every
 * `!~` are left to the in-process check (a wrong push-down could drop matching records).
 */
export function pushDown(matchers: readonly LabelMatcher[], signal: Signal): PushDown {
  const out: PushDown = { filter: [], mustNot: [], exact: true };
  for (const m of matchers) {
    const field = signal === 'metrics' && m.name === '__name__' ? 'name' : `labels.${m.name}`;
    const exists = { exists: { field } };
    switch (m.op) {
      case '=':
        if (m.value === '') out.mustNot.push(exists);
        else out.filter.push({ term: { [field]: m.value } });
        break;
      case '!=':
        if (m.value === '') out.filter.push(exists);
        else out.mustNot.push({ term: { [field]: m.value } });
        break;
      case '=~': {
        if (!portableRegex(m.value)) {
          out.exact = false;
          break;
        }
        const regexp = { regexp: { [field]: { value: m.value, flags: 'NONE' } } };
        const matchesEmpty = regexMatchesEmpty(m.value);
        out.filter.push(matchesEmpty ? { bool: { should: [regexp, { bool: { must_not: [exists] } }], minimum_should_match: 1 } } : regexp);
        break;
      }
      case '!~':
        out.exact = false;
        break;
    }
  }
  return out;
}

function translateError(error: unknown): Error {
  if (error instanceof errors.ResponseError) {
    const status = error.statusCode ?? 0;
    const reason = describeResponse(error.body);
    if (status === 429 || status >= 500) return new StorageUnavailableError(`OpenSearch answered ${status}: ${reason}`);
    return new Error(`OpenSearch refused the query (${status}): ${reason}`);
  }
  if (
    error instanceof errors.ConnectionError ||
    error instanceof errors.TimeoutError ||
    error instanceof errors.NoLivingConnectionsError ||
    error instanceof errors.RequestAbortedError
  ) {
    return new StorageUnavailableError(`OpenSearch is unreachable: ${error.message}`);
  }
  return error instanceof Error ? error : new Error(String(error));
}

function describeResponse(body: unknown): string {
  const root = (body as { error?: { root_cause?: Array<{ type?: string; reason?: string }>; reason?: string } } | undefined)?.error;
  const cause = root?.root_cause?.[0];
  return cause ? `${cause.type ?? 'error'}: ${cause.reason ?? ''}` : (root?.reason ?? 'unknown error');
}

function sampleValue(s: SampleSource): number {
  if (s.value !== null && s.value !== undefined) return s.value;
  return specialValueOf(s.special) ?? NaN;
}

/**
 * The [from, to) ns range /index/stats counts: from the start instant up to and including
 * the end instant, as the embedded store does (it takes whole milliseconds, end rounded up).
 */
export function nsStatsBounds(query: MetadataQuery): [bigint, bigint] {
  const from = query.startMs === undefined ? 0n : BigInt(Math.floor(query.startMs)) * NS_PER_MS;
  const to = query.endMs === undefined ? MAX_NS : BigInt(Math.ceil(query.endMs)) * NS_PER_MS + 1n;
  return [from, to];
}

function clampNs(ns: bigint): bigint {
  return ns < MIN_NS ? MIN_NS : ns > MAX_NS ? MAX_NS : ns;
}

interface Position {
  ns: bigint;
  id: string;
}

/** `o:<f|b>:<ts ns>:<_id>` — the sort position of the last entry returned. */
function encodeCursor(direction: LogSelection['direction'], after: Position): string {
  return encodeTaggedCursor('o', direction, `${after.ns}:${after.id}`);
}

function decodeCursor(cursor: string, direction: LogSelection['direction']): Position {
  const [ns, id] = decodeTaggedCursor(cursor, 'o', direction, /(\d+):([0-9a-f-]+)/);
  return { ns: BigInt(ns!), id: id! };
}

const labelsOf = (sets: Array<{ labels: Labels }>): Labels[] => sets.map((s) => s.labels);
