/**
 * Step aggregation for the native metrics endpoint. Each step t aggregates the samples of
 * a series in (t - step, t]; `by` then combines series that share those label values.
 */
import type { Labels } from '../../model/types.js';
import type { SeriesSamples } from '../../storage/reader.js';

export const AGGREGATIONS = ['avg', 'min', 'max', 'sum', 'count', 'rate'] as const;
export type Aggregation = (typeof AGGREGATIONS)[number];

export interface StepQuery {
  startMs: number;
  endMs: number;
  stepMs: number;
  aggregation: Aggregation;
  /** Group series by these labels (others dropped); absent: every series on its own. */
  by?: string[];
}

export interface AggregatedSeries {
  labels: Labels;
  points: Array<[number, number]>;
}

export function aggregateSeries(input: readonly SeriesSamples[], query: StepQuery): AggregatedSeries[] {
  const perSeries = input.map((s) => ({ labels: s.labels, values: stepValues(withoutMarkers(s), query) }));
  if (!query.by) return perSeries.map((s) => ({ labels: s.labels, points: toPoints(s.values, query) }));
  const groups = new Map<string, { labels: Labels; members: Array<Map<number, number>> }>();
  for (const s of perSeries) {
    const labels: Labels = {};
    for (const name of query.by) if (s.labels[name] !== undefined) labels[name] = s.labels[name]!;
    const key = JSON.stringify(labels);
    const group = groups.get(key) ?? { labels, members: [] };
    group.members.push(s.values);
    groups.set(key, group);
  }
  return [...groups.values()].map((g) => ({ labels: g.labels, points: toPoints(combine(g.members, query.aggregation), query) }));
}

/** A staleness marker says a series ended; it is no sample to average or count. */
function withoutMarkers(series: SeriesSamples): SeriesSamples {
  if (!series.staleTimestampsMs?.length) return series;
  const stale = new Set(series.staleTimestampsMs);
  const keep = series.timestampsMs.map((t) => !stale.has(t));
  return {
    labels: series.labels,
    timestampsMs: series.timestampsMs.filter((_, i) => keep[i]),
    values: series.values.filter((_, i) => keep[i]),
  };
}

/** step timestamp → value for one series; steps without samples are absent. */
function stepValues(series: SeriesSamples, q: StepQuery): Map<number, number> {
  const out = new Map<number, number>();
  const ts = series.timestampsMs;
  const vs = series.values;
  let i = 0;
  for (let t = q.startMs; t <= q.endMs; t += q.stepMs) {
    while (i < ts.length && ts[i]! <= t - q.stepMs) i++;
    let j = i;
    while (j < ts.length && ts[j]! <= t) j++;
    if (j > i) {
      const value = reduce(vs, i, j, ts, q);
      if (value !== undefined) out.set(t, value);
    }
    i = j;
  }
  return out;
}

function reduce(vs: readonly number[], from: number, to: number, ts: readonly number[], q: StepQuery): number | undefined {
  switch (q.aggregation) {
    case 'count':
      return to - from;
    case 'sum':
    case 'avg': {
      let sum = 0;
      for (let k = from; k < to; k++) sum += vs[k]!;
      return q.aggregation === 'sum' ? sum : sum / (to - from);
    }
    case 'min':
    case 'max': {
      let best = vs[from]!;
      for (let k = from + 1; k < to; k++) best = q.aggregation === 'min' ? Math.min(best, vs[k]!) : Math.max(best, vs[k]!);
      return best;
    }
    case 'rate': {
      // Per-second increase of a counter between the first and last sample of the window,
      // with counter resets (a drop) counted as a restart from zero. Needs two samples.
      if (to - from < 2) return undefined;
      let increase = 0;
      for (let k = from + 1; k < to; k++) increase += vs[k]! >= vs[k - 1]! ? vs[k]! - vs[k - 1]! : vs[k]!;
      return increase / ((ts[to - 1]! - ts[from]!) / 1000);
    }
  }
}

function combine(members: Array<Map<number, number>>, aggregation: Aggregation): Map<number, number> {
  const out = new Map<number, number>();
  const counts = new Map<number, number>();
  for (const m of members) {
    for (const [t, v] of m) {
      const prev = out.get(t);
      counts.set(t, (counts.get(t) ?? 0) + 1);
      if (prev === undefined) out.set(t, v);
      else if (aggregation === 'min') out.set(t, Math.min(prev, v));
      else if (aggregation === 'max') out.set(t, Math.max(prev, v));
      else out.set(t, prev + v); // sum, count, rate and avg (divided below)
    }
  }
  if (aggregation === 'avg') for (const [t, v] of out) out.set(t, v / counts.get(t)!);
  return out;
}

function toPoints(values: Map<number, number>, q: StepQuery): Array<[number, number]> {
  const points: Array<[number, number]> = [];
  for (let t = q.startMs; t <= q.endMs; t += q.stepMs) {
    const v = values.get(t);
    if (v !== undefined) points.push([t, v]);
  }
  return points;
}
