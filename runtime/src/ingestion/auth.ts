/**
 * API-key authentication: `Authorization: Bearer <key>`, `X-API-Key: <key>`, or Basic auth
 * with the key as the password (the user name is ignored: many senders, Prometheus' and
 * Fluent Bit's among them, offer only a user/password pair). Keys are
 * compared as SHA-256 digests with timingSafeEqual (constant time, equal lengths) and are
 * never logged; a request is known downstream only by a short digest prefix (its key id).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { HttpError, sendError } from '../common/http-error.js';

export class ApiKeys {
  private readonly digests: Buffer[];

  constructor(keys: readonly string[]) {
    if (keys.length === 0) throw new Error('at least one API key is required');
    this.digests = keys.map(digest);
  }

  /** The key id of a valid key, or undefined. Every stored digest is compared, always. */
  identify(presented: string): string | undefined {
    const d = digest(presented);
    let found = false;
    for (const known of this.digests) found = timingSafeEqual(d, known) || found;
    return found ? keyId(presented) : undefined;
  }
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

/** A non-secret name for a key: the first 12 hex digits of its SHA-256. */
export function keyId(key: string): string {
  return digest(key).toString('hex').slice(0, 12);
}

export function presentedKey(req: Pick<Request, 'headers'>): string | undefined {
  const header = req.headers.authorization;
  if (header) {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (bearer) return bearer[1];
    const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    if (!basic) return undefined;
    const pair = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = pair.indexOf(':');
    return colon >= 0 && colon < pair.length - 1 ? pair.slice(colon + 1) : undefined;
  }
  const key = req.headers['x-api-key'];
  return typeof key === 'string' && key.length > 0 ? key : undefined;
}

/** Express middleware: 401 without a valid key; sets res.locals.keyId otherwise. */
export function requireApiKey(keys: ApiKeys, onReject?: (req: Request, reason: string) => void) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const key = presentedKey(req);
    if (key === undefined) {
      onReject?.(req, 'unauthorized');
      const malformed = Boolean(req.headers.authorization);
      sendError(
        res,
        new HttpError(
          401,
          'unauthorized',
          malformed
            ? 'malformed Authorization header: expected "Bearer <key>" or Basic auth with the key as the password'
            : 'missing API key: send "Authorization: Bearer <key>" or "X-API-Key: <key>"',
        ),
      );
      return;
    }
    const id = keys.identify(key);
    if (id === undefined) {
      onReject?.(req, 'unauthorized');
      sendError(res, new HttpError(401, 'unauthorized', 'invalid API key'));
      return;
    }
    res.locals.keyId = id;
    next();
  };
}
