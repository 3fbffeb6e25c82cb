/**
 * OTLP/HTTP metrics at POST /v1/metrics (and /otlp/v1/metrics): an
 * `ExportMetricsServiceRequest` as protobuf or OTLP JSON (lowerCamelCase keys, int64 as
 * strings or numbers, enums as integers, unknown fields ignored), plain or gzip, translated
 * into Prometheus samples as Prometheus' own OTLP receiver does (otlp-metrics-translate.ts).
 *
 * Answers as OTLP/HTTP asks: 200 with an `ExportMetricsServiceResponse` in the request's
 * encoding once the stored points are durable; when points were refused (delta or
 * unspecified temporality, exponential histograms, points that break the rules or limits)
 * its `partial_success` says how many and why, the sender does not retry them, and each is
 * counted in `sextant_ingest_dropped_total{receiver="otlp_metrics",kind=<reason>}`. A body
 * that cannot be read is a 400 with a `google.rpc.Status` naming the problem; 413, 415,
 * 429 and 503 (with Retry-After) as on every ingestion route.
 */
import type { Response } from 'express';
import protobuf from 'protobufjs';
import { COMMON_PROTO, otlpFormats, sendExportResponse, sendStatus } from './otlp-common.js';
import { translateMetrics } from './otlp-metrics-translate.js';
import type { DecodeContext, Decoded, Outcome, Receiver, Route } from './receiver.js';

// From opentelemetry-proto (Apache-2.0) `collector/metrics/v1` and `metrics/v1`, written
// from its specification; only the fields Sextant reads. Exemplars and exponential-histogram
// points are only counted, so they stay bytes.
const PROTO = `
syntax = "proto3";
package otlp;
message ExportMetricsServiceRequest { repeated ResourceMetrics resource_metrics = 1; }
message ResourceMetrics { Resource resource = 1; repeated ScopeMetrics scope_metrics = 2; }
message ScopeMetrics { InstrumentationScope scope = 1; repeated Metric metrics = 2; }
message Metric {
  string name = 1;
  string description = 2;
  string unit = 3;
  oneof data {
    Gauge gauge = 5;
    Sum sum = 7;
    Histogram histogram = 9;
    ExponentialHistogram exponential_histogram = 10;
    Summary summary = 11;
  }
}
message Gauge { repeated NumberDataPoint data_points = 1; }
message Sum { repeated NumberDataPoint data_points = 1; int32 aggregation_temporality = 2; bool is_monotonic = 3; }
message Histogram { repeated HistogramDataPoint data_points = 1; int32 aggregation_temporality = 2; }
message ExponentialHistogram { repeated bytes data_points = 1; int32 aggregation_temporality = 2; }
message Summary { repeated SummaryDataPoint data_points = 1; }
message NumberDataPoint {
  repeated KeyValue attributes = 7;
  fixed64 start_time_unix_nano = 2;
  fixed64 time_unix_nano = 3;
  oneof value { double as_double = 4; sfixed64 as_int = 6; }
  repeated bytes exemplars = 5;
  uint32 flags = 8;
}
message HistogramDataPoint {
  repeated KeyValue attributes = 9;
  fixed64 start_time_unix_nano = 2;
  fixed64 time_unix_nano = 3;
  fixed64 count = 4;
  optional double sum = 5;
  repeated fixed64 bucket_counts = 6;
  repeated double explicit_bounds = 7;
  repeated bytes exemplars = 8;
  uint32 flags = 10;
}
message SummaryDataPoint {
  repeated KeyValue attributes = 7;
  fixed64 start_time_unix_nano = 2;
  fixed64 time_unix_nano = 3;
  fixed64 count = 4;
  double sum = 5;
  repeated ValueAtQuantile quantile_values = 6;
  uint32 flags = 8;
}
message ValueAtQuantile { double quantile = 1; double value = 2; }
message ExportMetricsServiceResponse { ExportMetricsPartialSuccess partial_success = 1; }
message ExportMetricsPartialSuccess { int64 rejected_data_points = 1; string error_message = 2; }
${COMMON_PROTO}
`;

const root = protobuf.parse(PROTO).root;
const requestType = root.lookupType('otlp.ExportMetricsServiceRequest');
const responseType = root.lookupType('otlp.ExportMetricsServiceResponse');

/** For tests and tools that build requests (JSON-like object with camelCase keys). */
export function encodeMetricsRequest(message: unknown): Uint8Array {
  return requestType.encode(requestType.fromObject(message as Record<string, unknown>)).finish();
}

/** Reads a protobuf answer (for tests and tools): `{}` or `{partialSuccess: {rejectedDataPoints, errorMessage}}`. */
export function decodeMetricsResponse(body: Uint8Array): { partialSuccess?: { rejectedDataPoints?: string; errorMessage?: string } } {
  return responseType.toObject(responseType.decode(body), { longs: String }) as ReturnType<typeof decodeMetricsResponse>;
}

function decode(request: unknown, context: DecodeContext): Decoded<'metrics'> {
  const { samples, metadata, points, refused, dropped } = translateMetrics(request, context);
  return { result: { ok: true, records: samples }, received: points, metadata, dropped, refused };
}

function accepted(res: Response, outcome: Outcome<'metrics'>): void {
  const refused = outcome.decoded.refused;
  if (!refused || (refused.count === 0 && refused.errors.length === 0)) {
    sendExportResponse(res, responseType, {});
    return;
  }
  // With nothing refused the message is a warning (a target_info over the limits), as the spec allows.
  // One message may cover many points: "more" counts the messages left out, not points.
  const more = refused.omitted ? ` (and ${refused.omitted} more)` : '';
  const head = refused.count > 0 ? `${refused.count} data point(s) refused: ` : '';
  const errorMessage = `${head}${refused.errors.join('; ')}${more}`;
  // int64 as a decimal string, as OTLP's JSON writes it (protobufjs takes it for the protobuf too).
  sendExportResponse(res, responseType, { partialSuccess: { rejectedDataPoints: String(refused.count), errorMessage } });
}

const route = (path: string): Route<'metrics'> => ({
  path,
  signal: 'metrics',
  formats: otlpFormats(requestType, decode),
  encodings: ['identity', 'gzip', 'x-gzip', 'deflate'],
  accepted,
  sendError: sendStatus,
});

export const otlpMetrics: Receiver = {
  name: 'otlp_metrics',
  routes: [route('/v1/metrics'), route('/otlp/v1/metrics')],
};
