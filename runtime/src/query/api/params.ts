/** Query-string parsing shared by the native endpoints: each error names its parameter. */
import type { Request } from 'express';
import { HttpError } from '../../common/http-error.js';
import { parseTimestamp } from '../../model/timestamp.js';
import { parseSecondsOrDuration } from '../promql/lexical.js';

export function param(req: Request, name: string): string | undefined {
  const value = (req.query as Record<string, unknown>)[name] ?? (req.body as Record<string, unknown> | undefined)?.[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw badParam(name, 'must be given once, as a string');
  return value;
}

export function badParam(name: string, why: string): HttpError {
  return new HttpError(400, 'bad_parameter', `invalid parameter "${name}": ${why}`);
}

/** RFC 3339 or epoch (s/ms/µs/ns by magnitude), as nanoseconds. */
export function timeParam(req: Request, name: string, fallback: bigint): bigint {
  const text = param(req, name);
  if (text === undefined || text === '') return fallback;
  const parsed = parseTimestamp(text);
  if (!parsed.ok) throw badParam(name, parsed.error);
  return parsed.ns;
}

export function intParam(req: Request, name: string, fallback: number, min: number, max: number): number {
  const text = param(req, name);
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw badParam(name, `expected an integer from ${min} to ${max}, got "${text}"`);
  return n;
}

/** A duration as Prometheus writes it (`1m30s`, `250ms`) or plain seconds (`15`, `0.5`), in whole ms. */
export function durationParam(req: Request, name: string, fallback: number): number {
  const text = param(req, name);
  if (text === undefined || text === '') return fallback;
  const raw = parseSecondsOrDuration(text);
  const ms = raw === undefined ? undefined : Math.round(raw);
  if (ms === undefined || ms <= 0) throw badParam(name, `expected a positive duration like 15s, 1m or seconds, got "${text}"`);
  return ms;
}
