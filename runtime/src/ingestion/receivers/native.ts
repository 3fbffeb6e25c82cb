/**
 * Sextant's own JSON API (docs/architecture.md §2): POST /api/v1/logs `{"entries":[…]}` and
 * /api/v1/metrics `{"samples":[…]}`, as JSON or NDJSON (one item per line), optionally
 * gzip or deflate. Answers 200 `{accepted, stored}`. Log entries get `service_name` and
 * `detected_level` as Loki's push does (../log-discovery.ts).
 */
import { isUtf8 } from 'node:buffer';
import { HttpError } from '../../common/http-error.js';
import { normaliseLogEntries, normaliseSamples, type Normalised } from '../../model/records.js';
import type { Signal } from '../../model/types.js';
import type { ContentType, DecodeContext, Format, Receiver, RecordOf, Route } from './receiver.js';

const NDJSON_TYPES = new Set([
  'application/x-ndjson',
  'application/ndjson',
  'application/jsonl',
  'application/x-jsonlines',
  'application/jsonlines',
]);

type Normalise<S extends Signal> = (items: unknown[], pathOf: (i: number) => string, context: DecodeContext) => Normalised<RecordOf<S>>;

interface Items {
  items: unknown[];
  /** Names an item in error messages: `entries[3]` for JSON, `line 4` for NDJSON. */
  pathOf: (index: number) => string;
}

function route<S extends Signal>(path: string, signal: S, key: string, normalise: Normalise<S>): Route<S> {
  const format = (name: string, matches: (c: ContentType) => boolean, parse: (text: string) => Items): Format<S> => ({
    name,
    matches,
    decode(body, context) {
      if (!isUtf8(body)) throw new HttpError(400, 'invalid_utf8', 'request body is not valid UTF-8');
      const { items, pathOf } = parse(body.toString('utf8'));
      return { result: normalise(items, pathOf, context), received: items.length };
    },
  });
  return {
    path,
    signal,
    formats: [
      format(
        'application/json',
        (c) => c.type === 'application/json',
        (text) => parseJson(text, key),
      ),
      format('application/x-ndjson', (c) => NDJSON_TYPES.has(c.type), parseNdjson),
    ],
    formatHint: `application/json ({"${key}":[...]}) or application/x-ndjson (one item per line)`,
    encodings: ['identity', 'gzip', 'x-gzip', 'deflate'],
    accepted: (res, outcome) => res.status(200).json({ accepted: outcome.records, stored: outcome.stored }),
  };
}

export const native: Receiver = {
  name: 'native',
  routes: [
    route('/api/v1/logs', 'logs', 'entries', (items, pathOf, c) =>
      c.discovery.applyAll(normaliseLogEntries(items, pathOf, c.limits, c.nowNs)),
    ),
    route('/api/v1/metrics', 'metrics', 'samples', (items, pathOf, c) => normaliseSamples(items, pathOf, c.limits, c.nowNs)),
  ],
};

function parseJson(text: string, key: string): Items {
  const doc = parse(text, '');
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new HttpError(400, 'invalid_body', `request body must be a JSON object {"${key}":[...]}`);
  }
  const extra = Object.keys(doc).filter((k) => k !== key);
  if (extra.length > 0) {
    throw new HttpError(400, 'invalid_body', `${extra[0]}: unknown field (expected "${key}")`);
  }
  const items = (doc as Record<string, unknown>)[key];
  if (!Array.isArray(items)) {
    throw new HttpError(400, 'invalid_body', `${key}: ${items === undefined ? 'is required' : 'must be an array'}`);
  }
  return { items, pathOf: (i) => `${key}[${i}]` };
}

function parseNdjson(text: string): Items {
  const items: unknown[] = [];
  const lines: number[] = [];
  let lineNumber = 0;
  for (const line of text.split('\n')) {
    lineNumber++;
    if (line.trim() === '') continue;
    items.push(parse(line, `line ${lineNumber}: `));
    lines.push(lineNumber);
  }
  return { items, pathOf: (i) => `line ${lines[i]}` };
}

function parse(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    // A RangeError here is a stack overflow from absurd nesting: still the client's fault.
    const detail = error instanceof SyntaxError ? error.message : 'nested too deeply';
    throw new HttpError(400, 'malformed_json', `${where}malformed JSON: ${detail}`);
  }
}
