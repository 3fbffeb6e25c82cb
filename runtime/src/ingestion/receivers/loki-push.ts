/**
 * Loki's push API at POST /loki/api/v1/push, as Promtail, Alloy, Vector and Fluent Bit send
 * it: snappy-compressed protobuf `logproto.PushRequest` (the default), or JSON
 * `{"streams":[{"stream":{…},"values":[["<ns>","<line>",{…metadata}]]}]}`, plain or gzip.
 * Stream labels become the entry's labels, structured metadata its `fields`; then
 * `service_name` and `detected_level` are discovered as Loki does (../log-discovery.ts). All or
 * nothing like the native API (the same limits and checks); answers 204. `X-Scope-OrgID`
 * is not used: a Sextant pipeline is one tenant.
 */
import { isUtf8 } from 'node:buffer';
import protobuf from 'protobufjs';
import { HttpError } from '../../common/http-error.js';
import { LABEL_NAME_SYNTAX } from '../../model/labels.js';
import { normaliseLogEntries } from '../../model/records.js';
import { formatNs } from '../../model/timestamp.js';
import type { DecodeContext, Decoded, Format, Receiver } from './receiver.js';

// The messages from Loki's push API (pkg/push, Apache-2.0), written from its documentation;
// only the fields Sextant reads.
const PROTO = `
syntax = "proto3";
package logproto;
message PushRequest { repeated StreamAdapter streams = 1; }
message StreamAdapter { string labels = 1; repeated EntryAdapter entries = 2; uint64 hash = 3; }
message EntryAdapter { Timestamp timestamp = 1; string line = 2; repeated LabelPairAdapter structuredMetadata = 3; }
message LabelPairAdapter { string name = 1; string value = 2; }
message Timestamp { int64 seconds = 1; int32 nanos = 2; }
`;

type Int64 = number | { toString(): string };

interface PushRequest {
  streams: Array<{
    labels: string;
    entries: Array<{
      timestamp?: { seconds: Int64; nanos: number } | null;
      line: string;
      structuredMetadata: Array<{ name: string; value: string }>;
    }>;
  }>;
}

const pushRequest = protobuf.parse(PROTO, { keepCase: true }).root.lookupType('logproto.PushRequest');

/** For tests and tools that build requests. */
export function encodePushRequest(message: unknown): Uint8Array {
  return pushRequest.encode(pushRequest.fromObject(message as Record<string, unknown>)).finish();
}

/** An entry before validation, in the native API's shape (so the same checks apply). */
interface RawEntry {
  labels: Record<string, string>;
  message: string;
  timestamp: string;
  fields?: Record<string, string>;
}

function validate(entries: RawEntry[], paths: string[], context: DecodeContext): Decoded<'logs'> {
  const result = normaliseLogEntries(entries, (i) => paths[i]!, context.limits, context.nowNs);
  return { result: context.discovery.applyAll(result), received: entries.length };
}

const protobufFormat: Format<'logs'> = {
  name: 'application/x-protobuf (logproto.PushRequest, snappy)',
  matches: (c) => c.type === 'application/x-protobuf',
  // Promtail and Alloy send the snappy block without a Content-Encoding header.
  encodings: ['snappy'],
  defaultEncoding: 'snappy',
  decode(body, context) {
    let request: PushRequest;
    try {
      request = pushRequest.decode(body) as unknown as PushRequest;
    } catch (error) {
      throw new HttpError(400, 'invalid_protobuf', `request body is not a valid logproto.PushRequest: ${(error as Error).message}`);
    }
    const entries: RawEntry[] = [];
    const paths: string[] = [];
    request.streams.forEach((stream, s) => {
      const labels = parseSelector(stream.labels, `streams[${s}].labels`);
      stream.entries.forEach((entry, e) => {
        if (!entry.timestamp) throw bad(`streams[${s}].entries[${e}].timestamp: is required`);
        const seconds = BigInt(String(entry.timestamp?.seconds ?? 0));
        const ns = seconds * 1_000_000_000n + BigInt(entry.timestamp?.nanos ?? 0);
        const fields = Object.fromEntries(entry.structuredMetadata.map((m) => [m.name, m.value]));
        entries.push({
          labels,
          message: entry.line,
          timestamp: ns < 0n ? String(ns) : formatNs(ns),
          ...(entry.structuredMetadata.length ? { fields } : {}),
        });
        paths.push(`streams[${s}].entries[${e}]`);
      });
    });
    return validate(entries, paths, context);
  },
};

