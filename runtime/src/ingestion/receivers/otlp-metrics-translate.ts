/**
 * An OTLP `ExportMetricsServiceRequest` (protobufjs-decoded or OTLP JSON, both camelCase) →
 * Prometheus samples, as Prometheus' OTLP receiver translates it (names in
 * otel-prometheus-names.ts):
 *
 * - labels: the point's attributes by their Prometheus names (two attributes with one name:
 *   the values joined with `;` in the order of the attribute names), `otel_scope_name` and
 *   `otel_scope_version`, then `job` (`service.namespace/service.name`, or `service.name`)
 *   and `instance` (`service.instance.id`) from the resource; an empty value is no label;
 * - gauges and cumulative sums: one sample per point (a monotonic sum is a counter,
 *   `_total`); explicit-bucket histograms: `_bucket{le}` with cumulative counts up to
 *   `le="+Inf"` = count, `_sum` (when sent) and `_count`; summaries: `{quantile}`, `_sum`,
 *   `_count`;
 * - a point flagged NO_RECORDED_VALUE is a staleness marker on each of its series (a NaN
 *   value is stored as NaN: it is a value);
 * - a resource with attributes other than the three that make job and instance gets a
 *   `target_info` gauge (value 1) carrying them, at the first and last timestamp of its
 *   stored points and every 2.5 minutes between (half of PromQL's lookback), so that a join
 *   on it finds a sample wherever the resource has one;
 * - timestamps in ms (ns / 10^6, truncated), as Prometheus.
 *
 * Refused, with the rest of the request stored (OTLP partial success): points of delta or
 * unspecified temporality (Sextant stores cumulative series and does not accumulate deltas),
 * exponential-histogram points (no native histograms), and points that break the rules or
 * limits (no timestamp, out of the time limits, a name with no Prometheus form, labels over
 * the limits, inconsistent histogram buckets). Each refusal names its point by path.
 */
import { HttpError } from '../../common/http-error.js';
import { checkLabels } from '../../model/labels.js';
import { MAX_REPORTED_ERRORS } from '../../model/records.js';
import { STALE_NAN } from '../../model/stale.js';
import type { Labels, MetricMetadata, MetricType, Sample } from '../../model/types.js';
import { asList, asObj, attributes, double, has, int64, type Obj } from './otlp-common.js';
import { formatFloat, labelName, metricName, prometheusUnit, type MetricKind } from './otel-prometheus-names.js';
import type { DecodeContext, DropKind } from './receiver.js';

/** More data points than this in one request is a 413 (the Collector's batch processor sends 8,192 by default). */
export const MAX_POINTS_PER_REQUEST = 50_000;

/** OTLP DataPointFlags.FLAG_NO_RECORDED_VALUE_MASK. */
const NO_RECORDED_VALUE = 1;
const CUMULATIVE = 2;
const TEMPORALITY_NAMES: Record<string, number> = {
  AGGREGATION_TEMPORALITY_UNSPECIFIED: 0,
  AGGREGATION_TEMPORALITY_DELTA: 1,
  AGGREGATION_TEMPORALITY_CUMULATIVE: 2,
};
/** The resource attributes that make `job` and `instance`, kept out of target_info. */
const IDENTIFYING = new Set(['service.name', 'service.namespace', 'service.instance.id']);
const TARGET_INFO_STEP_MS = 150_000;
/** target_info samples per resource at most (a backfill of days would otherwise write thousands). */
const MAX_TARGET_INFO_SAMPLES = 100;

export interface Translated {
  samples: Sample[];
  /** One per family with stored points: type, description as help, unit as the name's suffix spells it. */
  metadata: MetricMetadata[];
  /** Data points in the request. */
  points: number;
  refused: { count: number; errors: string[]; omitted?: number };
  dropped: Partial<Record<DropKind, number>>;
}

/** A refused point: its reason (the drop kind) and the message that names it. */
class Refusal extends Error {
  constructor(
    readonly kind: DropKind,
    message: string,
  ) {
    super(message);
  }
}

/** Everything one request's walk accumulates. */
class Walk {
  readonly samples: Sample[] = [];
  readonly metadata = new Map<string, MetricMetadata>();
  readonly errors: string[] = [];
  readonly dropped: Partial<Record<DropKind, number>> = {};
  refusedCount = 0;
  points = 0;
  /** Attribute name → Prometheus name (null: none), for the whole request. */
  readonly names = new Map<string, string | null>();
  readonly latestMs: number;
  readonly earliestMs: number;

