/**
 * Timestamp normalisation (docs/architecture.md §2): RFC 3339 strings with up to nanosecond precision, or
 * epoch numbers in seconds, milliseconds, microseconds or nanoseconds told apart by
 * magnitude (as numbers or as strings of digits). Everything becomes bigint nanoseconds.
 */

export type TimestampResult = { ok: true; ns: bigint } | { ok: false; error: string };

const NS_PER_MS = 1_000_000n;
const NS_PER_S = 1_000_000_000n;
const CYCLE_400_YEARS_MS = 146_097 * 86_400_000;

// Magnitude bands: a value below 1e11 is seconds (until the year 5138), below 1e14
// milliseconds, below 1e17 microseconds, anything larger nanoseconds.
const SECONDS_BELOW = 1e11;
const MILLIS_BELOW = 1e14;
const MICROS_BELOW = 1e17;

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;
const DIGITS = /^\d{1,20}$/;
const DECIMAL = /^\d{1,12}\.\d{1,9}$/;

export function parseTimestamp(value: unknown): TimestampResult {
  if (typeof value === 'number') return fromNumber(value);
  if (typeof value === 'string') return fromString(value);
  return { ok: false, error: `expected an RFC 3339 string or an epoch number, got ${typeof value}` };
}

function fromNumber(value: number): TimestampResult {
  if (!Number.isFinite(value)) return { ok: false, error: `timestamp must be finite, got ${value}` };
  if (value < 0) return { ok: false, error: `timestamp must not be negative, got ${value}` };
  if (Number.isInteger(value)) {
    if (value <= Number.MAX_SAFE_INTEGER) return fromInteger(BigInt(value));
    // Above 2^53 a JSON number has already lost precision; take it as nanoseconds.
    return { ok: true, ns: BigInt(Math.round(value)) };
  }
  if (value < SECONDS_BELOW) {
    const whole = Math.floor(value);
    const fraction = Math.round((value - whole) * 1e9);
    return { ok: true, ns: BigInt(whole) * NS_PER_S + BigInt(fraction) };
  }
  return fromInteger(BigInt(Math.round(value)));
}

function fromInteger(value: bigint): TimestampResult {
  if (value < BigInt(SECONDS_BELOW)) return { ok: true, ns: value * NS_PER_S };
  if (value < BigInt(MILLIS_BELOW)) return { ok: true, ns: value * NS_PER_MS };
  if (value < BigInt(MICROS_BELOW)) return { ok: true, ns: value * 1000n };
  return { ok: true, ns: value };
}

function fromString(text: string): TimestampResult {
  if (DIGITS.test(text)) return fromInteger(BigInt(text));
  if (DECIMAL.test(text)) {
    const [whole, fraction] = text.split('.') as [string, string];
    if (Number(whole) >= SECONDS_BELOW) {
      return { ok: false, error: `fractional epoch timestamps must be in seconds, got "${text}"` };
    }
    return { ok: true, ns: BigInt(whole) * NS_PER_S + BigInt(fraction.padEnd(9, '0')) };
  }
  const ns = parseRfc3339(text);
  if (ns === undefined && RFC3339.test(text)) return { ok: false, error: `invalid timestamp "${text}": date or time out of range` };
  if (ns === undefined) {
    return {
      ok: false,
      error: `invalid timestamp "${text.slice(0, 40)}": expected RFC 3339 (2026-11-26T10:00:00.123Z) or epoch digits`,
    };
  }
  if (ns < 0n) return { ok: false, error: `timestamp must not be before 1970, got "${text}"` };
  return { ok: true, ns };
}

/**
 * Epoch nanoseconds of an RFC 3339 timestamp (as CRI and Docker log files write them), or
 * undefined when it is not one. Digits past nanoseconds are truncated.
 */
export function parseRfc3339(text: string): bigint | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, sign, oh, om] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 60) return undefined;
  if (Number(oh ?? 0) > 23 || Number(om ?? 0) > 59) return undefined;
  // Date.UTC reads years 0-99 as 1900-1999; one 400-year Gregorian cycle later is the
  // same calendar, so shift there and back. A leap second (:60) is clamped to :59.
  let ms = Date.UTC(year + 400, month - 1, day, hour, minute, Math.min(second, 59)) - CYCLE_400_YEARS_MS;
  if (sign) {
    const offsetMs = (Number(oh) * 60 + Number(om)) * 60_000;
    ms += sign === '+' ? -offsetMs : offsetMs;
  }
  return BigInt(ms) * NS_PER_MS + BigInt((frac ?? '').slice(0, 9).padEnd(9, '0'));
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

export function nowNs(): bigint {
  return BigInt(Date.now()) * NS_PER_MS;
}

/** RFC 3339 with nanoseconds, e.g. 2026-11-26T10:00:00.123456789Z. */
export function formatNs(ns: bigint): string {
  const ms = Number(ns / NS_PER_MS);
  const iso = new Date(ms).toISOString(); // …T10:00:00.123Z
  const nanos = (ns % NS_PER_S).toString().padStart(9, '0');
  return `${iso.slice(0, 19)}.${nanos}Z`;
}

/** Whole milliseconds of nanoseconds, truncated toward zero (bigint division). */
export function nsToMs(ns: bigint): number {
  return Number(ns / NS_PER_MS);
}

export function msToNs(ms: number): bigint {
  return BigInt(Math.trunc(ms)) * NS_PER_MS;
}
