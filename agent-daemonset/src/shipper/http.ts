/**
 * One POST to the ingestion API and what its answer means for the sender (DESIGN §2):
 * 2xx delivered; 413 split the batch; 408, 429, 5xx and network errors retry (honouring
 * Retry-After); every other 4xx is final.
 */
export type SendOutcome =
  | { kind: 'ok' }
  | { kind: 'too_large'; reason: string; detail: string }
  | { kind: 'retry'; reason: string; detail: string; retryAfterMs: number | undefined }
  | { kind: 'fatal'; reason: string; detail: string };

export interface PostOptions {
  url: string;
  apiKey: string | undefined;
  body: Buffer;
  contentType: string;
  gzip: boolean;
  timeoutMs: number;
}

export async function post(o: PostOptions): Promise<SendOutcome> {
  const headers: Record<string, string> = { 'content-type': o.contentType };
  if (o.gzip) headers['content-encoding'] = 'gzip';
  if (o.apiKey) headers.authorization = `Bearer ${o.apiKey}`;
  let res: Response;
  try {
    res = await fetch(o.url, { method: 'POST', headers, body: o.body, signal: AbortSignal.timeout(o.timeoutMs) });
  } catch (error) {
    const e = error as Error & { cause?: { code?: string } };
    const timeout = e.name === 'TimeoutError' || e.name === 'AbortError';
    return {
      kind: 'retry',
      reason: timeout ? 'timeout' : 'network',
      detail: e.cause?.code ?? e.message,
      retryAfterMs: undefined,
    };
  }
  const text = await res.text().catch(() => '');
  if (res.status >= 200 && res.status < 300) return { kind: 'ok' };
  const reason = `http_${res.status}`;
  const detail = errorText(text);
  if (res.status === 413) return { kind: 'too_large', reason, detail };
  if (res.status === 408 || res.status === 429 || res.status >= 500) {
    return { kind: 'retry', reason, detail, retryAfterMs: parseRetryAfter(res.headers.get('retry-after')) };
  }
  return { kind: 'fatal', reason, detail };
}

function errorText(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    if (typeof parsed.error === 'string') return parsed.error.slice(0, 500);
  } catch {
    // not JSON
  }
  return body.slice(0, 500);
}

/** Retry-After as seconds or an HTTP date, in ms from now; undefined when absent or invalid. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** Exponential backoff with full jitter (AWS architecture blog): uniform in [0, min(max, base·2^attempt)]. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * cap);
}
