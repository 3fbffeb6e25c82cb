/**
 * Retention durations: `7d`, `36h`, `90s`, `1y`, `2w3d`, `1h30m`. The grammar is Prometheus'
 * (units in descending order, each at most once) without milliseconds, which no retention
 * needs. The units come from the one table in runtime/src/common/duration.ts; the codec
 * (retentionSeconds), the CRD `pattern` and the CRD's CEL rule that compares hot and cold
 * (celSeconds) are built from it, so all three agree.
 */
import { DURATION_UNITS as COMMON_UNITS, parseDuration } from '../../../runtime/src/common/index.js';
/** The shared grammar's units without `ms`, each with its length in seconds. */
export const DURATION_UNITS = COMMON_UNITS.filter(([u]) => u !== 'ms').map(([u, ms]) => [u, ms / 1000] as const);

/**
 * Anchored, RE2- and JavaScript-compatible. Accepts the empty string: minLength 2 rejects it.
 * At most 6 digits per unit, so the CEL rules' int() can never overflow (999999y is still
 * far beyond any retention) and the API server never answers with CEL's own "type
 * conversion error".
 */
export const DURATION_PATTERN = `^${DURATION_UNITS.map(([u]) => `([0-9]{1,6}${u})?`).join('')}$`;
/** What the API server and the codec say about a string that is not a duration. */
export const DURATION_MESSAGE =
  'must be a duration such as 7d, 36h or 1h30m: up to 6 digits and a unit among y, w, d, h, m, s, the largest unit first, each at most once (no ms, no decimals)';

/** CEL: is the string `expr` a duration (guards celSeconds, whose int() needs the grammar)? */
export function celIsDuration(expr: string): string {
  return `${expr}.matches('${DURATION_PATTERN}')`;
}
const DURATION_REGEX = new RegExp(DURATION_PATTERN);

/** Seconds of a retention duration, or undefined when it does not follow the grammar (parseDuration without ms). */
export function retentionSeconds(text: string): number | undefined {
  if (text.length < 2 || !DURATION_REGEX.test(text)) return undefined;
  return parseDuration(text)! / 1000;
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
