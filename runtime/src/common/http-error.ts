/**
 * Errors of the native endpoints (docs/architecture.md §2): JSON `{error, code, reason, details?}` where
 * `error` says what is wrong and names the path of the bad field, `code` is the HTTP status
 * and `reason` a stable machine-readable word that is also the metrics label.
 */
import type { Response } from 'express';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly details?: string[],
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

export function sendError(res: Response, error: HttpError): void {
  if (error.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(error.retryAfterSeconds));
  if (error.status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="sextant"');
  const body: Record<string, unknown> = { error: error.message, code: error.status, reason: error.reason };
  if (error.details && error.details.length > 1) body.details = error.details;
  res.status(error.status).json(body);
}
