/**
 * OTLP/HTTP logs at POST /v1/logs (and /otlp/v1/logs, as Loki serves it): an
 * `ExportLogsServiceRequest` as protobuf or as OTLP's JSON (lowerCamelCase keys, hex trace
 * and span ids, int64 as strings or numbers, enums as integers, unknown fields ignored),
 * plain or gzip. Mapped as Loki 3 maps it: the resource attributes Loki indexes by default
 * become labels (dots → `_`; `service_name` is `unknown_service` without one); every other
 * resource attribute, the scope, the log attributes, trace_id, span_id and the severity
 * become fields, and the severity gives `detected_level`. The line is the body (other
 * types as JSON). Timestamp: time_unix_nano, else observed_time_unix_nano, else now.
 * All or nothing like the native API: 200 `{}` (an empty partial_success), or a 400.
 */
import { isUtf8 } from 'node:buffer';
import type { Response } from 'express';
import protobuf from 'protobufjs';
import { HttpError } from '../../common/http-error.js';
import { normaliseLogEntries } from '../../model/records.js';
import { formatNs } from '../../model/timestamp.js';
import type { DecodeContext, Decoded, Format, Receiver, Route } from './receiver.js';

// From opentelemetry-proto (Apache-2.0) `collector/logs/v1`, `logs/v1`, `common/v1`,
// `resource/v1`, written from its specification; only the fields Sextant reads.
const PROTO = `
syntax = "proto3";
package otlp;
message ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1; }
message ResourceLogs { Resource resource = 1; repeated ScopeLogs scope_logs = 2; }
message Resource { repeated KeyValue attributes = 1; }
message ScopeLogs { InstrumentationScope scope = 1; repeated LogRecord log_records = 2; }
message InstrumentationScope { string name = 1; string version = 2; repeated KeyValue attributes = 3; }
message LogRecord {
  fixed64 time_unix_nano = 1;
  fixed64 observed_time_unix_nano = 11;
  int32 severity_number = 2;
  string severity_text = 3;
  AnyValue body = 5;
  repeated KeyValue attributes = 6;
  bytes trace_id = 9;
  bytes span_id = 10;
  string event_name = 12;
}
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
`;

// Without keepCase protobufjs names the fields in lowerCamelCase, as OTLP's JSON does, so
// one walker reads both; only the value types differ (Long vs string, bytes vs hex).
const requestType = protobuf.parse(PROTO).root.lookupType('otlp.ExportLogsServiceRequest');

/** For tests and tools that build requests (JSON-like object with camelCase keys). */
export function encodeLogsRequest(message: unknown): Uint8Array {
  return requestType.encode(requestType.fromObject(message as Record<string, unknown>)).finish();
}

/** The resource attributes Loki 3 turns into index labels by default. */
const LABEL_ATTRIBUTES = new Set([
  'cloud.availability_zone',
  'cloud.region',
  'container.name',
  'deployment.environment.name',
  'k8s.cluster.name',
  'k8s.container.name',
  'k8s.cronjob.name',
  'k8s.daemonset.name',
  'k8s.deployment.name',
  'k8s.job.name',
  'k8s.namespace.name',
  'k8s.pod.name',
  'k8s.replicaset.name',
  'k8s.statefulset.name',
  'service.instance.id',
  'service.name',
  'service.namespace',
]);

/** OTel severity numbers in steps of 4: TRACE 1-4, DEBUG 5-8, INFO 9-12, WARN 13-16, ERROR 17-20, FATAL 21-24. */
const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

type Obj = Record<string, unknown>;

class Invalid extends Error {}

const asObj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const asList = (v: unknown, path: string): unknown[] => {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new Invalid(`${path}: must be an array`);
  return v;
};
const sanitise = (key: string) => key.replace(/[^a-zA-Z0-9_]/g, '_');

/** An int64/fixed64 as Long (protobuf), digit string or number (JSON). */
function int64(v: unknown, path: string): bigint | undefined {
  if (v === undefined || v === null || v === '' || v === 0) return undefined;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Invalid(`${path}: must be a finite integer, got ${v}`);
    return BigInt(Math.trunc(v));
  }
  const text = String(v);
  if (!/^-?\d{1,20}$/.test(text)) throw new Invalid(`${path}: must be an integer, got ${JSON.stringify(text.slice(0, 40))}`);
  const n = BigInt(text);
  return n === 0n ? undefined : n;
}

