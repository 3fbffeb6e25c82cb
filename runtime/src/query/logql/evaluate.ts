/**
 * LogQL evaluation over a LogReader. Log queries are one StorageReader.selectLogs call;
 * metric queries page through the entries of each range aggregation once for the whole
 * query window (keeping only timestamps and byte sizes), then evaluate step by step in
 * memory with the same vector operators as the PromQL engine.
 *
 * Windows are Loki's: `(t - offset - range, t - offset]`, and a stream with no entry in a
 * window has no point at that step.
 */
import { canonicalLabels } from '../../model/labels.js';
import { MAX_POINTS_PER_SERIES } from '../../model/limits.js';
import { nsToMs } from '../../model/timestamp.js';
import type { Labels } from '../../model/types.js';
import type { Direction, LogReader, StoredLogEntry } from '../../storage/reader.js';
import { binaryOp, MatrixBuilder, type InstantSample, type QueryResult, type Value } from '../promql/evaluate.js';
import { badData, QueryError } from '../promql/errors.js';
import type { LogQuery, MetricExpr, RangeAggregation, RangeOp, Unwrap } from './ast.js';
import {
  compileLabelFilter,
  compilePipeline,
  fieldsAsMetadata,
  ERROR_DETAILS_LABEL,
  ERROR_LABEL,
  parseBytes,
  parseDurationSeconds,
  parseNumber,
  PipelineEntry,
} from './pipeline.js';
import { RANGE_FUNCTIONS, type Window } from './range-functions.js';
import { aggregateLog, labelReplace } from './vector-functions.js';

export interface MetricQueryLimits {
  /** Most log entries one metric query may read (default 1,000,000); more → 400 "query too large". */
  maxEntries?: number;
  /** Entries per selectLogs page (default 10,000). */
  pageSize?: number;
}

const DEFAULT_MAX_ENTRIES = 1_000_000;
const DEFAULT_PAGE_SIZE = 10_000;
const NO_METADATA = fieldsAsMetadata(undefined);

export interface StreamEntry {
  timestampNs: bigint;
  line: string;
  /** With `categorize`: the entry's structured metadata and parsed labels. */
  structuredMetadata?: Labels;
  parsed?: Labels;
}

export interface StreamResult {
  stream: Labels;
  entries: StreamEntry[];
}

export interface LogSelectOptions {
  /** Inclusive, ns. */
  startNs: bigint;
  /** Exclusive, ns. */
  endNs: bigint;
  limit: number;
  direction: Direction;
  /**
   * Loki's `categorize-labels` encoding: streams keyed by their stream labels only, each
   * entry carrying its structured metadata and parsed labels. Otherwise all labels are
   * merged into the stream, as Loki answers without the flag.
   */
  categorize?: boolean;
}

/**
 * Runs a log query: at most `limit` entries in `direction` order, grouped by stream in the
 * order each stream first appears, entries within a stream kept in that order. An entry's
 * `fields` are its structured metadata: labels that filters, templates and unwrap can use.
 */
export async function selectLogStreams(
  query: LogQuery,
  reader: LogReader,
  options: LogSelectOptions,
  limits: MetricQueryLimits = {},
): Promise<StreamResult[]> {
  const streams = new Map<string, StreamResult>();
  const add = (e: PipelineEntry): void => {
    let labels: Labels;
    let entry: StreamEntry;
    if (options.categorize) {
      const c = e.categories();
      labels = c.stream;
      entry = { timestampNs: e.timestampNs, line: e.line, structuredMetadata: c.structuredMetadata, parsed: c.parsed };
    } else {
      labels = e.labels;
      entry = { timestampNs: e.timestampNs, line: e.line };
    }
    const key = canonicalLabels(labels);
    let stream = streams.get(key);
    if (!stream) {
      stream = { stream: labels, entries: [] };
      streams.set(key, stream);
    }
    stream.entries.push(entry);
  };
  let kept = 0;
  await scanLogEntries(query, reader, options, limits, (_stored, e) => {
    add(e);
    return ++kept < options.limit;
  });
  return [...streams.values()];
}