  constructor(readonly context: DecodeContext) {
    const nowMs = Number(context.nowNs / 1_000_000n);
    this.latestMs = nowMs + context.limits.maxFutureSkewMs;
    this.earliestMs = context.limits.maxPastAgeMs > 0 ? nowMs - context.limits.maxPastAgeMs : 1;
  }

  drop(kind: DropKind, count = 1): void {
    this.dropped[kind] = (this.dropped[kind] ?? 0) + count;
  }

  /** Messages past MAX_REPORTED_ERRORS, for the "(and N more)" of the answer. */
  omitted = 0;

  note(message: string): void {
    if (this.errors.length < MAX_REPORTED_ERRORS) this.errors.push(message);
    else this.omitted++;
  }

  refuse(kind: DropKind, count: number, message: string): void {
    this.refusedCount += count;
    this.drop(kind, count);
    this.note(message);
  }

  count(points: number): void {
    this.points += points;
    if (this.points > MAX_POINTS_PER_REQUEST) {
      throw new HttpError(
        413,
        'too_many_points',
        `more than ${MAX_POINTS_PER_REQUEST} data points in one request; lower the sender's batch size (the Collector's send_batch_max_size)`,
      );
    }
  }

  labelName(key: string): string | undefined {
    let name = this.names.get(key);
    if (name === undefined) {
      name = labelName(key) ?? null;
      this.names.set(key, name);
    }
    return name ?? undefined;
  }
}

/** The text of an attribute value, as the OTel collector's pcommon AsString writes it. */
function valueText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** Attributes → labels by their Prometheus names; collisions join in attribute-name order. */
function attributeLabels(walk: Walk, attrs: Obj, path: string, skip?: Set<string>): Labels {
  const labels: Labels = {};
  for (const key of Object.keys(attrs).sort()) {
    if (skip?.has(key)) continue;
    const name = walk.labelName(key);
    if (name === undefined) throw new Refusal('invalid_points', `${path}: attribute "${key.slice(0, 80)}" has no Prometheus label name`);
    const value = valueText(attrs[key]);
    labels[name] = name in labels ? `${labels[name]};${value}` : value;
  }
  return labels;
}

interface Scope {
  /** Labels every point of the scope gets after its own (scope, then job/instance). */
  labels: Labels;
  /** Stored timestamps of the resource, for target_info. */
  times: { first: number; last: number } | undefined;
}

interface Series {
  name: string;
  labels: Labels;
  value: number;
}

/**
 * Checks and stores one point's series; a point is stored whole or refused whole. The
 * series' labels are the point's, then the scope's and resource's, then its own (le, quantile).
 */
function emit(walk: Walk, scope: Scope, path: string, point: Obj, series: Series[]): void {
  const ns = int64(point.timeUnixNano, `${path}.timeUnixNano`);
  if (ns === undefined) throw new Refusal('invalid_points', `${path}.timeUnixNano: missing (a point needs its time)`);
  const ms = Number(ns / 1_000_000n);
  if (ms > walk.latestMs)
    throw new Refusal('invalid_points', `${path}.timeUnixNano: ${ns} is too far in the future (more than the allowed skew past now)`);
  if (ms < walk.earliestMs) {
    const why = walk.context.limits.maxPastAgeMs > 0 ? 'is older than the maximum accepted age' : 'is not after the Unix epoch (in ms)';
    throw new Refusal('invalid_points', `${path}.timeUnixNano: ${ns} ${why}`);
  }
  const out: Sample[] = [];
  for (const s of series) {
    const labels: Labels = {};
    for (const [k, v] of Object.entries(s.labels)) if (v !== '') labels[k] = v;
    const errors: string[] = [];
    checkLabels(labels, walk.context.limits, `${path} (series ${s.name})`, errors);
    for (const [k, v] of Object.entries(labels)) {
      if (!v.isWellFormed()) errors.push(`${path}: label ${k} contains invalid UTF-16 (a lone surrogate escape)`);
    }
    if (s.name.length > walk.context.limits.maxLabelValueLength) {
      errors.push(`${path}: metric name is ${s.name.length} characters, over the limit of ${walk.context.limits.maxLabelValueLength}`);
    }
    if (errors.length > 0) throw new Refusal('invalid_points', errors[0]!);
    out.push({ name: s.name, labels, timestampMs: ms, value: s.value });
  }
  walk.samples.push(...out);
  scope.times = { first: Math.min(scope.times?.first ?? ms, ms), last: Math.max(scope.times?.last ?? ms, ms) };
}