/** Trace and span ids: bytes (protobuf) or hex (JSON), as lowercase hex. */
function hexId(v: unknown, path: string): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (v instanceof Uint8Array) return v.length ? Buffer.from(v).toString('hex') : undefined;
  if (Array.isArray(v) && v.length === 0) return undefined; // protobufjs' default for absent bytes
  if (typeof v !== 'string' || !/^[0-9a-fA-F]*$/.test(v)) throw new Invalid(`${path}: must be a hex string`);
  return v.toLowerCase();
}

function anyValue(v: unknown, path: string, depth = 0): unknown {
  if (depth > 16) throw new Invalid(`${path}: nested deeper than 16 levels`);
  const raw = asObj(v);
  // A protobufjs message names its set oneof member in \`value\`; keep just that one (the
  // others read as their defaults). A JSON AnyValue holds only the member it sets.
  const set = raw.constructor !== Object && typeof raw.value === 'string' ? raw.value : undefined;
  const o: Obj = set ? { [set]: raw[set] } : raw;
  if ('stringValue' in o && o.stringValue !== undefined) return String(o.stringValue);
  if ('boolValue' in o && o.boolValue !== undefined) return Boolean(o.boolValue);
  if ('intValue' in o && o.intValue !== undefined) {
    const n = int64(o.intValue, `${path}.intValue`) ?? 0n;
    return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString();
  }
  if ('doubleValue' in o && o.doubleValue !== undefined) return Number(o.doubleValue);
  if ('arrayValue' in o && o.arrayValue) {
    return asList(asObj(o.arrayValue).values, `${path}.arrayValue.values`).map((x, i) =>
      anyValue(x, `${path}.arrayValue.values[${i}]`, depth + 1),
    );
  }
  if ('kvlistValue' in o && o.kvlistValue) return attributes(asObj(o.kvlistValue).values, `${path}.kvlistValue.values`, depth + 1);
  if ('bytesValue' in o && o.bytesValue !== undefined) {
    return o.bytesValue instanceof Uint8Array ? Buffer.from(o.bytesValue).toString('base64') : String(o.bytesValue);
  }
  return null;
}

function attributes(list: unknown, path: string, depth = 0): Obj {
  const out: Obj = {};
  asList(list, path).forEach((kv, i) => {
    const { key, value } = asObj(kv);
    if (typeof key !== 'string' || key === '') throw new Invalid(`${path}[${i}].key: must be a non-empty string`);
    out[key] = anyValue(value, `${path}[${i}].value`, depth);
  });
  return out;
}

function line(body: unknown): string {
  if (body === null || body === undefined) return '';
  return typeof body === 'string' ? body : JSON.stringify(body);
}

function level(severityNumber: number, severityText: string): string | undefined {
  if (severityNumber >= 1 && severityNumber <= 24) return LEVELS[Math.floor((severityNumber - 1) / 4)];
  return severityText ? severityText.toLowerCase() : undefined;
}

interface RawEntry {
  labels: Record<string, string>;
  message: string;
  timestamp?: string;
  fields: Obj;
}

