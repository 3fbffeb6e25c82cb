/**
 * What the OTLP/HTTP receivers (otlp-logs.ts, otlp-metrics.ts) share: the common and
 * resource messages, the readers that take a protobufjs-decoded message and OTLP's JSON
 * alike (both camelCase; Long vs digit string, bytes vs hex), the two body formats, and the
 * answers of the OTLP/HTTP specification (a response message in the request's encoding, a
 * `google.rpc.Status` on failure).
 */
import { isUtf8 } from 'node:buffer';
import type { Response } from 'express';
import protobuf from 'protobufjs';
import { HttpError } from '../../common/http-error.js';
import type { Signal } from '../../model/types.js';
import type { DecodeContext, Decoded, Format } from './receiver.js';

// From opentelemetry-proto (Apache-2.0) `common/v1` and `resource/v1`, written from its
// specification; only the fields Sextant reads. `google.rpc.Status` from googleapis
// (Apache-2.0) without its `details`, which Sextant never sends.
export const COMMON_PROTO = `
message Resource { repeated KeyValue attributes = 1; }
message InstrumentationScope { string name = 1; string version = 2; repeated KeyValue attributes = 3; }
message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue {
  oneof value {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
    ArrayValue array_value = 5;
    KeyValueList kvlist_value = 6;
    bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message Status { int32 code = 1; string message = 2; }
`;

export type Obj = Record<string, unknown>;

/** A problem in the request's structure: the whole request is a 400 naming it. */
export class Invalid extends Error {}

export const asObj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});

export const asList = (v: unknown, path: string): unknown[] => {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new Invalid(`${path}: must be an array`);
  return v;
};

/** An int64/fixed64 as Long (protobuf), digit string or number (JSON); undefined for absent or 0. */
export function int64(v: unknown, path: string): bigint | undefined {
  if (v === undefined || v === null || v === '' || v === 0) return undefined;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Invalid(`${path}: must be a finite integer, got ${v}`);
    return BigInt(Math.trunc(v));
  }
  if (typeof v === 'object' && 'low' in v && 'high' in v) {
    // A protobufjs Long, from its two 32-bit halves: Long's own toString is the hot path's cost.
    const { low, high, unsigned } = v as { low: number; high: number; unsigned?: boolean };
    const n = (BigInt(unsigned ? high >>> 0 : high) << 32n) + BigInt(low >>> 0);
    return n === 0n ? undefined : n;
  }
  const text = String(v);
  if (!/^-?\d{1,20}$/.test(text)) throw new Invalid(`${path}: must be an integer, got ${JSON.stringify(text.slice(0, 40))}`);
  const n = BigInt(text);
  return n === 0n ? undefined : n;
}

/** A double as protobufjs gives it, or as OTLP JSON writes it (a number, or "NaN", "Infinity", "-Infinity" as proto3 JSON does). */
export function double(v: unknown, path: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    if (v === 'NaN') return NaN;
    if (v === 'Infinity') return Infinity;
    if (v === '-Infinity') return -Infinity;
    const n = v.trim() === '' ? NaN : Number(v);
    if (!Number.isNaN(n)) return n;
  }
  throw new Invalid(`${path}: must be a number, got ${JSON.stringify(v)?.slice(0, 40)}`);
}

/** Trace and span ids: bytes (protobuf) or hex (JSON), as lowercase hex. */
export function hexId(v: unknown, path: string): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (v instanceof Uint8Array) return v.length ? Buffer.from(v).toString('hex') : undefined;
  if (Array.isArray(v) && v.length === 0) return undefined; // protobufjs' default for absent bytes
  if (typeof v !== 'string' || !/^[0-9a-fA-F]*$/.test(v)) throw new Invalid(`${path}: must be a hex string`);
  return v.toLowerCase();
}

/**
 * Whether a message sets a field. protobufjs gives a decoded message own properties only for
 * the fields on the wire (defaults live on its prototype, a oneof's name is a getter there),
 * and a JSON object holds only the keys sent, so one test reads both, and reads a oneof's
 * member without the getter (which walks the oneof's fields on every call).
 */
export const has = (o: Obj, key: string): boolean => Object.hasOwn(o, key) && o[key] !== undefined && o[key] !== null;

export const MAX_ATTRIBUTE_DEPTH = 16;

export function anyValue(v: unknown, path: string, depth = 0): unknown {
  if (depth > MAX_ATTRIBUTE_DEPTH) throw new Invalid(`${path}: nested deeper than ${MAX_ATTRIBUTE_DEPTH} levels`);
  const o = asObj(v);
  if (has(o, 'stringValue')) return String(o.stringValue);
  if (has(o, 'boolValue')) return Boolean(o.boolValue);
  if (has(o, 'intValue')) {
    const n = int64(o.intValue, `${path}.intValue`) ?? 0n;
    return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString();
  }
  if (has(o, 'doubleValue')) return double(o.doubleValue, `${path}.doubleValue`);
  if (has(o, 'arrayValue')) {
    return asList(asObj(o.arrayValue).values, `${path}.arrayValue.values`).map((x, i) =>
      anyValue(x, `${path}.arrayValue.values[${i}]`, depth + 1),
    );
  }
  if (has(o, 'kvlistValue')) return attributes(asObj(o.kvlistValue).values, `${path}.kvlistValue.values`, depth + 1);
  if (has(o, 'bytesValue')) {
    return o.bytesValue instanceof Uint8Array ? Buffer.from(o.bytesValue).toString('base64') : String(o.bytesValue);
  }
  return null;
}

