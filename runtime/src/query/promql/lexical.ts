/**
 * Literal syntax shared by PromQL and LogQL: Go-style quoted strings, numbers and Go durations.
 * The lezer grammars tell us where a literal is; these functions turn its text into a value.
 * PromQL's own durations ("5m", "1h30m") follow the one grammar in common/duration.ts.
 */
import { DURATION_UNITS, parseDuration } from '../../common/duration.js';
import { badData } from './errors.js';

const SIMPLE_ESCAPES: Record<string, string> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
  "'": "'",
  '"': '"',
};

/** Unquotes a "double", 'single' or `raw` string literal with Go escape rules. */
export function unquote(text: string): string {
  const quote = text[0];
  if (text.length < 2 || text[text.length - 1] !== quote) throw badData(`invalid string literal ${text}`);
  const body = text.slice(1, -1);
  if (quote === '`') return body;
  if (quote !== '"' && quote !== "'") throw badData(`invalid string literal ${text}`);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = body[++i];
    if (e === undefined) throw badData(`invalid escape at the end of string literal ${text}`);
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      out += simple;
    } else if (e === 'x' || e === 'u' || e === 'U') {
      const width = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = body.slice(i + 1, i + 1 + width);
      if (!new RegExp(`^[0-9a-fA-F]{${width}}$`).test(hex)) throw badData(`invalid escape \\${e}${hex} in string literal ${text}`);
      out += String.fromCodePoint(parseInt(hex, 16));
      i += width;
    } else if (e >= '0' && e <= '7') {
      const oct = body.slice(i, i + 3);
      if (!/^[0-7]{3}$/.test(oct)) throw badData(`invalid octal escape \\${oct} in string literal ${text}`);
      out += String.fromCharCode(parseInt(oct, 8));
      i += 2;
    } else {
      throw badData(`unknown escape sequence \\${e} in string literal ${text}`);
    }
  }
  return out;
}

const FLOAT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Parses a decimal float ("1", "-2.5", "1e3"); undefined when the text is not one. */
export function parseFloatStrict(text: string): number | undefined {
  return FLOAT.test(text) ? Number(text) : undefined;
}

/**
 * Milliseconds of float seconds ("15", "0.5") or a Prometheus duration ("1m30s"), the form
 * Prometheus' parseDuration reads for step, timeout and duration literals; not rounded, so each
 * caller keeps its own rounding. Undefined when the text is neither.
 */
export function parseSecondsOrDuration(text: string): number | undefined {
  const seconds = parseFloatStrict(text);
  return seconds !== undefined ? seconds * 1000 : parseDuration(text);
}

/**
 * Milliseconds per unit of a Go duration: the Prometheus units of common/duration.ts (the one
 * duration grammar, which PromQL durations follow) plus Go's sub-millisecond ones.
 */
const UNIT_MS: Record<string, number> = {
  ...Object.fromEntries(DURATION_UNITS),
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
};

const GO_DURATION_PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h|d|w|y)/y;

/**
 * Milliseconds of a Go duration ("1.5h", "90s", "1h5m") extended with Prometheus' d/w/y units,
 * as Loki accepts for ranges and steps; undefined when invalid.
 */
export function parseGoDuration(text: string): number | undefined {
  let rest = text;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest[0] === '-') sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') return undefined;
  GO_DURATION_PART.lastIndex = 0;
  let ms = 0;
  while (GO_DURATION_PART.lastIndex < rest.length) {
    const m = GO_DURATION_PART.exec(rest);
    if (!m) return undefined;
    ms += Number(m[1]) * UNIT_MS[m[2]!]!;
  }
  return sign * ms;
}