const isStale = (point: Obj) => (Number(point.flags ?? 0) & NO_RECORDED_VALUE) !== 0;

interface MetricContext {
  walk: Walk;
  scope: Scope;
  name: string;
  unit: string;
  description: string;
  path: string;
}

/** The Prometheus metadata type of each kind a family is stored as. */
const METADATA_TYPES: Record<MetricKind, MetricType> = {
  gauge: 'gauge',
  counter: 'counter',
  non_monotonic_sum: 'gauge',
  histogram: 'histogram',
  summary: 'summary',
};

/** The family's metadata, once per request, when any of its points was stored. */
function describe(m: MetricContext, kind: MetricKind, family: string, storedBefore: number): void {
  if (m.walk.samples.length === storedBefore) return;
  const timestampMs = Number(m.walk.context.nowNs / 1_000_000n);
  m.walk.metadata.set(family, {
    metric: family,
    type: METADATA_TYPES[kind],
    help: m.description,
    unit: prometheusUnit(m.unit),
    timestampMs,
  });
}

/** The Prometheus name of a metric, or a refusal of all its points. */
function nameOf(m: MetricContext, kind: MetricKind): string {
  const name = metricName(m.name, m.unit, kind);
  if (name === undefined) throw new Refusal('invalid_points', `${m.path}.name: "${m.name.slice(0, 80)}" has no Prometheus metric name`);
  return name;
}

/** Refuses every point of a sum or histogram whose temporality is not cumulative. */
function requireCumulative(m: MetricContext, data: Obj, points: number): boolean {
  const raw = data.aggregationTemporality;
  const temporality = typeof raw === 'string' && raw in TEMPORALITY_NAMES ? TEMPORALITY_NAMES[raw]! : Number(raw ?? 0);
  if (temporality === CUMULATIVE) return true;
  const delta = temporality === 1;
  m.walk.refuse(
    delta ? 'delta_temporality' : 'unspecified_temporality',
    points,
    `${m.path} (${m.name.slice(0, 80)}): ${points} point(s) of ${delta ? 'delta' : 'unspecified'} temporality refused; Sextant stores cumulative series only (set the exporter's temporality preference to cumulative, or add the Collector's deltatocumulative processor)`,
  );
  return false;
}

/** Each point, refused alone when it breaks a rule. */
function eachPoint(m: MetricContext, list: unknown[], key: string, translate: (point: Obj, path: string) => Series[]): void {
  list.forEach((raw, i) => {
    const path = `${m.path}.${key}.dataPoints[${i}]`;
    const point = asObj(raw);
    try {
      m.walk.drop('exemplars', asList(point.exemplars, `${path}.exemplars`).length);
      emit(m.walk, m.scope, path, point, translate(point, path));
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      m.walk.refuse(error.kind, 1, error.message);
    }
  });
}

function pointLabels(m: MetricContext, point: Obj, path: string): Labels {
  return { ...attributeLabels(m.walk, attributes(point.attributes, `${path}.attributes`), path), ...m.scope.labels };
}

function numberValue(point: Obj, path: string): number {
  if (isStale(point)) return STALE_NAN;
  if (has(point, 'asDouble')) return double(point.asDouble, `${path}.asDouble`)!;
  if (has(point, 'asInt')) return Number(int64(point.asInt, `${path}.asInt`) ?? 0n);
  throw new Refusal('invalid_points', `${path}: no value (asDouble or asInt)`);
}

function numberPoints(m: MetricContext, data: Obj, key: string, kind: MetricKind): void {
  const name = nameOf(m, kind);
  const before = m.walk.samples.length;
  eachPoint(m, asList(data.dataPoints, `${m.path}.${key}.dataPoints`), key, (point, path) => [
    { name, labels: pointLabels(m, point, path), value: numberValue(point, path) },
  ]);
  describe(m, kind, name, before);
}

const count64 = (v: unknown, path: string) => Number(int64(v, path) ?? 0n);

