/**
 * The query evaluations that run under limits, as a table: the same functions run in a
 * worker thread (worker.ts) or in process (engine.ts). Arguments and results are plain data,
 * so they cross a thread boundary by structured clone.
 */
import type { LogReader, MetricReader, SampleSelection, SeriesSamples, StorageReader } from '../../storage/reader.js';
import {
  evaluateLogQLInstant,
  evaluateLogQLRange,
  selectLogStreams,
  type LogSelectOptions,
  type MetricQueryLimits,
} from '../logql/evaluate.js';
import { sampleFields, type FieldSampleOptions } from '../logql/detected.js';
import { parseLogQL } from '../logql/parse.js';
import { minePatterns, type PatternQueryOptions } from '../logql/patterns.js';
import { volume, volumeRange, type VolumeQuery } from '../logql/volume.js';
import { evaluateInstant, evaluateRange } from '../promql/evaluate.js';
import { QueryError } from '../promql/errors.js';
import { parsePromQL } from '../promql/parse.js';

export type JobReader = Pick<MetricReader, 'selectSamples'> & Pick<LogReader, 'selectLogs'>;

/** The evaluators read samples and log pages only; metadata reads stay with the HTTP layer. */
function full(reader: JobReader): StorageReader {
  const none = (): never => {
    throw new QueryError('internal', 'metadata reads are not available to a query job');
  };
  return {
    ...reader,
    series: none,
    metricLabelNames: none,
    metricLabelValues: none,
    metricMetadata: none,
    logStreams: none,
    logLabelNames: none,
    logLabelValues: none,
    logStats: none,
  };
}

function logql(query: string) {
  const expr = parseLogQL(query);
  if (expr.type === 'logs') throw new QueryError('internal', 'expected a LogQL metric query');
  return expr;
}

function logs(query: string) {
  const expr = parseLogQL(query);
  if (expr.type !== 'logs') throw new QueryError('internal', 'expected a LogQL log query');
  return expr;
}

export const JOBS = {
  promqlInstant: (reader: JobReader, a: { query: string; timeMs: number }) => evaluateInstant(parsePromQL(a.query), full(reader), a.timeMs),
  promqlRange: (reader: JobReader, a: { query: string; startMs: number; endMs: number; stepMs: number }) =>
    evaluateRange(parsePromQL(a.query), full(reader), a.startMs, a.endMs, a.stepMs),
  logqlInstant: (reader: JobReader, a: { query: string; timeNs: bigint; limits: MetricQueryLimits }) =>
    evaluateLogQLInstant(logql(a.query), full(reader), a.timeNs, a.limits),
  logqlRange: (reader: JobReader, a: { query: string; startNs: bigint; endNs: bigint; stepNs: bigint; limits: MetricQueryLimits }) =>
    evaluateLogQLRange(logql(a.query), full(reader), a.startNs, a.endNs, a.stepNs, a.limits),
  logStreams: (reader: JobReader, a: { query: string; options: LogSelectOptions; limits?: MetricQueryLimits }) =>
    selectLogStreams(logs(a.query), full(reader), a.options, a.limits),
  logPatterns: (reader: JobReader, a: { query: string; options: PatternQueryOptions; limits?: MetricQueryLimits }) =>
    minePatterns(logs(a.query), full(reader), a.options, a.limits),
  detectedFields: async (reader: JobReader, a: { query: string; options: FieldSampleOptions; limit: number; limits?: MetricQueryLimits }) =>
    (await sampleFields(logs(a.query), full(reader), a.options, a.limits)).result(a.limit),
  detectedFieldValues: async (
    reader: JobReader,
    a: { query: string; options: FieldSampleOptions; name: string; limit: number; limits?: MetricQueryLimits },
  ) => (await sampleFields(logs(a.query), full(reader), a.options, a.limits)).values(a.name).slice(0, a.limit),
  logVolume: (reader: JobReader, a: VolumeQuery & { startNs: bigint; endNs: bigint; limit: number; limits?: MetricQueryLimits }) =>
    volume(a, full(reader), a.limits),
  logVolumeRange: (reader: JobReader, a: VolumeQuery & { startNs: bigint; endNs: bigint; stepNs: bigint; limits?: MetricQueryLimits }) =>
    volumeRange(a, full(reader), a.limits),
};

export type JobKind = keyof typeof JOBS;
export type JobArgs<K extends JobKind> = Parameters<(typeof JOBS)[K]>[1];
export type JobResult<K extends JobKind> = Awaited<ReturnType<(typeof JOBS)[K]>>;

function tooManySamples(): QueryError {
  return new QueryError('execution', 'query processing would load too many samples into memory in query execution');
}

/** Prometheus' --query.max-samples, counted over the samples a query loads from storage. */
export function countingReader(reader: JobReader, maxSamples: number): JobReader {
  let loaded = 0;
  return {
    selectLogs: (selection) => reader.selectLogs(selection),
    async selectSamples(selection: SampleSelection): Promise<SeriesSamples[]> {
      // The reader may stop at what is left, so a huge read never loads everything first.
      let series: SeriesSamples[];
      try {
        series = await reader.selectSamples({ ...selection, maxSamples: maxSamples - loaded });
      } catch (error) {
        throw (error as Error | undefined)?.name === 'SampleLimitError' ? tooManySamples() : error;
      }
      for (const s of series) loaded += s.timestampsMs.length;
      if (loaded > maxSamples) throw tooManySamples();
      return series;
    },
  };
}

/** An error as plain data, to cross a thread boundary (classes do not survive structured clone). */
export interface ErrorData {
  name: string;
  message: string;
  type?: QueryError['type'];
  unsupported?: boolean;
  status?: number;
}

export function errorData(error: unknown): ErrorData {
  if (error instanceof QueryError) return { name: 'QueryError', message: error.message, type: error.type, unsupported: error.unsupported };
  const e = error instanceof Error ? error : new Error(String(error));
  const status = (e as { status?: unknown }).status;
  return { name: e.name, message: e.message, ...(typeof status === 'number' ? { status } : {}) };
}

export function fromErrorData(data: ErrorData): Error {
  if (data.name === 'QueryError' && data.type) return new QueryError(data.type, data.message, data.unsupported ?? false);
  const error = data.name === 'RangeError' ? new RangeError(data.message) : new Error(data.message);
  if (data.status !== undefined) Object.assign(error, { status: data.status });
  return error;
}
