/**
 * Durations, one grammar for every duration Sextant reads (config files, CLI flags, the
 * RetentionPolicy CRD, PromQL literals, the query APIs' parameters): Prometheus'
 * model.ParseDuration — units y w d h m s ms, each at most once, in this order ("5m",
 * "1h30m", "7d"), or "0". The unit table is the one source: the parser below, the Go-duration
 * units of the query lexer and the CRD's pattern and CEL rule (operator/src/api/duration.ts)
 * are built from it, so they cannot disagree (docs/architecture.md §7).
 */

/** Units in the order the grammar wants them, with their length in milliseconds. */
export const DURATION_UNITS = [
  ['y', 365 * 86_400_000],
  ['w', 7 * 86_400_000],
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
  ['ms', 1],
] as const;
export type DurationUnit = (typeof DURATION_UNITS)[number][0];

/** An anchored regex source for durations made of `units` (RE2- and JavaScript-compatible); matches "" too. */
export function durationPattern(units: readonly DurationUnit[] = DURATION_UNITS.map(([u]) => u)): string {
  return `^${units.map((u) => `([0-9]+${u})?`).join('')}$`;
}

const DURATION = new RegExp(durationPattern());

/** Milliseconds of a duration ("5m", "1h30m", "250ms", "0"); undefined when it does not follow the grammar. */
export function parseDuration(text: string): number | undefined {
  if (text === '0') return 0;
  if (text === '') return undefined;
  const m = DURATION.exec(text);
  if (!m) return undefined;
  let ms = 0;
  DURATION_UNITS.forEach(([unit, factor], i) => {
    const term = m[i + 1]; // e.g. "90s"
    if (term !== undefined) ms += Number(term.slice(0, -unit.length)) * factor;
  });
  return ms;
}