function histogramPoints(m: MetricContext, data: Obj): void {
  const base = nameOf(m, 'histogram');
  const before = m.walk.samples.length;
  eachPoint(m, asList(data.dataPoints, `${m.path}.histogram.dataPoints`), 'histogram', (point, path) => {
    const labels = pointLabels(m, point, path);
    const stale = isStale(point);
    const count = count64(point.count, `${path}.count`);
    const bounds = asList(point.explicitBounds, `${path}.explicitBounds`).map((b, j) => double(b, `${path}.explicitBounds[${j}]`)!);
    const counts = asList(point.bucketCounts, `${path}.bucketCounts`).map((c, j) => count64(c, `${path}.bucketCounts[${j}]`));
    if (counts.length !== 0 && counts.length !== bounds.length + 1) {
      throw new Refusal(
        'invalid_points',
        `${path}.bucketCounts: ${counts.length} counts for ${bounds.length} explicitBounds (there must be one more count than bounds)`,
      );
    }
    if (counts.length === 0 && bounds.length > 0)
      throw new Refusal('invalid_points', `${path}.bucketCounts: empty, but ${bounds.length} explicitBounds`);
    for (let j = 0; j < bounds.length; j++) {
      if (!Number.isFinite(bounds[j]!) || (j > 0 && bounds[j]! <= bounds[j - 1]!)) {
        throw new Refusal('invalid_points', `${path}.explicitBounds[${j}]: ${bounds[j]} (bounds must be finite and strictly increasing)`);
      }
    }
    const total = counts.reduce((a, b) => a + b, 0);
    if (counts.length > 0 && !stale && total !== count) {
      throw new Refusal('invalid_points', `${path}.count: ${count} is not the sum of bucketCounts (${total})`);
    }
    const series: Series[] = [];
    let cumulative = 0;
    for (let j = 0; j < bounds.length; j++) {
      cumulative += counts[j]!;
      series.push({ name: `${base}_bucket`, labels: { ...labels, le: formatFloat(bounds[j]!) }, value: stale ? STALE_NAN : cumulative });
    }
    series.push({ name: `${base}_bucket`, labels: { ...labels, le: '+Inf' }, value: stale ? STALE_NAN : count });
    // `sum` is optional (proto3 `optional`): absent when not sent.
    if (has(point, 'sum')) {
      series.push({ name: `${base}_sum`, labels, value: stale ? STALE_NAN : double(point.sum, `${path}.sum`)! });
    }
    series.push({ name: `${base}_count`, labels, value: stale ? STALE_NAN : count });
    return series;
  });
  describe(m, 'histogram', base, before);
}

function summaryPoints(m: MetricContext, data: Obj): void {
  const base = nameOf(m, 'summary');
  const before = m.walk.samples.length;
  eachPoint(m, asList(data.dataPoints, `${m.path}.summary.dataPoints`), 'summary', (point, path) => {
    const labels = pointLabels(m, point, path);
    const stale = isStale(point);
    const series: Series[] = asList(point.quantileValues, `${path}.quantileValues`).map((raw, j) => {
      const q = asObj(raw);
      const quantile = double(q.quantile ?? 0, `${path}.quantileValues[${j}].quantile`)!;
      if (!(quantile >= 0 && quantile <= 1))
        throw new Refusal('invalid_points', `${path}.quantileValues[${j}].quantile: ${quantile} is not in [0, 1]`);
      const value = double(q.value ?? 0, `${path}.quantileValues[${j}].value`)!;
      return { name: base, labels: { ...labels, quantile: formatFloat(quantile) }, value: stale ? STALE_NAN : value };
    });
    series.push({ name: `${base}_sum`, labels, value: stale ? STALE_NAN : double(point.sum ?? 0, `${path}.sum`)! });
    series.push({ name: `${base}_count`, labels, value: stale ? STALE_NAN : count64(point.count, `${path}.count`) });
    return series;
  });
  describe(m, 'summary', base, before);
}

/** The metric data kinds by their key in the `data` oneof: how each is stored, or why not. */
const KINDS: Record<string, (m: MetricContext, data: Obj) => void> = {
  gauge(m, data) {
    const points = asList(data.dataPoints, `${m.path}.gauge.dataPoints`);
    m.walk.count(points.length);
    numberPoints(m, data, 'gauge', 'gauge');
  },
  sum(m, data) {
    const points = asList(data.dataPoints, `${m.path}.sum.dataPoints`);
    m.walk.count(points.length);
    if (requireCumulative(m, data, points.length)) numberPoints(m, data, 'sum', data.isMonotonic ? 'counter' : 'non_monotonic_sum');
  },
  histogram(m, data) {
    const points = asList(data.dataPoints, `${m.path}.histogram.dataPoints`);
    m.walk.count(points.length);
    if (requireCumulative(m, data, points.length)) histogramPoints(m, data);
  },
  exponentialHistogram(m, data) {
    const points = asList(data.dataPoints, `${m.path}.exponentialHistogram.dataPoints`).length;
    m.walk.count(points);
    if (points === 0) return;
    m.walk.refuse(
      'exponential_histograms',
      points,
      `${m.path} (${m.name.slice(0, 80)}): ${points} exponential-histogram point(s) refused; Sextant does not store native histograms (configure the SDK's histogram aggregation as explicit buckets)`,
    );
  },
  summary(m, data) {
    const points = asList(data.dataPoints, `${m.path}.summary.dataPoints`);
    m.walk.count(points.length);
    summaryPoints(m, data);
  },
};

