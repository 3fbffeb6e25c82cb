/**
 * Prometheus' JSON encoding of query results: timestamps as float seconds, values as strings
 * formatted like Go's strconv.FormatFloat(v, 'f', -1, 64) ("NaN", "+Inf", no exponents).
 */
import type { Labels } from '../../model/types.js';
import type { QueryResult, Series } from './evaluate.js';

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (Object.is(v, -0)) return '-0';
  const text = String(v);
  const e = text.indexOf('e');
  if (e < 0) return text;
  // Expand the shortest round-trip digits JavaScript chose into plain decimal notation.
  const negative = text.startsWith('-');
  const mantissa = text.slice(negative ? 1 : 0, e);
  const exponent = Number(text.slice(e + 1));
  const dot = mantissa.indexOf('.');
  const digits = mantissa.replace('.', '');
  const pointAt = (dot < 0 ? mantissa.length : dot) + exponent;
  let out: string;
  if (pointAt <= 0) out = `0.${'0'.repeat(-pointAt)}${digits}`;
  else if (pointAt >= digits.length) out = digits + '0'.repeat(pointAt - digits.length);
  else out = `${digits.slice(0, pointAt)}.${digits.slice(pointAt)}`;
  return negative ? `-${out}` : out;
}

/**
 * Go's `%v` of a float64, as Prometheus' error messages print numbers: the shortest
 * round-trip digits, in exponent form (two-digit exponent at least) when the decimal exponent
 * is below -4 or 6 and above.
 */
export function formatGoFloat(v: number): string {
  if (!Number.isFinite(v) || v === 0) return formatValue(v);
  const [mantissa, exponentText] = v.toExponential().split('e') as [string, string];
  const exponent = Number(exponentText);
  if (exponent >= -4 && exponent < 6) return String(v);
  const sign = exponent < 0 ? '-' : '+';
  return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, '0')}`;
}

/** Milliseconds → the float seconds Prometheus puts in JSON. */
export function formatTime(ms: number): number {
  return ms / 1000;
}

export type JsonSample = [number, string];

export interface PrometheusData {
  resultType: QueryResult['resultType'];
  result: unknown;
}

export function formatSeries(series: Series[]): { metric: Labels; values: JsonSample[] }[] {
  return series.map((s) => ({ metric: s.metric, values: s.points.map((p): JsonSample => [formatTime(p.t), formatValue(p.v)]) }));
}

/** `data` of a successful /query or /query_range reply. */
export function formatResult(result: QueryResult): PrometheusData {
  switch (result.resultType) {
    case 'scalar':
      return { resultType: 'scalar', result: [formatTime(result.t), formatValue(result.value)] };
    case 'string':
      return { resultType: 'string', result: [formatTime(result.t), result.value] };
    case 'vector':
      return {
        resultType: 'vector',
        result: result.samples.map((s) => ({ metric: s.metric, value: [formatTime(result.t), formatValue(s.value)] })),
      };
    case 'matrix':
      return { resultType: 'matrix', result: formatSeries(result.series) };
  }
}