/**
 * Pages through a log query's entries in `options.direction` order, running the pipeline,
 * and calls `visit` with each entry that passes (the stored entry and what the pipeline made
 * of it) until it returns false or the range is read. Reads at most `limits.maxEntries`.
 */
export async function scanLogEntries(
  query: LogQuery,
  reader: LogReader,
  options: Omit<LogSelectOptions, 'limit'> & { limit?: number },
  limits: MetricQueryLimits,
  visit: (stored: StoredLogEntry, entry: PipelineEntry) => boolean,
): Promise<void> {
  const pipeline = compilePipeline(query.selector.pipeline);
  const maxEntries = limits.maxEntries ?? DEFAULT_MAX_ENTRIES;
  // Without a pipeline every entry passes: one page of `limit` is enough.
  const plain = query.selector.pipeline.length === 0;
  const pageSize =
    plain && options.limit !== undefined
      ? options.limit
      : Math.max(options.limit ?? 0, Math.min(limits.pageSize ?? DEFAULT_PAGE_SIZE, 1000));
  let read = 0;
  let cursor: string | undefined;
  do {
    const page = await reader.selectLogs({
      matchers: query.selector.matchers,
      lineFilters: query.selector.lineFilters,
      startNs: options.startNs,
      endNs: options.endNs,
      direction: options.direction,
      limit: pageSize,
      ...(cursor === undefined ? {} : { cursor }),
    });
    read += page.entries.length;
    for (const stored of page.entries) {
      const e = new PipelineEntry(stored.message, stored.timestampNs, stored.labels, fieldsAsMetadata(stored.fields));
      if (!pipeline(e)) continue;
      if (!visit(stored, e)) return;
    }
    if (read > maxEntries) throw tooLarge(maxEntries);
    cursor = page.entries.length > 0 ? page.nextCursor : undefined;
  } while (cursor !== undefined);
}

/** Range functions that are sums over a window's entries (see MetricEvaluator.sumGrouping). */
const SUMMABLE_RANGE_OPS = new Set<RangeOp>(['count_over_time', 'rate', 'bytes_over_time', 'bytes_rate']);

function tooLarge(maxEntries: number): QueryError {
  return new QueryError(
    'bad_data',
    `query too large: it would read more than ${maxEntries} log entries; narrow the stream selector, add line filters or shorten the time range`,
  );
}

/** Loki refuses metric queries whose samples carry a pipeline error, naming how to skip it. */
function pipelineError(labels: Labels): QueryError {
  const { [ERROR_DETAILS_LABEL]: _details, ...shown } = labels;
  return badData(
    `pipeline error: '${labels[ERROR_LABEL]}' for series: '${formatLabels(shown)}'. Use a label filter to intentionally skip this error. (e.g | __error__!="${labels[ERROR_LABEL]}"). To skip all potential errors you can match empty errors.(e.g __error__="") The label filter can also be specified after unwrap. (e.g | unwrap latency | __error__="" )`,
  );
}

function formatLabels(labels: Labels): string {
  return `{${Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(', ')}}`;
}

export async function evaluateLogQLInstant(
  expr: MetricExpr,
  reader: LogReader,
  timeNs: bigint,
  limits: MetricQueryLimits = {},
): Promise<QueryResult> {
  const ev = await MetricEvaluator.create(reader, expr, timeNs, timeNs, limits);
  const value = ev.eval(expr, timeNs);
  const t = nsToMs(timeNs);
  switch (value.type) {
    case 'scalar':
      return { resultType: 'scalar', t, value: value.value };
    case 'string':
      return { resultType: 'string', t, value: value.value };
    case 'vector':
      return { resultType: 'vector', t, samples: value.samples };
  }
}