/** The request (protobuf-decoded or JSON-parsed, both camelCase) → entries in the native API's shape. */
function toEntries(request: unknown, context: DecodeContext): Decoded<'logs'> {
  const entries: RawEntry[] = [];
  const paths: string[] = [];
  asList(asObj(request).resourceLogs, 'resourceLogs').forEach((rl, r) => {
    const resource = attributes(asObj(asObj(rl).resource).attributes, `resourceLogs[${r}].resource.attributes`);
    const labels: Record<string, string> = {};
    const resourceFields: Obj = {};
    for (const [key, value] of Object.entries(resource)) {
      if (LABEL_ATTRIBUTES.has(key) && (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')) {
        labels[sanitise(key)] = String(value);
      } else resourceFields[sanitise(key)] = value;
    }
    labels.service_name ??= 'unknown_service';
    asList(asObj(rl).scopeLogs, `resourceLogs[${r}].scopeLogs`).forEach((sl, s) => {
      const scope = asObj(asObj(sl).scope);
      const scopeFields: Obj = {};
      if (scope.name) scopeFields.scope_name = String(scope.name);
      if (scope.version) scopeFields.scope_version = String(scope.version);
      asList(asObj(sl).logRecords, `resourceLogs[${r}].scopeLogs[${s}].logRecords`).forEach((lr, l) => {
        const path = `resourceLogs[${r}].scopeLogs[${s}].logRecords[${l}]`;
        const record = asObj(lr);
        const fields: Obj = { ...resourceFields, ...scopeFields };
        for (const [key, value] of Object.entries(attributes(record.attributes, `${path}.attributes`))) fields[sanitise(key)] = value;
        const traceId = hexId(record.traceId, `${path}.traceId`);
        const spanId = hexId(record.spanId, `${path}.spanId`);
        if (traceId) fields.trace_id = traceId;
        if (spanId) fields.span_id = spanId;
        const severityNumber = Number(record.severityNumber ?? 0);
        const severityText = typeof record.severityText === 'string' ? record.severityText : '';
        if (severityText) fields.severity_text = severityText;
        if (severityNumber) fields.severity_number = severityNumber;
        const detected = level(severityNumber, severityText);
        if (detected) fields.detected_level = detected;
        if (record.eventName) fields.event_name = String(record.eventName);
        const ns = int64(record.timeUnixNano, `${path}.timeUnixNano`) ?? int64(record.observedTimeUnixNano, `${path}.observedTimeUnixNano`);
        entries.push({
          labels,
          message: line(anyValue(record.body, `${path}.body`)),
          ...(ns === undefined ? {} : { timestamp: ns < 0n ? String(ns) : formatNs(ns) }),
          fields,
        });
        paths.push(path);
      });
    });
  });
  return { result: normaliseLogEntries(entries, (i) => paths[i]!, context.limits, context.nowNs), received: entries.length };
}

function guarded(decode: () => unknown, context: DecodeContext): Decoded<'logs'> {
  try {
    return toEntries(decode(), context);
  } catch (error) {
    if (error instanceof Invalid) throw new HttpError(400, 'invalid', error.message);
    throw error;
  }
}

const protobufFormat: Format<'logs'> = {
  name: 'application/x-protobuf',
  matches: (c) => c.type === 'application/x-protobuf',
  decode(body, context) {
    return guarded(() => {
      try {
        return requestType.decode(body);
      } catch (error) {
        throw new HttpError(400, 'invalid_protobuf', `request body is not a valid ExportLogsServiceRequest: ${(error as Error).message}`);
      }
    }, context);
  },
};

const jsonFormat: Format<'logs'> = {
  name: 'application/json',
  matches: (c) => c.type === 'application/json',
  decode(body, context) {
    if (!isUtf8(body)) throw new HttpError(400, 'invalid_utf8', 'request body is not valid UTF-8');
    return guarded(() => {
      try {
        return JSON.parse(body.toString('utf8'));
      } catch (error) {
        throw new HttpError(400, 'malformed_json', `malformed JSON: ${error instanceof SyntaxError ? error.message : 'nested too deeply'}`);
      }
    }, context);
  },
};

/** 200 with an empty partial_success, in the request's encoding (an empty protobuf message is zero bytes). */
function accepted(res: Response): void {
  if (res.req.headers['content-type']?.toLowerCase().startsWith('application/x-protobuf')) {
    res.status(200).type('application/x-protobuf').send(Buffer.alloc(0));
  } else res.status(200).json({});
}

const route = (path: string): Route<'logs'> => ({
  path,
  signal: 'logs',
  formats: [protobufFormat, jsonFormat],
  encodings: ['identity', 'gzip', 'x-gzip', 'deflate'],
  accepted,
});

export const otlpLogs: Receiver = {
  name: 'otlp_logs',
  routes: [route('/v1/logs'), route('/otlp/v1/logs')],
};
