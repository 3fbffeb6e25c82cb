/**
 * Reads an ingestion request body as bytes: the size limit before and after decompression
 * (a gzip or snappy bomb is a 413, not an out-of-memory). What the bytes mean is the
 * receiver's business (receivers/).
 */
import type { Request } from 'express';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import snappy from 'snappy';
import { HttpError } from '../common/http-error.js';

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);

/** A Content-Encoding: how to undo it within `maxBytes` of output. */
type Decoder = (raw: Buffer, maxBytes: number) => Promise<Buffer>;

/** Content-Encodings by name (lowercase). A receiver lists the names it accepts. */
export const ENCODINGS = {
  identity: async (raw) => raw,
  gzip: (raw, maxBytes) => gunzip(raw, { maxOutputLength: maxBytes }),
  'x-gzip': (raw, maxBytes) => gunzip(raw, { maxOutputLength: maxBytes }),
  deflate: (raw, maxBytes) => inflate(raw, { maxOutputLength: maxBytes }),
  snappy: snappyBlock,
} satisfies Record<string, Decoder>;

export type Encoding = keyof typeof ENCODINGS;

/** The media type of the request without parameters, lowercase ('' when absent). */
export function mediaType(req: Request): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/**
 * The body, read within `maxBytes` and decoded by its Content-Encoding (one of `accepted`;
 * `fallback` when the header is absent).
 */
export async function readBody(
  req: Request,
  maxBytes: number,
  accepted: readonly Encoding[],
  fallback: Encoding = 'identity',
): Promise<Buffer> {
  const header = (req.headers['content-encoding'] ?? '').trim().toLowerCase();
  const name = (header === '' ? fallback : header) as Encoding;
  if (!accepted.includes(name)) {
    throw new HttpError(
      415,
      'unsupported_encoding',
      `unsupported Content-Encoding "${header || '(none)'}": use ${accepted.map((e) => (e === 'identity' ? 'none' : e)).join(', ')}`,
    );
  }
  const raw = await readRaw(req, maxBytes);
  try {
    return await ENCODINGS[name](raw, maxBytes);
  } catch (error) {
    if (error instanceof HttpError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || error instanceof RangeError) {
      throw tooLarge(maxBytes, 'decompressed request body');
    }
    throw new HttpError(400, 'invalid_compression', `request body is not valid ${name} data: ${(error as Error).message}`);
  }
}

/**
 * Snappy block format: the uncompressed length comes first as a varint, so a bomb is
 * refused by what it declares, before a byte is decompressed.
 */
async function snappyBlock(raw: Buffer, maxBytes: number): Promise<Buffer> {
  const declared = snappyLength(raw);
  if (declared === undefined) throw new Error('missing or corrupt length header');
  if (declared > maxBytes) throw tooLarge(maxBytes, `decompressed request body (declared ${declared} bytes)`);
  const out = (await snappy.uncompress(raw, { asBuffer: true })) as Buffer;
  if (out.length !== declared) throw new Error(`decompressed to ${out.length} bytes, not the declared ${declared}`);
  return out;
}

/** The varint that starts a snappy block (at most 32 bits), or undefined. */
export function snappyLength(raw: Buffer): number | undefined {
  let value = 0;
  for (let i = 0; i < 5 && i < raw.length; i++) {
    const byte = raw[i]!;
    value += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) return value;
  }
  return undefined;
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

export function tooLarge(maxBytes: number, what: string): HttpError {
  return new HttpError(413, 'too_large', `${what} is larger than the limit of ${maxBytes} bytes; split it into smaller batches`);
}
