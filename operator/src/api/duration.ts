/**
 * Retention durations: `7d`, `36h`, `90s`, `1y`, `2w3d`, `1h30m`. The grammar is Prometheus'
 * (units in descending order, each at most once) without milliseconds, which no retention
 * needs. It is defined once here and used by the codec (parseDuration), the CRD `pattern`
 * and the CRD's CEL rule that compares hot and cold (celSeconds), so all three agree.
 */
export const DURATION_UNITS = [
  ['y', 365 * 86_400],
  ['w', 7 * 86_400],
  ['d', 86_400],
  ['h', 3_600],
  ['m', 60],
  ['s', 1],
] as const;

/** Anchored, RE2- and JavaScript-compatible. Accepts the empty string: minLength 2 rejects it. */
export const DURATION_PATTERN = `^${DURATION_UNITS.map(([u]) => `([0-9]+${u})?`).join('')}$`;
const DURATION_REGEX = new RegExp(DURATION_PATTERN);

/** Seconds of a duration, or undefined when it does not follow the grammar. */
export function parseDuration(text: string): number | undefined {
  if (text.length < 2 || !DURATION_REGEX.test(text)) return undefined;
  let seconds = 0;
  for (const [unit, factor] of DURATION_UNITS) {
    const m = new RegExp(`([0-9]+)${unit}`).exec(text);
    if (m) seconds += Number(m[1]) * factor;
  }
  return seconds;
}

/**
 * A CEL expression giving the seconds of the duration string `expr` (already validated by
 * the pattern). `find('[0-9]+m')` cannot match inside another unit because `ms` is not in
 * the grammar; each unit appears at most once.
 */
export function celSeconds(expr: string): string {
  return (
    '(' +
    DURATION_UNITS.map(
      ([u, factor]) => `(${expr}.find('[0-9]+${u}') == '' ? 0 : int(${expr}.find('[0-9]+${u}').replace('${u}', '')) * ${factor})`,
    ).join(' + ') +
    ')'
  );
}
