/**
 * Compares Sextant's answers with the oracle's: the same result type, the same label sets,
 * the same timestamps, values equal to 1e-9 relative (NaN equal to NaN), and for errors the
 * same errorType. Vector element order is compared only where PromQL defines it (sort*).
 */
import { canonicalLabels } from '../../runtime/src/model/labels.js';
import type { OracleAnswer } from './oracle.js';

export type Answer =
  | { kind: 'error'; errorType: string; message: string; status?: number }
  | { kind: 'scalar' | 'string'; t: number; v: string }
  | { kind: 'vector'; samples: { metric: Record<string, string>; t: number; v: string }[] }
  | { kind: 'matrix'; series: { metric: Record<string, string>; points: [number, string][] }[] };

export function fromOracle(a: OracleAnswer): Answer {
  if (a.status === 'error') return { kind: 'error', errorType: a.errorType, message: a.error };
  switch (a.resultType) {
    case 'scalar':
    case 'string':
      return { kind: a.resultType, t: a.result.t ?? 0, v: a.result.v ?? '' };
    case 'vector':
      return { kind: 'vector', samples: a.result.map((s) => ({ metric: s.metric ?? {}, t: s.t ?? 0, v: s.v })) };
    case 'matrix':
      return { kind: 'matrix', series: a.result.map((s) => ({ metric: s.metric ?? {}, points: s.values })) };
  }
}

const ms = (seconds: number): number => Math.round(seconds * 1000);

/** A Prometheus HTTP API body (`/api/v1/query`, `/query_range`) as an Answer. */
interface ApiBody {
  status?: string;
  errorType?: string;
  error?: string;
  data: { resultType: string; result: unknown };
}
type ApiSample = { metric: Record<string, string>; value: [number, string]; values: [number, string][] };

export function fromPrometheusApi(status: number, json: unknown): Answer {
  const body = json as ApiBody;
  if (body?.status !== 'success') return { kind: 'error', errorType: String(body?.errorType), message: String(body?.error), status };
  const resultType = body.data.resultType;
  const result = body.data.result as ApiSample[] & [number, string];
  switch (resultType) {
    case 'scalar':
    case 'string':
      return { kind: resultType, t: ms(result[0]), v: result[1] };
    case 'vector':
      return { kind: 'vector', samples: result.map((s) => ({ metric: s.metric, t: ms(s.value[0]), v: s.value[1] })) };
    case 'matrix':
      return {
        kind: 'matrix',
        series: result.map((s) => ({ metric: s.metric, points: s.values.map(([t, v]: [number, string]) => [ms(t), v]) })),
      };
  }
  return { kind: 'error', errorType: 'internal', message: `unknown resultType ${resultType}` };
}

function toNumber(v: string): number {
  if (v === '+Inf' || v === 'Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  return Number(v);
}

/** Equal to 1e-9 relative; NaN equals NaN; below 1e-12 in magnitude both count as zero. */
export function closeEnough(a: string, b: string): boolean {
  const x = toNumber(a);
  const y = toNumber(b);
  if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) && Number.isNaN(y);
  if (x === y) return true;
  if (!Number.isFinite(x) || !Number.isFinite(y)) return false;
  const scale = Math.max(Math.abs(x), Math.abs(y));
  return scale < 1e-12 || Math.abs(x - y) <= 1e-9 * scale;
}

/** undefined when the answers agree, else what differs (for the failure message). */
export function difference(expected: Answer, actual: Answer, ordered: boolean): string | undefined {
  if (expected.kind === 'error' || actual.kind === 'error') {
    if (expected.kind !== 'error')
      return `oracle answered ${expected.kind}, sextant failed: ${actual.kind === 'error' ? `${actual.errorType}: ${actual.message}` : ''}`;
    if (actual.kind !== 'error') return `oracle failed (${expected.errorType}: ${expected.message}), sextant answered ${actual.kind}`;
    return expected.errorType === actual.errorType
      ? undefined
      : `errorType ${actual.errorType} (${actual.message}), oracle ${expected.errorType} (${expected.message})`;
  }
  if (expected.kind !== actual.kind) return `resultType ${actual.kind}, oracle ${expected.kind}`;
  if (expected.kind === 'scalar' || expected.kind === 'string') {
    const a = actual as typeof expected;
    if (a.t !== expected.t) return `time ${a.t}, oracle ${expected.t}`;
    if (expected.kind === 'string' ? a.v !== expected.v : !closeEnough(expected.v, a.v)) return `value ${a.v}, oracle ${expected.v}`;
    return undefined;
  }
  if (expected.kind === 'vector') {
    const a = actual as typeof expected;
    const want = new Map(expected.samples.map((s) => [canonicalLabels(s.metric), s]));
    const got = new Map(a.samples.map((s) => [canonicalLabels(s.metric), s]));
    if (got.size !== a.samples.length) return 'sextant answered duplicate label sets';
    for (const [key, s] of want) {
      const g = got.get(key);
      if (!g) return `missing ${JSON.stringify(s.metric)} (oracle ${s.v})`;
      if (g.t !== s.t) return `${JSON.stringify(s.metric)}: time ${g.t}, oracle ${s.t}`;
      if (!closeEnough(s.v, g.v)) return `${JSON.stringify(s.metric)}: value ${g.v}, oracle ${s.v}`;
    }
    for (const [key, g] of got) if (!want.has(key)) return `unexpected ${JSON.stringify(g.metric)} = ${g.v}`;
    if (ordered) {
      for (let i = 0; i < expected.samples.length; i++) {
        if (!closeEnough(expected.samples[i]!.v, a.samples[i]!.v)) {
          return `order: element ${i} is ${a.samples[i]!.v}, oracle ${expected.samples[i]!.v}`;
        }
      }
    }
    return undefined;
  }
  const e = expected as Extract<Answer, { kind: 'matrix' }>;
  const a = actual as Extract<Answer, { kind: 'matrix' }>;
  const want = new Map(e.series.map((s) => [canonicalLabels(s.metric), s]));
  const got = new Map(a.series.map((s) => [canonicalLabels(s.metric), s]));
  if (got.size !== a.series.length) return 'sextant answered duplicate series';
  for (const [key, s] of want) {
    const g = got.get(key);
    if (!g) return `missing series ${JSON.stringify(s.metric)} (${s.points.length} points)`;
    if (g.points.length !== s.points.length) {
      const gt = new Set(g.points.map((p) => p[0]));
      const st = new Set(s.points.map((p) => p[0]));
      const extra = g.points.find((p) => !st.has(p[0]));
      const lost = s.points.find((p) => !gt.has(p[0]));
      return `${JSON.stringify(s.metric)}: ${g.points.length} points, oracle ${s.points.length} (extra ${JSON.stringify(extra)}, missing ${JSON.stringify(lost)})`;
    }
    for (let i = 0; i < s.points.length; i++) {
      const [et, ev] = s.points[i]!;
      const [gt, gv] = g.points[i]!;
      if (et !== gt) return `${JSON.stringify(s.metric)}: point ${i} at ${gt}, oracle at ${et}`;
      if (!closeEnough(ev, gv)) return `${JSON.stringify(s.metric)}: value ${gv} at ${gt}, oracle ${ev}`;
    }
  }
  for (const [key, g] of got) if (!want.has(key)) return `unexpected series ${JSON.stringify(g.metric)}`;
  return undefined;
}

/** Whether PromQL defines the order of a query's result vector. */
export function isOrdered(query: string): boolean {
  return /^\s*sort(_desc)?\s*\(/.test(query);
}
