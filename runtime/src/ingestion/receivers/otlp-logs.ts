/**
 * OTLP/HTTP logs at POST /v1/logs (and /otlp/v1/logs, as Loki serves it): an
 * `ExportLogsServiceRequest` as protobuf or as OTLP's JSON (lowerCamelCase keys, hex trace
 * and span ids, int64 as strings or numbers, enums as integers, unknown fields ignored),
 * plain or gzip. Mapped as Loki 3 maps it: the resource attributes Loki indexes by default
 * become labels (dots → `_`); every other resource attribute, the scope, the log
 * attributes, trace_id, span_id and the severity become fields. Without `service.name`,
 * `service_name` is discovered from the other labels as for any push, else
 * `unknown_service` (../log-discovery.ts); the severity number gives `detected_level`,
 * else the same discovery does (from `severity_text`, a level attribute or the line). The
 * line is the body (other types as JSON). Timestamp: time_unix_nano, else
 * observed_time_unix_nano, else now.
 * All or nothing like the native API: 200 `{}` (an empty partial_success), or a 400 whose
 * body is a `google.rpc.Status` naming the problem, as OTLP/HTTP answers failures.
 */
import type { Response } from 'express';
import protobuf from 'protobufjs';
import { normaliseLogEntries } from '../../model/records.js';
import { DETECTED_LEVEL, SERVICE_NAME } from '../log-discovery.js';
import { formatNs } from '../../model/timestamp.js';
import { anyValue, asList, asObj, attributes, COMMON_PROTO, hexId, int64, type Obj, otlpFormats, sendStatus } from './otlp-common.js';
import type { DecodeContext, Decoded, Receiver, Route } from './receiver.js';

// From opentelemetry-proto (Apache-2.0) `collector/logs/v1`, `logs/v1`, written from its
// specification; only the fields Sextant reads.
const PROTO = `
syntax = "proto3";
package otlp;
message ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1; }
message ResourceLogs { Resource resource = 1; repeated ScopeLogs scope_logs = 2; }
message ScopeLogs { InstrumentationScope scope = 1; repeated LogRecord log_records = 2; }
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
${COMMON_PROTO}
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

const sanitise = (key: string) => key.replace(/[^a-zA-Z0-9_]/g, '_');

function line(body: unknown): string {
  if (body === null || body === undefined) return '';
  return typeof body === 'string' ? body : JSON.stringify(body);
}

/** The level a severity number stands for; without one, discovery reads `severity_text` like any level field. */
function severityLevel(severityNumber: number): string | undefined {
  return severityNumber >= 1 && severityNumber <= 24 ? LEVELS[Math.floor((severityNumber - 1) / 4)] : undefined;
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
    // Loki's OTLP mapping always names the service, also with service_name discovery off.
    if (!labels[SERVICE_NAME]) labels[SERVICE_NAME] = context.discovery.serviceNameOf(labels);
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
        const detected = context.discovery.config.discoverLogLevels ? severityLevel(severityNumber) : undefined;
        if (detected) fields[DETECTED_LEVEL] = detected;
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
  const result = normaliseLogEntries(entries, (i) => paths[i]!, context.limits, context.nowNs);
  return { result: context.discovery.applyAll(result), received: entries.length };
}

/** 200 with an empty partial_success, in the request's encoding (an empty protobuf message is zero bytes). */
function accepted(res: Response): void {
  if (res.req.headers['content-type']?.toLowerCase().startsWith('application/x-protobuf')) {
    res.status(200).type('application/x-protobuf').send(Buffer.alloc(0));
  } else res.status(200).json({});
}

const route = (path: string): Route<'logs'> => ({
  path,
  signal: 'logs',
  formats: otlpFormats(requestType, toEntries),
  encodings: ['identity', 'gzip', 'x-gzip', 'deflate'],
  accepted,
  sendError: sendStatus,
});

export const otlpLogs: Receiver = {
  name: 'otlp_logs',
  routes: [route('/v1/logs'), route('/otlp/v1/logs')],
};
