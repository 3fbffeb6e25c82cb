/**
 * One POST to the ingestion API and what its answer means for the sender (docs/architecture.md §2):
 * 2xx delivered; 413 split the batch; 408, 429, 5xx and network errors retry (honouring
 * Retry-After); every other 4xx is final.
 *
 * Requests go through node:http(s), not the global fetch: fetch is undici, whose HTTP
 * parser is WebAssembly that V8 compiles again in the background after the first request.
 * Measured in the agent benchmark, that compilation alone held about 25 MB for a moment
 * while the agent was already busy, and undici kept about 15 MB more resident
 * (agent-daemonset/README.md, Benchmark).
 */
import http from 'node:http';
import https from 'node:https';
import { backoffDelay } from '../../../runtime/src/common/index.js';

/** Kept-alive connections (each route sends one request at a time, so there are few). */
const AGENTS = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface HttpRequest {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: Buffer;
  /** For the whole exchange, answer body included. */
  timeoutMs: number;
}

/** Rejected when the whole exchange takes longer than its timeout. */
export class RequestTimeoutError extends Error {
  override readonly name = 'TimeoutError';
  constructor(url: string, ms: number) {
    super(`no complete answer from ${url} within ${ms} ms`);
  }
}

/**
 * One request; resolves with the status and the body as text whatever the status, rejects
 * on network errors (the error's `code`, e.g. ECONNREFUSED) and on the timeout.
 */
export function request(o: HttpRequest): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    let target: URL;
    try {
      target = new URL(o.url);
    } catch {
      reject(new Error(`not a URL: ${o.url}`));
      return;
    }
    const secure = target.protocol === 'https:';
    if (!secure && target.protocol !== 'http:') {
      reject(new Error(`${o.url}: only http and https are supported`));
      return;
    }
    const headers: Record<string, string | number> = { ...o.headers };
    if (o.body) headers['content-length'] = o.body.length;
    const req = (secure ? https : http).request(target, { method: o.method, headers, agent: secure ? AGENTS.https : AGENTS.http });
    const timer = setTimeout(() => req.destroy(new RequestTimeoutError(o.url, o.timeoutMs)), o.timeoutMs);
    const fail = (error: Error) => {
      clearTimeout(timer);
      reject(error);
    };
    req.on('error', fail);
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('error', fail);
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString('utf8') });
      });
    });
    req.end(o.body);
  });
}

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
  let res: HttpAnswer;
  try {
    res = await request({ url: o.url, method: 'POST', headers, body: o.body, timeoutMs: o.timeoutMs });
  } catch (error) {
    const e = error as Error & { code?: string };
    const timeout = e instanceof RequestTimeoutError;
    return { kind: 'retry', reason: timeout ? 'timeout' : 'network', detail: e.code ?? e.message, retryAfterMs: undefined };
  }
  if (res.status >= 200 && res.status < 300) return { kind: 'ok' };
  const reason = `http_${res.status}`;
  const detail = errorText(res.body);
  if (res.status === 413) return { kind: 'too_large', reason, detail };
  if (res.status === 408 || res.status === 429 || res.status >= 500) {
    const retryAfter = res.headers['retry-after'];
    return { kind: 'retry', reason, detail, retryAfterMs: parseRetryAfter(retryAfter ?? null) };
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

/**
 * How long to wait before sending again after `outcome`: what Retry-After asked, else the
 * backoff of this attempt; -1 when the outcome is final (not retried).
 */
export function retryDelayMs(outcome: SendOutcome, attempt: number, retry: { initialBackoffMs: number; maxBackoffMs: number }): number {
  if (outcome.kind !== 'retry') return -1;
  return outcome.retryAfterMs ?? backoffMs(attempt, retry.initialBackoffMs, retry.maxBackoffMs);
}

/** POSTs gzipped native metrics JSON to a route's ingestion API. */
export function postMetrics(
  route: { endpoint: string; apiKey: string | undefined },
  body: Buffer,
  timeoutMs: number,
): Promise<SendOutcome> {
  return post({
    url: `${route.endpoint}/api/v1/metrics`,
    apiKey: route.apiKey,
    body,
    contentType: 'application/json',
    gzip: true,
    timeoutMs,
  });
}

/** Exponential backoff with full jitter (AWS architecture blog): uniform in [0, min(max, base·2^attempt)]. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  return backoffDelay(attempt, { initial: baseMs, max: maxMs, jitter: 1 }, random);
}
