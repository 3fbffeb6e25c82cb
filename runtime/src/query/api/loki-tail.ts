/**
 * Loki's live tail: `GET /loki/api/v1/tail` upgraded to a websocket, as Grafana's Explore
 * "Live" mode opens it. Parameters as Loki's: `query` (a log query), `limit` (entries of the
 * first message, default 100), `delay_for` (seconds, 0–5, how far behind now it reads, so
 * late writes are not missed) and `start` (default one hour ago). Each message is
 * `{"streams":[{"stream":{…},"values":[["<ns>","<line>"],…]}]}`.
 *
 * Authentication: the usual headers (Bearer, Basic with the key as password, X-API-Key), or
 * the key in an `api_key` query parameter, since browsers and Grafana's proxy open
 * websockets without custom headers. Query strings can end up in proxies' access logs: use
 * the header where the client allows it.
 *
 * The tail reads the store every `pollMs` for the entries of [last read, now − delay_for),
 * through the query engine (workers, deadline, limits) like any query. Reading by time
 * means an entry written with a timestamp older than what was already read is not sent:
 * delay_for is the margin for that. A slow client is not sent more until it drained what it
 * was sent; it falls behind, nothing is dropped.
 */
import type http from 'node:http';
import type https from 'node:https';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../../common/log.js';
import { presentedKey, type ApiKeys } from '../../ingestion/auth.js';
import type { StreamResult } from '../logql/evaluate.js';
import type { QueryEngine } from '../limits/engine.js';
import { QueryError } from '../promql/errors.js';
import { nsParam, parseQuery, positiveInt, streamsData } from './loki.js';
import { firstParam, invalidParam, type Params } from './prometheus.js';

export const TAIL_PATH = '/loki/api/v1/tail';
const NS_PER_S = 1_000_000_000n;
const HOUR_NS = 3600n * NS_PER_S;
/** Loki's bound on delay_for. */
const MAX_DELAY_S = 5;
/** Entries per read after the first message; a read that fills it continues from its last timestamp. */
const PAGE = 1000;
/** While more than this is buffered for a client, its tail waits instead of reading more. */
const MAX_BUFFERED_BYTES = 1 << 20;

export interface TailOptions {
  keys: ApiKeys;
  engine: QueryEngine;
  log: Logger;
  /** How often the store is read for new entries (default 1 s). */
  pollMs?: number;
  /** Largest `limit` (Loki's max_entries_limit_per_query, default 5000). */
  maxLimit?: number;
  /** Tails open at once at most (each reads the store every pollMs); more answer 429. */
  maxTails?: number;
  /** Clock in nanoseconds, for tests. */
  now?: () => bigint;
}

interface TailRequest {
  query: string;
  limit: number;
  delayNs: bigint;
  startNs: bigint;
}

/** Serves the tail on `server`'s upgrade requests; close() ends every open tail. */
export function attachLokiTail(server: http.Server | https.Server, options: TailOptions): { close(): void } {
  const now = options.now ?? (() => BigInt(Date.now()) * 1_000_000n);
  const maxTails = options.maxTails ?? 50;
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  const open = new Set<WebSocket>();
  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== TAIL_PATH) return refuse(socket, 404, `no websocket at ${url.pathname}; the tail is at ${TAIL_PATH}`);
    const key = presentedKey(req) ?? url.searchParams.get('api_key') ?? undefined;
    if (key === undefined) return refuse(socket, 401, 'missing API key: send "Authorization: Bearer <key>" or the api_key parameter');
    if (options.keys.identify(key) === undefined) return refuse(socket, 401, 'invalid API key');
    let request: TailRequest;
    try {
      request = tailRequest(paramsOf(url), now(), options.maxLimit ?? 5000);
    } catch (error) {
      if (error instanceof QueryError) return refuse(socket, 400, error.message);
      throw error;
    }
    if (open.size >= maxTails) return refuse(socket, 429, `${open.size} tails are open, the most this process serves; retry later`);
    wss.handleUpgrade(req, socket, head, (ws) => {
      open.add(ws);
      ws.on('close', () => open.delete(ws));
      void tail(ws, request, options, now).catch((error: unknown) => {
        options.log.warn({ err: error, query: request.query }, 'live tail failed; closing it');
        ws.close(1011, truncate((error as Error).message));
      });
    });
  };
  server.on('upgrade', onUpgrade);
  return {
    close: () => {
      server.off('upgrade', onUpgrade);
      for (const ws of open) ws.close(1001, 'server shutting down');
      wss.close();
    },
  };
}

