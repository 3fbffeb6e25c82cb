/**
 * Prometheus remote_write at POST /api/v1/write, 1.0 (`prometheus.WriteRequest`) and 2.0
 * (`io.prometheus.write.v2.Request`, labels as references into a symbols table), told
 * apart by the Content-Type's `proto` parameter; the body is always a snappy block.
 *
 * - All or nothing, like the native API: one invalid series or sample is a 400 (the sender
 *   does not retry it) and nothing of the request is stored; a 5xx/429 comes only from what
 *   a retry can fix (the bus unavailable, the rate limit). Writes are idempotent (a series'
 *   sample at a timestamp is one record), so a retried or WAL-replayed request doubles
 *   nothing.
 * - Staleness markers are ordinary samples here, kept with their NaN bits (model/stale.ts).
 * - Metric metadata is stored (served by /api/v1/metadata): 1.0's list, keyed by family
 *   name; 2.0's in-line metadata of each series, keyed by the series name less the
 *   `_bucket`/`_sum`/`_count` of a histogram or summary (2.0 sends no family name).
 * - Exemplars and native histograms are not stored: each is counted in
 *   `sextant_ingest_dropped_total{receiver="prometheus_remote_write",kind}`, said in the body
 *   of the 2xx, and 2.0's X-Prometheus-Remote-Write-*-Written headers report 0 of them.
 */
import type { Response } from 'express';
import { HttpError } from '../../common/http-error.js';
import { metadataVariantKey } from '../../model/fingerprint.js';
import { checkLabels, METRIC_NAME } from '../../model/labels.js';
import { MAX_REPORTED_ERRORS, type Normalised } from '../../model/records.js';
import { METRIC_TYPES, type Labels, type MetricMetadata, type MetricType, type Sample } from '../../model/types.js';
import type { DecodeContext, Decoded, DropKind, Format, Outcome, Receiver } from './receiver.js';
import { decodeV2Request, decodeWriteRequest, int64 } from './remote-write-proto.js';

/** More series than this in one request is a 413 (Prometheus sends 2,000 samples at most by default). */
export const MAX_SERIES_PER_REQUEST = 50_000;

const PROTOBUF = 'application/x-protobuf';
const V1_PROTO = 'prometheus.WriteRequest';
const V2_PROTO = 'io.prometheus.write.v2.Request';

const WRITTEN = {
  samples: 'X-Prometheus-Remote-Write-Samples-Written',
  histograms: 'X-Prometheus-Remote-Write-Histograms-Written',
  exemplars: 'X-Prometheus-Remote-Write-Exemplars-Written',
} as const;

/** One series as both versions carry it: label pairs in the order sent, and its samples. */
interface RawSeries {
  pairs: Array<[string, string]>;
  samples: Array<{ value: number; timestamp: number }>;
  /** 2.0's in-line metadata (the family is this series' name). */
  metadata?: RawMetadata;
}

/** Type as the enum number (the same numbering in 1.0 and 2.0), help and unit as sent. */
interface RawMetadata {
  type: number;
  help: string;
  unit: string;
}

/** Help text longer than this is a 400 (Mimir's max_metadata_length is 1 KiB; Prometheus' own help texts stay far under). */
export const MAX_HELP_BYTES = 16 * 1024;

/** Collects the problems of a request, at most MAX_REPORTED_ERRORS of them, and the total. */
class Problems {
  readonly errors: string[] = [];
  total = 0;
  add(message: string): void {
    this.total++;
    if (this.errors.length < MAX_REPORTED_ERRORS) this.errors.push(message);
  }
}

const v1: Format<'metrics'> = {
  name: `${PROTOBUF} (remote-write 1.0, ${V1_PROTO})`,
  matches: (c) => c.type === PROTOBUF && (c.params.proto === undefined || c.params.proto === V1_PROTO),
  decode(body, context) {
    const request = decodeOrThrow(() => decodeWriteRequest(body));
    if (request.timeseries.length === 0 && request.metadata.length === 0 && body.length > 0) {
      // 2.0 bytes decode as an empty 1.0 message (their fields are reserved there): say so.
      throw new HttpError(
        400,
        'invalid_protobuf',
        `the body holds no remote-write 1.0 time series; a 2.0 request needs Content-Type: ${PROTOBUF};proto=${V2_PROTO}`,
      );
    }
    limitSeries(request.timeseries.length);
    const series: RawSeries[] = request.timeseries.map((ts) => ({
      pairs: ts.labels.map((l) => [l.name, l.value]),
      samples: ts.samples.map((s) => ({ value: s.value, timestamp: int64(s.timestamp) })),
    }));
    let exemplars = 0;
    let histograms = 0;
    for (const ts of request.timeseries) {
      exemplars += ts.exemplars.length;
      histograms += ts.histograms.length;
    }
    const problems = new Problems();
    const nowMs = Number(context.nowNs / 1_000_000n);
    const metadata = request.metadata.map((m, i) => checkedMetadata(m.metric_family_name, m, `metadata[${i}]`, problems, nowMs));
    const decoded = toSamples(series, problems, context, { exemplars, histograms });
    return { ...decoded, metadata: distinct(metadata.filter((m) => m !== undefined)) };
  },
};

