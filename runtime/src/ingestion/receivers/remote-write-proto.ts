/**
 * The remote_write messages, written from the public specifications (Prometheus remote-write
 * 1.0 and 2.0; field numbers as in prometheus/prometheus `prompb/types.proto`,
 * `prompb/remote.proto` and `prompb/io/prometheus/write/v2/types.proto`). Only what Sextant
 * reads is declared: exemplars and native histograms are kept as raw bytes, because they
 * are only counted, never decoded.
 */
import protobuf from 'protobufjs';

const PROTO = `
syntax = "proto3";

package prometheus;

message WriteRequest {
  repeated TimeSeries timeseries = 1;
  reserved 2;
  repeated MetricMetadata metadata = 3;
}

message MetricMetadata {
  int32 type = 1;
  string metric_family_name = 2;
  string help = 4;
  string unit = 5;
}

message Label {
  string name = 1;
  string value = 2;
}

message Sample {
  double value = 1;
  int64 timestamp = 2;
}

message TimeSeries {
  repeated Label labels = 1;
  repeated Sample samples = 2;
  repeated bytes exemplars = 3;
  repeated bytes histograms = 4;
}

message V2Request {
  reserved 1 to 3;
  repeated string symbols = 4;
  repeated V2TimeSeries timeseries = 5;
}

message V2TimeSeries {
  repeated uint32 labels_refs = 1;
  repeated V2Sample samples = 2;
  repeated bytes histograms = 3;
  repeated bytes exemplars = 4;
  V2Metadata metadata = 5;
}

message V2Sample {
  double value = 1;
  int64 timestamp = 2;
  int64 start_timestamp = 3;
}

message V2Metadata {
  int32 type = 1;
  uint32 help_ref = 3;
  uint32 unit_ref = 4;
}
`;

type Int64 = number | { toNumber(): number };

export interface WriteRequest {
  timeseries: Array<{
    labels: Array<{ name: string; value: string }>;
    samples: Array<{ value: number; timestamp: Int64 }>;
    exemplars: Uint8Array[];
    histograms: Uint8Array[];
  }>;
  metadata: Array<{ type: number; metric_family_name: string; help: string; unit: string }>;
}

export interface V2Request {
  symbols: string[];
  timeseries: Array<{
    labels_refs: number[];
    samples: Array<{ value: number; timestamp: Int64 }>;
    histograms: Uint8Array[];
    exemplars: Uint8Array[];
    metadata?: { type: number; help_ref: number; unit_ref: number } | null;
  }>;
}

const root = protobuf.parse(PROTO, { keepCase: true }).root;
const writeRequest = root.lookupType('prometheus.WriteRequest');
const v2Request = root.lookupType('prometheus.V2Request');

/** Throws on bytes that are not the message (truncated, wrong wire types). */
export function decodeWriteRequest(body: Uint8Array): WriteRequest {
  return writeRequest.decode(body) as unknown as WriteRequest;
}

export function decodeV2Request(body: Uint8Array): V2Request {
  return v2Request.decode(body) as unknown as V2Request;
}

/** For tests and tools that build requests. */
export function encodeWriteRequest(message: unknown): Uint8Array {
  return writeRequest.encode(writeRequest.fromObject(message as Record<string, unknown>)).finish();
}

export function encodeV2Request(message: unknown): Uint8Array {
  return v2Request.encode(v2Request.fromObject(message as Record<string, unknown>)).finish();
}

export function int64(value: Int64): number {
  return typeof value === 'number' ? value : value.toNumber();
}