export async function evaluateLogQLRange(
  expr: MetricExpr,
  reader: LogReader,
  startNs: bigint,
  endNs: bigint,
  stepNs: bigint,
  limits: MetricQueryLimits = {},
): Promise<QueryResult> {
  checkLokiRange(startNs, endNs, stepNs);
  const ev = await MetricEvaluator.create(reader, expr, startNs, endNs, limits);
  const matrix = new MatrixBuilder();
  for (let t = startNs; t <= endNs; t += stepNs) matrix.add(nsToMs(t), ev.eval(expr, t));
  return { resultType: 'matrix', series: matrix.build() };
}

/** Loki's checks on start/end/step of a metric range query. */
export function checkLokiRange(startNs: bigint, endNs: bigint, stepNs: bigint): void {
  if (endNs < startNs) throw badData('invalid parameter "end": end timestamp must not be before start time');
  if (stepNs <= 0n) {
    throw badData('invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer');
  }
  if ((endNs - startNs) / stepNs > BigInt(MAX_POINTS_PER_SERIES)) {
    throw badData(
      `exceeded maximum resolution of ${MAX_POINTS_PER_SERIES.toLocaleString('en-US')} points per timeseries. Try increasing the value of the step parameter`,
    );
  }
}

/** One series of a range aggregation: ascending timestamps, byte sizes and unwrapped values. */
interface SeriesIndex {
  labels: Labels;
  ts: bigint[];
  /** bytesBefore[i] = total bytes of entries 0..i-1; length ts.length + 1. */
  bytesBefore: number[];
  /** Unwrapped values, parallel to ts (empty without unwrap). */
  values: number[];
}

const UNWRAP_CONVERTERS: Record<Unwrap['conversion'], (text: string) => number | undefined> = {
  number: parseNumber,
  duration: parseDurationSeconds,
  bytes: parseBytes,
};

class MetricEvaluator {
  private readonly data = new Map<RangeAggregation, SeriesIndex[]>();
  private entriesRead = 0;
  /**
   * Range aggregations under a `sum by/without`, whose entries load straight into the
   * sum's groups: count_over_time, rate, bytes_over_time and bytes_rate are sums over
   * the entries of a window, so the sum of them over the series of a group is the same
   * function over the group's merged entries. A `| json` leaves about one series per
   * line, and windows over a million one-entry series cost far more than over the groups.
   */
  private readonly sumGrouping = new Map<RangeAggregation, { labels: string[]; without: boolean }>();
  private readonly maxEntries: number;
  private readonly pageSize: number;

  private constructor(
    private readonly reader: LogReader,
    limits: MetricQueryLimits,
  ) {
    this.maxEntries = limits.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.pageSize = limits.pageSize ?? DEFAULT_PAGE_SIZE;
  }

  /** An evaluator with every range aggregation of `expr` loaded (storage reads are async). */
  static async create(
    reader: LogReader,
    expr: MetricExpr,
    startNs: bigint,
    endNs: bigint,
    limits: MetricQueryLimits,
  ): Promise<MetricEvaluator> {
    const ev = new MetricEvaluator(reader, limits);
    await ev.prefetch(expr, startNs, endNs);
    return ev;
  }

  private async prefetch(expr: MetricExpr, startNs: bigint, endNs: bigint): Promise<void> {
    switch (expr.type) {
      case 'rangeAggregation':
        await this.load(expr, startNs, endNs);
        return;
      case 'vectorAggregation':
        if (expr.op === 'sum' && expr.expr.type === 'rangeAggregation' && SUMMABLE_RANGE_OPS.has(expr.expr.op) && !expr.expr.unwrap) {
          this.sumGrouping.set(expr.expr, { labels: expr.grouping, without: expr.without });
        }
        await this.prefetch(expr.expr, startNs, endNs);
        return;
      case 'labelReplace':
        await this.prefetch(expr.expr, startNs, endNs);
        return;
      case 'binary':
        await this.prefetch(expr.lhs, startNs, endNs);
        await this.prefetch(expr.rhs, startNs, endNs);
        return;
      case 'number':
      case 'vector':
        return;
    }
  }