const v2: Format<'metrics'> = {
  name: `${PROTOBUF};proto=${V2_PROTO} (remote-write 2.0)`,
  matches: (c) => c.type === PROTOBUF && c.params.proto === V2_PROTO,
  decode(body, context) {
    const request = decodeOrThrow(() => decodeV2Request(body));
    const { symbols } = request;
    if (request.timeseries.length > 0 && symbols[0] !== '') {
      throw new HttpError(400, 'invalid', `symbols[0] must be the empty string, got ${JSON.stringify(symbols[0] ?? null)?.slice(0, 40)}`);
    }
    limitSeries(request.timeseries.length);
    const problems = new Problems();
    const symbol = (ref: number, where: string): string => {
      if (ref < symbols.length) return symbols[ref]!;
      problems.add(`${where}: symbol reference ${ref} is out of range (the request has ${symbols.length} symbols)`);
      return '';
    };
    let exemplars = 0;
    let histograms = 0;
    const series = request.timeseries.map((ts, i): RawSeries => {
      const refs = ts.labels_refs;
      if (refs.length % 2 !== 0) problems.add(`timeseries[${i}].labels_refs: ${refs.length} references, not name/value pairs`);
      const pairs: Array<[string, string]> = [];
      for (let r = 0; r + 1 < refs.length; r += 2) {
        const where = `timeseries[${i}].labels_refs[${r}]`;
        pairs.push([symbol(refs[r]!, where), symbol(refs[r + 1]!, where)]);
      }
      const meta = ts.metadata;
      const metadata =
        meta && (meta.help_ref || meta.unit_ref || meta.type)
          ? {
              type: meta.type,
              help: symbol(meta.help_ref, `timeseries[${i}].metadata.help_ref`),
              unit: symbol(meta.unit_ref, `timeseries[${i}].metadata.unit_ref`),
            }
          : undefined;
      exemplars += ts.exemplars.length;
      histograms += ts.histograms.length;
      return {
        pairs,
        samples: ts.samples.map((s) => ({ value: s.value, timestamp: int64(s.timestamp) })),
        ...(metadata ? { metadata } : {}),
      };
    });
    const nowMs = Number(context.nowNs / 1_000_000n);
    const metadata: MetricMetadata[] = [];
    series.forEach((s, i) => {
      const name = s.metadata && s.pairs.find(([label]) => label === '__name__')?.[1];
      if (!name) return; // a series without a name is a problem of its own (toSamples)
      const checked = checkedMetadata(familyOf(name, s.metadata!.type), s.metadata!, `timeseries[${i}].metadata`, problems, nowMs);
      if (checked) metadata.push(checked);
    });
    return { ...toSamples(series, problems, context, { exemplars, histograms }), metadata: distinct(metadata) };
  },
};

/** The suffixes of a histogram's or summary's series, which 2.0 names its metadata by. */
const FAMILY_SUFFIXES: Partial<Record<MetricType, RegExp>> = {
  histogram: /_(?:bucket|sum|count)$/,
  gaugehistogram: /_(?:bucket|gsum|gcount)$/,
  summary: /_(?:sum|count)$/,
};

function familyOf(seriesName: string, type: number): string {
  const suffix = FAMILY_SUFFIXES[METRIC_TYPES[type] ?? 'unknown'];
  return suffix ? seriesName.replace(suffix, '') : seriesName;
}

/** One metadata item, validated; undefined (and a problem) when it breaks a rule. */
function checkedMetadata(metric: string, raw: RawMetadata, path: string, problems: Problems, nowMs: number): MetricMetadata | undefined {
  const before = problems.total;
  if (!METRIC_NAME.test(metric))
    problems.add(`${path}: invalid metric family name "${metric.slice(0, 80)}": must match ${METRIC_NAME.source}`);
  if (Buffer.byteLength(raw.help) > MAX_HELP_BYTES)
    problems.add(`${path}.help: ${Buffer.byteLength(raw.help)} bytes, over the limit of ${MAX_HELP_BYTES}`);
  if (raw.unit.length > 1024) problems.add(`${path}.unit: ${raw.unit.length} characters, over the limit of 1024`);
  if (problems.total > before) return undefined;
  // A type this build does not know (a newer sender's) is kept as unknown rather than refused.
  return { metric, type: METRIC_TYPES[raw.type] ?? 'unknown', help: raw.help, unit: raw.unit, timestampMs: nowMs };
}

