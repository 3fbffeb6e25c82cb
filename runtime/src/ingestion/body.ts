/**
 * Reads an ingestion request body: size limit before and after decompression (a gzip bomb
 * is a 413, not an out-of-memory), UTF-8 validation, then JSON or NDJSON parsing.
 */
import { isUtf8 } from 'node:buffer';
import type { Request } from 'express';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { HttpError } from '../common/http-error.js';

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);

const JSON_TYPES = new Set(['application/json']);
const NDJSON_TYPES = new Set([
  'application/x-ndjson',
  'application/ndjson',
  'application/jsonl',
  'application/x-jsonlines',
  'application/jsonlines',
]);

export interface ParsedBody {
  /** The records of the body, before validation. */
  items: unknown[];
  /** Names an item in error messages: `entries[3]` for JSON, `line 4` for NDJSON. */
  pathOf: (index: number) => string;
  /** Decompressed size. */
  bytes: number;
}

/**
 * @param key the array property of a JSON body: `entries` for logs, `samples` for metrics.
 */
export async function readIngestBody(req: Request, key: string, maxBytes: number): Promise<ParsedBody> {
  const type = mediaType(req);
  const ndjson = NDJSON_TYPES.has(type);
  if (!ndjson && !JSON_TYPES.has(type)) {
    throw new HttpError(
      415,
      'unsupported_media_type',
      `unsupported Content-Type "${type || '(none)'}": send application/json ({"${key}":[...]}) or application/x-ndjson (one item per line)`,
    );
  }
  const raw = await readRaw(req, maxBytes);
  const body = await decompress(raw, req.headers['content-encoding'], maxBytes);
  if (!isUtf8(body)) throw new HttpError(400, 'invalid_utf8', 'request body is not valid UTF-8');
  const text = body.toString('utf8');
  return ndjson ? parseNdjson(text, body.length) : parseJson(text, key, body.length);
}

function mediaType(req: Request): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

function readRaw(req: Request, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (declared > maxBytes) return Promise.reject(tooLarge(maxBytes, 'request body'));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return; // the rest is read and discarded, so the client still sees the 413
      size += chunk.length;
      if (size > maxBytes) {
        failed = true;
        chunks.length = 0;
        reject(tooLarge(maxBytes, 'request body'));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks, size));
    });
    req.on('error', (error) => {
      if (!failed) reject(new HttpError(400, 'aborted', `request body could not be read: ${error.message}`));
    });
  });
}

async function decompress(raw: Buffer, encoding: string | undefined, maxBytes: number): Promise<Buffer> {
  const name = (encoding ?? 'identity').trim().toLowerCase();
  try {
    switch (name) {
      case 'identity':
      case '':
        return raw;
      case 'gzip':
      case 'x-gzip':
        return await gunzip(raw, { maxOutputLength: maxBytes });
      case 'deflate':
        return await inflate(raw, { maxOutputLength: maxBytes });
      default:
        throw new HttpError(415, 'unsupported_encoding', `unsupported Content-Encoding "${name}": use gzip, deflate or none`);
    }
  } catch (error) {
    if (error instanceof HttpError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || error instanceof RangeError) {
      throw tooLarge(maxBytes, 'decompressed request body');
    }
    throw new HttpError(400, 'invalid_compression', `request body is not valid ${name} data: ${(error as Error).message}`);
  }
}

function tooLarge(maxBytes: number, what: string): HttpError {
  return new HttpError(413, 'too_large', `${what} is larger than the limit of ${maxBytes} bytes; split it into smaller batches`);
}

function parseJson(text: string, key: string, bytes: number): ParsedBody {
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
  return { items, pathOf: (i) => `${key}[${i}]`, bytes };
}

function parseNdjson(text: string, bytes: number): ParsedBody {
  const items: unknown[] = [];
  const lines: number[] = [];
  let lineNumber = 0;
  for (const line of text.split('\n')) {
    lineNumber++;
    if (line.trim() === '') continue;
    items.push(parse(line, `line ${lineNumber}: `));
    lines.push(lineNumber);
  }
  return { items, pathOf: (i) => `line ${lines[i]}`, bytes };
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