function paramsOf(url: URL): Params {
  const params: Params = new Map();
  for (const [name, value] of url.searchParams) {
    if (name === 'api_key') continue;
    params.set(name, [...(params.get(name) ?? []), value]);
  }
  return params;
}

function tailRequest(params: Params, nowNs: bigint, maxLimit: number): TailRequest {
  if (parseQuery(params).type !== 'logs') throw invalidParam('query', 'the tail takes a log query, such as {app="api"} |= "error"');
  const delayText = firstParam(params, 'delay_for') ?? '0';
  const delay = Number(delayText);
  if (!Number.isInteger(delay) || delay < 0 || delay > MAX_DELAY_S) {
    throw invalidParam('delay_for', `must be a whole number of seconds from 0 to ${MAX_DELAY_S}, got ${JSON.stringify(delayText)}`);
  }
  return {
    query: firstParam(params, 'query')!,
    limit: positiveInt(params, 'limit', 100, maxLimit),
    delayNs: BigInt(delay) * NS_PER_S,
    startNs: nsParam(params, 'start', nowNs - HOUR_NS),
  };
}

async function tail(ws: WebSocket, request: TailRequest, options: TailOptions, now: () => bigint): Promise<void> {
  const { engine } = options;
  const pollMs = options.pollMs ?? 1000;
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  let isOpen = true;
  void closed.then(() => (isOpen = false));
  const read = (startNs: bigint, endNs: bigint, limit: number, direction: 'forward' | 'backward') =>
    engine.run('logStreams', { query: request.query, options: { startNs, endNs, limit, direction } });
  const send = (streams: StreamResult[]): void => {
    if (streams.length > 0 && isOpen) ws.send(JSON.stringify({ streams: streamsData(streams, false).result }));
  };

  // First the newest `limit` entries since start, oldest first, as a log view shows them.
  let readUpTo = now() - request.delayNs;
  if (readUpTo > request.startNs) {
    const newest = await read(request.startNs, readUpTo, request.limit, 'backward');
    send(newest.map((s) => ({ ...s, entries: [...s.entries].reverse() })));
  } else readUpTo = request.startNs;

  while (isOpen) {
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, pollMs))]);
    if (!isOpen || ws.bufferedAmount > MAX_BUFFERED_BYTES) continue;
    const endNs = now() - request.delayNs;
    // [readUpTo, endNs) in pages; a full page ends before its last timestamp, which the next
    // page starts at, so entries sharing one nanosecond are never split between two reads.
    let fromNs = readUpTo;
    while (isOpen && fromNs < endNs) {
      const page = await read(fromNs, endNs, PAGE, 'forward');
      const count = page.reduce((n, s) => n + s.entries.length, 0);
      if (count < PAGE) {
        send(page);
        break;
      }
      const last = page.reduce((max, s) => s.entries.reduce((m, e) => (e.timestampNs > m ? e.timestampNs : m), max), fromNs);
      if (last === fromNs) {
        // A whole page at one nanosecond: send it and go on after that instant; the rest of it is not sent.
        options.log.warn(
          { query: request.query, timestampNs: String(last), sent: PAGE },
          'live tail: more entries at one nanosecond than one read takes; the rest of that instant is not sent',
        );
        send(page);
        fromNs = last + 1n;
        continue;
      }
      send(page.map((s) => ({ ...s, entries: s.entries.filter((e) => e.timestampNs < last) })).filter((s) => s.entries.length > 0));
      fromNs = last;
    }
    if (endNs > readUpTo) readUpTo = endNs;
  }
}

/** Answers an upgrade request that is not taken with a plain HTTP status and closes it. */
function refuse(socket: Duplex, status: number, message: string): void {
  const reason = { 400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found', 429: 'Too Many Requests' }[status] ?? 'Error';
  const body = `${message}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** A close reason is at most 123 bytes. */
function truncate(text: string): string {
  let out = text;
  while (Buffer.byteLength(out) > 123) out = out.slice(0, -1);
  return out;
}