function translateMetric(walk: Walk, scope: Scope, raw: unknown, path: string): void {
  const metric = asObj(raw);
  const name = typeof metric.name === 'string' ? metric.name : '';
  const unit = typeof metric.unit === 'string' ? metric.unit : '';
  const description = typeof metric.description === 'string' ? metric.description : '';
  for (const [key, translate] of Object.entries(KINDS)) {
    if (!has(metric, key)) continue;
    try {
      translate({ walk, scope, name, unit, description, path }, asObj(metric[key]));
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      // A refusal of the whole metric (its name): every point of it.
      const points = asList(asObj(metric[key]).dataPoints, `${path}.${key}.dataPoints`).length;
      walk.refuse(error.kind, points, error.message);
    }
    return;
  }
}

/** target_info for a resource that has more than job and instance, over its stored points' time span. */
function targetInfo(walk: Walk, resource: Obj, identity: Labels, times: Scope['times'], path: string): void {
  if (!times || !Object.keys(resource).some((k) => !IDENTIFYING.has(k))) return;
  let labels: Labels;
  try {
    labels = { ...attributeLabels(walk, resource, path, IDENTIFYING), ...identity };
  } catch (error) {
    if (!(error instanceof Refusal)) throw error;
    walk.drop('target_info');
    walk.note(`${error.message}; its target_info is not stored`);
    return;
  }
  for (const k of Object.keys(labels)) if (labels[k] === '') delete labels[k];
  const errors: string[] = [];
  checkLabels(labels, walk.context.limits, `${path} (target_info)`, errors);
  if (errors.length > 0) {
    walk.drop('target_info');
    walk.note(`${errors[0]}; its target_info is not stored`);
    return;
  }
  const step = Math.max(TARGET_INFO_STEP_MS, Math.ceil((times.last - times.first) / MAX_TARGET_INFO_SAMPLES));
  for (let ms = times.first; ms < times.last; ms += step) walk.samples.push({ name: 'target_info', labels, timestampMs: ms, value: 1 });
  walk.samples.push({ name: 'target_info', labels, timestampMs: times.last, value: 1 });
}

export function translateMetrics(request: unknown, context: DecodeContext): Translated {
  const walk = new Walk(context);
  asList(asObj(request).resourceMetrics, 'resourceMetrics').forEach((rm, r) => {
    const rpath = `resourceMetrics[${r}]`;
    const resource = attributes(asObj(asObj(rm).resource).attributes, `${rpath}.resource.attributes`);
    const identity: Labels = {};
    if (resource['service.name'] !== undefined) {
      const service = valueText(resource['service.name']);
      const namespace = resource['service.namespace'] === undefined ? '' : valueText(resource['service.namespace']);
      identity.job = namespace ? `${namespace}/${service}` : service;
    }
    if (resource['service.instance.id'] !== undefined) identity.instance = valueText(resource['service.instance.id']);
    let times: Scope['times'];
    asList(asObj(rm).scopeMetrics, `${rpath}.scopeMetrics`).forEach((sm, s) => {
      const spath = `${rpath}.scopeMetrics[${s}]`;
      const rawScope = asObj(asObj(sm).scope);
      const scopeLabels: Labels = {};
      if (rawScope.name) scopeLabels.otel_scope_name = String(rawScope.name);
      if (rawScope.version) scopeLabels.otel_scope_version = String(rawScope.version);
      const scope: Scope = { labels: { ...scopeLabels, ...identity }, times };
      asList(asObj(sm).metrics, `${spath}.metrics`).forEach((metric, i) => translateMetric(walk, scope, metric, `${spath}.metrics[${i}]`));
      times = scope.times;
    });
    targetInfo(walk, resource, identity, times, `${rpath}.resource`);
  });
  return {
    samples: walk.samples,
    metadata: [...walk.metadata.values()],
    points: walk.points,
    refused: { count: walk.refusedCount, errors: walk.errors, ...(walk.omitted > 0 ? { omitted: walk.omitted } : {}) },
    dropped: walk.dropped,
  };
}