const jsonFormat: Format<'logs'> = {
  name: 'application/json',
  matches: (c) => c.type === 'application/json',
  decode(body, context) {
    if (!isUtf8(body)) throw new HttpError(400, 'invalid_utf8', 'request body is not valid UTF-8');
    let doc: unknown;
    try {
      doc = JSON.parse(body.toString('utf8'));
    } catch (error) {
      throw new HttpError(400, 'malformed_json', `malformed JSON: ${error instanceof SyntaxError ? error.message : 'nested too deeply'}`);
    }
    const streams = (doc as { streams?: unknown } | null)?.streams;
    if (!Array.isArray(streams))
      throw new HttpError(400, 'invalid_body', 'request body must be {"streams":[{"stream":{…},"values":[["<ns>","<line>"]]}]}');
    const entries: RawEntry[] = [];
    const paths: string[] = [];
    streams.forEach((stream: unknown, s) => {
      const { stream: labels, values } = (stream ?? {}) as { stream?: unknown; values?: unknown };
      if (!isStringRecord(labels)) throw bad(`streams[${s}].stream: must be an object of label names to strings`);
      if (!Array.isArray(values)) throw bad(`streams[${s}].values: must be an array of ["<ns>", "<line>"] pairs`);
      values.forEach((value: unknown, v) => {
        const path = `streams[${s}].values[${v}]`;
        if (!Array.isArray(value) || value.length < 2 || value.length > 3)
          throw bad(`${path}: must be ["<ns>", "<line>"] or ["<ns>", "<line>", {metadata}]`);
        const [ts, line, metadata] = value as unknown[];
        if (typeof ts !== 'string' || !/^\d{1,19}$/.test(ts))
          throw bad(`${path}[0]: the timestamp must be a string of nanosecond digits, got ${JSON.stringify(ts)?.slice(0, 40)}`);
        if (typeof line !== 'string') throw bad(`${path}[1]: the line must be a string`);
        if (metadata !== undefined && !isStringRecord(metadata)) throw bad(`${path}[2]: structured metadata must be an object of strings`);
        entries.push({
          labels,
          message: line,
          timestamp: formatNs(BigInt(ts)),
          ...(metadata && Object.keys(metadata).length ? { fields: metadata } : {}),
        });
        paths.push(path);
      });
    });
    return validate(entries, paths, context);
  },
};

function bad(message: string): HttpError {
  return new HttpError(400, 'invalid_body', message);
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string');
}

const PAIR = new RegExp(String.raw`\s*(${LABEL_NAME_SYNTAX})\s*=\s*"((?:[^"\\]|\\.)*)"\s*(,|\})`, 'y');

/** `{a="b", c="d\"e"}` → labels; anything else is a 400 naming the stream. */
export function parseSelector(text: string, path: string): Record<string, string> {
  const fail = () => bad(`${path}: ${JSON.stringify(text.slice(0, 80))} is not a label set like {service="api"}`);
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) throw fail();
  const labels: Record<string, string> = {};
  if (/^\{\s*\}$/.test(trimmed)) return labels;
  PAIR.lastIndex = 1;
  for (;;) {
    const match = PAIR.exec(trimmed);
    if (!match) throw fail();
    let value: string;
    try {
      value = JSON.parse(`"${match[2]!}"`) as string;
    } catch {
      throw fail();
    }
    if (match[1]! in labels) throw bad(`${path}: duplicate label name "${match[1]}"`);
    labels[match[1]!] = value;
    if (match[3] === '}') {
      if (PAIR.lastIndex !== trimmed.length) throw fail();
      return labels;
    }
  }
}

export const lokiPush: Receiver = {
  name: 'loki_push',
  routes: [
    {
      path: '/loki/api/v1/push',
      signal: 'logs',
      formats: [protobufFormat, jsonFormat],
      formatHint: 'application/x-protobuf (snappy logproto.PushRequest) or application/json ({"streams":[…]})',
      encodings: ['identity', 'gzip', 'x-gzip', 'deflate'],
      accepted: (res) => res.status(204).end(),
    },
  ],
};