/** A KeyValue list as an object, in the order sent (a repeated key: the last wins). */
export function attributes(list: unknown, path: string, depth = 0): Obj {
  const out: Obj = {};
  asList(list, path).forEach((kv, i) => {
    const { key, value } = asObj(kv);
    if (typeof key !== 'string' || key === '') throw new Invalid(`${path}[${i}].key: must be a non-empty string`);
    out[key] = anyValue(value, `${path}[${i}].value`, depth);
  });
  return out;
}

/** The two bodies OTLP/HTTP allows, for one export request type; `translate` walks the camelCase object. */
export function otlpFormats<S extends Signal>(
  requestType: protobuf.Type,
  translate: (request: unknown, context: DecodeContext) => Decoded<S>,
): Format<S>[] {
  const guarded = (decode: () => unknown, context: DecodeContext): Decoded<S> => {
    try {
      return translate(decode(), context);
    } catch (error) {
      if (error instanceof Invalid) throw new HttpError(400, 'invalid', error.message);
      throw error;
    }
  };
  return [
    {
      name: 'application/x-protobuf',
      matches: (c) => c.type === 'application/x-protobuf',
      decode(body, context) {
        return guarded(() => {
          try {
            return requestType.decode(body);
          } catch (error) {
            throw new HttpError(400, 'invalid_protobuf', `request body is not a valid ${requestType.name}: ${(error as Error).message}`);
          }
        }, context);
      },
    },
    {
      name: 'application/json',
      matches: (c) => c.type === 'application/json',
      decode(body, context) {
        if (!isUtf8(body)) throw new HttpError(400, 'invalid_utf8', 'request body is not valid UTF-8');
        return guarded(() => {
          try {
            return JSON.parse(body.toString('utf8'));
          } catch (error) {
            throw new HttpError(
              400,
              'malformed_json',
              `malformed JSON: ${error instanceof SyntaxError ? error.message : 'nested too deeply'}`,
            );
          }
        }, context);
      },
    },
  ];
}

/** Whether the request was protobuf: OTLP/HTTP answers in the request's encoding. */
export function wantsProtobuf(res: Response): boolean {
  return res.req.headers['content-type']?.trim().toLowerCase().startsWith('application/x-protobuf') ?? false;
}

/** A 200 with the export response message (`{}` when nothing was refused), protobuf or JSON as the request. */
export function sendExportResponse(res: Response, responseType: protobuf.Type, message: Obj): void {
  if (wantsProtobuf(res)) {
    res
      .status(200)
      .type('application/x-protobuf')
      .send(Buffer.from(responseType.encode(responseType.fromObject(message)).finish()));
  } else res.status(200).json(message);
}

/** The gRPC code a `google.rpc.Status` carries for an HTTP status (the OTLP/HTTP client reads only the HTTP status). */
const GRPC_CODES: Record<number, number> = {
  400: 3, // INVALID_ARGUMENT
  401: 16, // UNAUTHENTICATED
  403: 7, // PERMISSION_DENIED
  413: 3, // INVALID_ARGUMENT: the same body will never fit
  415: 3,
  429: 8, // RESOURCE_EXHAUSTED
  500: 13, // INTERNAL
  503: 14, // UNAVAILABLE
};

const statusType = protobuf.parse(`syntax = "proto3"; package otlp.status; ${COMMON_PROTO}`).root.lookupType('otlp.status.Status');

/**
 * A failure as OTLP/HTTP answers it: the HTTP status, `Retry-After` where a retry helps, and
 * a `google.rpc.Status` whose message says what is wrong (protobuf for a protobuf request,
 * JSON otherwise, and for a 415 whose type is unknown).
 */
export function sendStatus(res: Response, error: HttpError): void {
  if (error.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(error.retryAfterSeconds));
  const message = error.details && error.details.length > 1 ? error.details.join('; ') : error.message;
  const status = { code: GRPC_CODES[error.status] ?? 2 /* UNKNOWN */, message };
  if (wantsProtobuf(res) && error.status !== 415) {
    res
      .status(error.status)
      .type('application/x-protobuf')
      .send(Buffer.from(statusType.encode(statusType.fromObject(status)).finish()));
  } else res.status(error.status).json(status);
}

/** Decodes a `google.rpc.Status` answer (for tests and tools). */
export function decodeStatus(body: Uint8Array): { code: number; message: string } {
  return statusType.toObject(statusType.decode(body), { defaults: true }) as { code: number; message: string };
}