/** 2.0 repeats a family's metadata in each of its series, 1.0 in each send: one of each is enough. */
function distinct(metadata: MetricMetadata[]): MetricMetadata[] {
  const seen = new Map<string, MetricMetadata>();
  for (const m of metadata) seen.set(metadataVariantKey(m), m);
  return [...seen.values()];
}

function decodeOrThrow<A>(decode: () => A): A {
  try {
    return decode();
  } catch (error) {
    throw new HttpError(400, 'invalid_protobuf', `request body is not a valid remote-write protobuf message: ${(error as Error).message}`);
  }
}

function limitSeries(count: number): void {
  if (count > MAX_SERIES_PER_REQUEST) {
    throw new HttpError(
      413,
      'too_many_series',
      `${count} time series in one request, over the limit of ${MAX_SERIES_PER_REQUEST}; lower queue_config.max_samples_per_send`,
    );
  }
}

/**
 * Validates the series (the rules of the spec: sorted, unique, non-empty names, a valid
 * `__name__`; the native API's limits) and their samples (timestamps within the limits),
 * and flattens them into records. A label with an empty value is absent, as in Prometheus.
 */
function toSamples(
  series: RawSeries[],
  problems: Problems,
  context: DecodeContext,
  dropped: Partial<Record<DropKind, number>>,
): Decoded<'metrics'> {
  const { limits } = context;
  const nowMs = Number(context.nowNs / 1_000_000n);
  const latestMs = nowMs + limits.maxFutureSkewMs;
  const earliestMs = limits.maxPastAgeMs > 0 ? nowMs - limits.maxPastAgeMs : 0;
  const records: Sample[] = [];
  let received = 0;
  for (let i = 0; i < series.length && problems.total < MAX_REPORTED_ERRORS * 100; i++) {
    const { pairs, samples } = series[i]!;
    received += samples.length;
    const path = `timeseries[${i}]`;
    const before = problems.total;
    let name: string | undefined;
    const labels: Labels = {};
    for (let p = 0; p < pairs.length; p++) {
      const [label, value] = pairs[p]!;
      if (label === '') problems.add(`${path}.labels[${p}]: empty label name`);
      else if (p > 0 && label <= pairs[p - 1]![0]) {
        problems.add(
          label === pairs[p - 1]![0]
            ? `${path}.labels: duplicate label name "${label}"`
            : `${path}.labels: not sorted by name ("${label}" after "${pairs[p - 1]![0]}")`,
        );
      } else if (label === '__name__') name = value;
      else if (value !== '') labels[label] = value;
    }
    if (name === undefined || name === '') problems.add(`${path}.labels: no __name__ label`);
    else if (!METRIC_NAME.test(name))
      problems.add(`${path}.labels.__name__: invalid metric name "${name.slice(0, 80)}": must match ${METRIC_NAME.source}`);
    const labelErrors: string[] = [];
    checkLabels(labels, limits, `${path}.labels`, labelErrors);
    labelErrors.forEach((e) => problems.add(e));
    for (let s = 0; s < samples.length; s++) {
      const { value, timestamp } = samples[s]!;
      if (timestamp < earliestMs) {
        problems.add(
          `${path}.samples[${s}].timestamp: ${timestamp} ${timestamp < 0 ? 'is negative' : 'is older than the maximum accepted age'}`,
        );
      } else if (timestamp > latestMs) {
        problems.add(`${path}.samples[${s}].timestamp: ${timestamp} is too far in the future (more than the allowed skew past now)`);
      } else if (problems.total === before) records.push({ name: name!, labels, timestampMs: timestamp, value });
    }
  }
  const result: Normalised<Sample> =
    problems.total > 0 ? { ok: false, errors: problems.errors, total: problems.total } : { ok: true, records };
  return { result, received, dropped };
}

function accepted(res: Response, outcome: Outcome<'metrics'>): void {
  res.setHeader(WRITTEN.samples, String(outcome.records));
  res.setHeader(WRITTEN.histograms, '0');
  res.setHeader(WRITTEN.exemplars, '0');
  const dropped = Object.entries(outcome.decoded.dropped ?? {}).filter(([, n]) => n > 0);
  if (dropped.length === 0) {
    res.status(204).end();
    return;
  }
  const list = dropped.map(([kind, n]) => `${n} ${kind}`).join(', ');
  res.status(200).type('text/plain').send(`stored ${outcome.records} samples; not stored (Sextant does not keep them): ${list}\n`);
}

export const remoteWrite: Receiver = {
  name: 'prometheus_remote_write',
  routes: [
    {
      path: '/api/v1/write',
      signal: 'metrics',
      formats: [v2, v1],
      encodings: ['snappy'],
      accepted,
      failed: (res) => {
        // Every answer carries the counts (all or nothing: a failed request wrote none).
        for (const header of Object.values(WRITTEN)) res.setHeader(header, '0');
      },
    },
  ],
};