  /**
   * Pages through (start - range - offset, end - offset] once, forward, running the pipeline
   * and the unwrap on each entry. Series are keyed by their final labels, or by the grouping
   * labels of an unwrapped `by`/`without`, so a window over a series is the window Loki groups.
   */
  private async load(expr: RangeAggregation, startNs: bigint, endNs: bigint): Promise<void> {
    const series = new Map<string, { labels: Labels; ts: bigint[]; bytes: number[]; values: number[] }>();
    const pipeline = expr.selector.pipeline.length > 0 ? compilePipeline(expr.selector.pipeline) : undefined;
    const unwrap = expr.unwrap;
    const convert = unwrap ? UNWRAP_CONVERTERS[unwrap.conversion] : undefined;
    const postFilters = unwrap ? unwrap.postFilters.map(compileLabelFilter) : [];
    const grouping = expr.grouping ?? this.sumGrouping.get(expr);
    let cursor: string | undefined;
    do {
      const page = await this.reader.selectLogs({
        matchers: expr.selector.matchers,
        lineFilters: expr.selector.lineFilters,
        startNs: startNs - expr.rangeNs - expr.offsetNs,
        endNs: endNs - expr.offsetNs + 1n,
        direction: 'forward',
        limit: this.pageSize,
        ...(cursor === undefined ? {} : { cursor }),
      });
      this.entriesRead += page.entries.length;
      if (this.entriesRead > this.maxEntries) throw tooLarge(this.maxEntries);
      entries: for (const entry of page.entries) {
        let labels: Labels = entry.labels;
        let line = entry.message;
        let value = 0;
        const metadata = fieldsAsMetadata(entry.fields);
        if (pipeline || unwrap || metadata !== NO_METADATA) {
          const e = new PipelineEntry(line, entry.timestampNs, labels, metadata);
          if (pipeline && !pipeline(e)) continue;
          if (unwrap) {
            const text = e.labels[unwrap.label];
            const v = text === undefined ? undefined : convert!(text);
            if (v === undefined) {
              e.setError(
                'SampleExtractionErr',
                `cannot convert ${JSON.stringify(text ?? '')} of label ${unwrap.label} to a ${unwrap.conversion}`,
              );
            } else {
              value = v;
            }
            delete e.labels[unwrap.label];
            for (const f of postFilters) if (!f(e)) continue entries;
          }
          if (e.hasError()) throw pipelineError(e.labels);
          labels = dropEmptyErrors(e.labels);
          line = e.line;
        }
        if (grouping) labels = groupLabels(labels, grouping.labels, grouping.without);
        const key = canonicalLabels(labels);
        let s = series.get(key);
        if (!s) {
          s = { labels, ts: [], bytes: [], values: [] };
          series.set(key, s);
        }
        s.ts.push(entry.timestampNs);
        s.bytes.push(Buffer.byteLength(line, 'utf8'));
        if (unwrap) s.values.push(value);
      }
      cursor = page.entries.length > 0 ? page.nextCursor : undefined;
    } while (cursor !== undefined);

    const index: SeriesIndex[] = [];
    for (const s of series.values()) {
      let order = s.ts.map((_, i) => i);
      if (!isAscending(s.ts)) order = order.sort((a, b) => (s.ts[a]! < s.ts[b]! ? -1 : s.ts[a]! > s.ts[b]! ? 1 : 0));
      const ts = order.map((i) => s.ts[i]!);
      const bytesBefore = [0];
      for (const i of order) bytesBefore.push(bytesBefore[bytesBefore.length - 1]! + s.bytes[i]!);
      const values = unwrap ? order.map((i) => s.values[i]!) : [];
      index.push({ labels: s.labels, ts, bytesBefore, values });
    }
    this.data.set(expr, index);
  }

