/**
 * RFC 3339 timestamps with nanosecond precision, as written by container runtimes (CRI
 * log files) and Docker's json-file driver. A float64 cannot hold epoch nanoseconds, so the
 * whole-second part goes through Date.UTC and the fraction is added as a bigint.
 */

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

const NS_PER_MS = 1_000_000n;
const CYCLE_400_YEARS_MS = 146_097 * 86_400_000;

/** Epoch nanoseconds of an RFC 3339 timestamp, or undefined if it is not a valid one. */
export function parseRfc3339Ns(text: string): bigint | undefined {
  const m = RFC3339.exec(text);
  if (m === null) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined;
  // Date.UTC reads years 0-99 as 1900-1999; shifting by one 400-year Gregorian cycle
  // (exactly 146097 days) avoids that without changing the day of the week or leap years.
  const shifted = Date.UTC(year + 400, month - 1, day, hour, minute, second);
  // Date.UTC rolls 2026-02-30 over into March; a round trip catches impossible days.
  if (day < 1 || new Date(shifted).getUTCDate() !== day) return undefined;
  const ms = shifted - CYCLE_400_YEARS_MS;
  let offsetMinutes = 0;
  if (m[8] === undefined) {
    const offHours = Number(m[10]);
    const offMinutes = Number(m[11]);
    if (offHours > 23 || offMinutes > 59) return undefined;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (offHours * 60 + offMinutes);
  }
  // Digits beyond nanoseconds are truncated: storage has nanosecond precision.
  const fraction = m[7] === undefined ? 0n : BigInt(m[7].slice(0, 9).padEnd(9, '0'));
  return BigInt(ms - offsetMinutes * 60_000) * NS_PER_MS + fraction;
}
