/**
 * Query limits, as Prometheus has them (`--query.timeout`, `--query.max-samples`,
 * `--query.max-concurrency`), read from `query:` in `sextant up`'s file and in the runtime
 * configuration.
 */
import * as t from 'io-ts';
import { parseDuration } from '../../common/duration.js';

export const QueryLimitsConfig = t.exact(
  t.partial({
    /** Deadline of one query, queueing included (Prometheus duration, default 2m). */
    timeout: t.string,
    /** Most samples one query may load (default 50,000,000) -> 422. */
    maxSamples: t.number,
    /** Queries evaluated at once (default 20); more wait in a queue, within their deadline. */
    maxConcurrency: t.number,
  }),
  'QueryLimits',
);
export type QueryLimitsConfig = t.TypeOf<typeof QueryLimitsConfig>;

export interface QueryLimits {
  timeoutMs: number;
  maxSamples: number;
  maxConcurrency: number;
}

export const DEFAULT_QUERY_LIMITS: QueryLimits = { timeoutMs: 2 * 60_000, maxSamples: 50_000_000, maxConcurrency: 20 };

/** The runtime configuration's `query` block (already validated), with defaults filled in. */
export function queryLimits(query: {
  timeout?: number | undefined;
  maxSamples?: number | undefined;
  maxConcurrency?: number | undefined;
}): QueryLimits {
  return {
    timeoutMs: query.timeout ?? DEFAULT_QUERY_LIMITS.timeoutMs,
    maxSamples: query.maxSamples ?? DEFAULT_QUERY_LIMITS.maxSamples,
    maxConcurrency: query.maxConcurrency ?? DEFAULT_QUERY_LIMITS.maxConcurrency,
  };
}

/** `sextant up`'s `query:` block with defaults filled in; problems are pushed to `errors` with their path. */
export function resolveQueryLimits(raw: QueryLimitsConfig | undefined, path: string, errors: string[]): QueryLimits {
  const limits = { ...DEFAULT_QUERY_LIMITS };
  if (raw?.timeout !== undefined) {
    const ms = parseDuration(raw.timeout);
    if (ms === undefined || !(ms > 0))
      errors.push(`${path}.timeout: invalid duration ${JSON.stringify(raw.timeout)}, expected e.g. 30s or 2m`);
    else limits.timeoutMs = ms;
  }
  const count = (value: number | undefined, name: 'maxSamples' | 'maxConcurrency'): void => {
    if (value === undefined) return;
    if (!Number.isInteger(value) || value < 1) errors.push(`${path}.${name}: must be a positive integer, got ${value}`);
    else limits[name] = value;
  };
  count(raw?.maxSamples, 'maxSamples');
  count(raw?.maxConcurrency, 'maxConcurrency');
  return limits;
}