  eval(expr: MetricExpr, t: bigint): Value {
    switch (expr.type) {
      case 'number':
        return { type: 'scalar', value: expr.value };
      case 'vector':
        return { type: 'vector', samples: [{ metric: {}, value: expr.value }] };
      case 'rangeAggregation':
        return { type: 'vector', samples: this.rangeAggregation(expr, t) };
      case 'vectorAggregation': {
        const input = this.eval(expr.expr, t);
        if (input.type !== 'vector') throw new QueryError('internal', 'aggregation over a non-vector');
        return { type: 'vector', samples: aggregateLog(expr.op, input.samples, expr.grouping, expr.without, expr.param) };
      }
      case 'labelReplace': {
        const input = this.eval(expr.expr, t);
        if (input.type !== 'vector') throw new QueryError('internal', 'label_replace over a non-vector');
        return { type: 'vector', samples: labelReplace(expr, input.samples) };
      }
      case 'binary':
        return binaryOp(expr.op, this.eval(expr.lhs, t), this.eval(expr.rhs, t), expr.returnBool, expr.matching);
    }
  }

  private rangeAggregation(expr: RangeAggregation, t: bigint): InstantSample[] {
    const end = t - expr.offsetNs;
    const start = end - expr.rangeNs;
    const rangeSeconds = Number(expr.rangeNs) / 1e9;
    const all = this.data.get(expr) ?? [];
    if (expr.op === 'absent_over_time') {
      const present = all.some((s) => upperBound(s.ts, end) > upperBound(s.ts, start));
      return present ? [] : [{ metric: absentLabels(expr), value: 1 }];
    }
    const fn = RANGE_FUNCTIONS[expr.op][expr.unwrap ? 'unwrapped' : 'log'];
    const out: InstantSample[] = [];
    for (const s of all) {
      const lo = upperBound(s.ts, start);
      const hi = upperBound(s.ts, end);
      if (hi <= lo) continue;
      const window: Window = { ts: s.ts, values: s.values, bytesBefore: s.bytesBefore, lo, hi, startNs: start, endNs: end, rangeSeconds };
      if (expr.param !== undefined) window.param = expr.param;
      const value = fn(window);
      if (expr.op === 'rate_counter' && Number.isNaN(value)) continue;
      out.push({ metric: s.labels, value });
    }
    return out;
  }
}

/** Empty `__error__`/`__error_details__` (an error dropped or never set) are not labels. */
function dropEmptyErrors(labels: Labels): Labels {
  if (labels[ERROR_LABEL] === undefined && labels[ERROR_DETAILS_LABEL] === undefined) return labels;
  const out = { ...labels };
  if (!out[ERROR_LABEL]) delete out[ERROR_LABEL];
  if (!out[ERROR_DETAILS_LABEL]) delete out[ERROR_DETAILS_LABEL];
  return out;
}

function groupLabels(labels: Labels, names: string[], without: boolean): Labels {
  const out: Labels = {};
  if (without) {
    for (const [k, v] of Object.entries(labels)) if (!names.includes(k)) out[k] = v;
  } else {
    for (const k of names) if (labels[k] !== undefined) out[k] = labels[k];
  }
  return out;
}

/** absent_over_time's labels: the selector's equality matchers, as Prometheus' absent(). */
function absentLabels(expr: RangeAggregation): Labels {
  const out: Labels = {};
  const seen = new Set<string>();
  for (const m of expr.selector.matchers) {
    if (m.op === '=' && !seen.has(m.name)) out[m.name] = m.value;
    else delete out[m.name];
    seen.add(m.name);
  }
  return out;
}

function isAscending(ts: bigint[]): boolean {
  for (let i = 1; i < ts.length; i++) if (ts[i]! < ts[i - 1]!) return false;
  return true;
}

/** Index of the first element greater than x. */
function upperBound(arr: readonly bigint[], x: bigint): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
