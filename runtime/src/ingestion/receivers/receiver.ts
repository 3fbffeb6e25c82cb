/**
 * What a receiver declares (one file per wire format, listed in index.ts): its routes, and
 * for each route the signal, the content types with their decoders, the accepted
 * Content-Encodings, its limits and how it answers. The shared request path in ../app.ts
 * does the rest the same way for every format: authentication, the per-key rate limit, the
 * body limits before and after decompression, the 2xx only after the bus made the batch
 * durable, the metrics and the rejection log.
 */
import type { Response } from 'express';
import type { HttpError } from '../../common/http-error.js';
import type { Limits } from '../../model/limits.js';
import type { Normalised } from '../../model/records.js';
import type { LogEntry, MetricMetadata, Sample, Signal } from '../../model/types.js';
import type { Encoding } from '../body.js';
import type { LogDiscovery } from '../log-discovery.js';

export type RecordOf<S extends Signal> = S extends 'logs' ? LogEntry : Sample;

/** The Content-Type header, split: `application/x-protobuf;proto=x` → type + params. */
export interface ContentType {
  /** Lowercase, without parameters; '' when the header is absent. */
  type: string;
  /** Parameter names lowercase, values as sent (quotes removed). */
  params: Record<string, string>;
}

export interface DecodeContext {
  limits: Limits;
  /** Now, in nanoseconds since the epoch (one value for the whole request). */
  nowNs: bigint;
  /** Adds service_name and detected_level to valid log entries; every logs receiver runs its entries through it. */
  discovery: LogDiscovery;
}

/** What a decoder made of a body. */
export interface Decoded<S extends Signal> {
  /** Validated records, or every problem found (the request is then a 400). */
  result: Normalised<RecordOf<S>>;
  /** How many records the body held, for the rejected-events metric. */
  received: number;
  /** Metric families' type, help and unit the body carried (metrics receivers), stored beside the samples. */
  metadata?: MetricMetadata[];
  /** Things the body carried that Sextant does not store (counted in a metric, told in the answer). */
  dropped?: Partial<Record<DropKind, number>>;
  /**
   * Records refused while the rest is stored (OTLP's partial success), and why; their
   * count per reason is also in `dropped`. Absent for all-or-nothing receivers.
   */
  refused?: { count: number; errors: string[]; omitted?: number };
}

/**
 * Why part of an accepted request is not stored (the `kind` label of
 * sextant_ingest_dropped_total): kept apart by the sender's data, never by Sextant's state.
 */
export type DropKind =
  | 'exemplars'
  | 'histograms'
  | 'delta_temporality'
  | 'unspecified_temporality'
  | 'exponential_histograms'
  | 'invalid_points'
  | 'target_info';

export interface Format<S extends Signal> {
  /** The media type as documented, e.g. `application/x-ndjson`. */
  name: string;
  matches(contentType: ContentType): boolean;
  decode(body: Buffer, context: DecodeContext): Decoded<S>;
  /** This format's own Content-Encodings and default, over the route's (Loki's protobuf is snappy without saying so). */
  encodings?: readonly Encoding[];
  defaultEncoding?: Encoding;
}

export interface Route<S extends Signal = Signal> {
  path: string;
  signal: S;
  formats: readonly Format<S>[];
  /** Says what to send instead, in the 415 for any other Content-Type (default: the format names). */
  formatHint?: string;
  /** Content-Encodings accepted, and the one assumed when the header is absent. */
  encodings: readonly Encoding[];
  defaultEncoding?: Encoding;
  /** The 2xx answer once the records are durable. */
  accepted(res: Response, outcome: Outcome<S>): void;
  /** Headers every error answer carries (remote_write's written counts). */
  failed?(res: Response, error: HttpError): void;
  /** Writes a failure in the wire format's own shape (OTLP's google.rpc.Status); Sextant's JSON error otherwise. */
  sendError?(res: Response, error: HttpError): void;
}

export interface Outcome<S extends Signal> {
  decoded: Decoded<S>;
  records: number;
  /** Records the bus took as new (a replay of stored records is not new). */
  stored: number;
}

export interface Receiver {
  /** Names the receiver in metrics and logs: `native`, `prometheus_remote_write`, … */
  name: string;
  routes: readonly AnyRoute[];
}

export type AnyRoute = Route<'logs'> | Route<'metrics'>;
