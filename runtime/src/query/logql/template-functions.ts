/**
 * The functions LogQL templates may call (Loki's documented set: Go's builtins, a part of
 * Sprig, and Loki's own), one table entry each. Values are strings, numbers, booleans, null
 * and GoTime (a nanosecond instant, what `__timestamp__`, `toDate` and `now` return).
 */
import { expand, type Regex } from '../../common/regex.js';
import { compileRegex } from './regex.js';

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

export class GoTime {
  constructor(readonly ns: bigint) {}
}

export type TemplateValue = string | number | boolean | null | undefined | GoTime;

/** Largest result of `repeat` and of the padding functions. */
const MAX_REPEAT = 1 << 16;

export function truthy(v: TemplateValue): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  return true;
}

/** How Go prints a value with `{{ . }}` / %v. */
export function toText(v: TemplateValue): string {
  if (v === undefined || v === null) return '<no value>';
  if (v instanceof GoTime) return formatGoTime(v, '2006-01-02 15:04:05.999999999 -0700 MST');
  if (typeof v === 'number') return formatNumber(v);
  return String(v);
}

function formatNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return String(n);
  // Go's %v for float64 is strconv 'g' with the shortest representation.
  const abs = Math.abs(n);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e21)) return n.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
  return String(n);
}

function str(v: TemplateValue): string {
  return v === undefined || v === null ? '' : toText(v);
}

function num(v: TemplateValue, fn: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v === null || v === undefined || v === '') return 0;
  if (v instanceof GoTime) return Number(v.ns);
  const n = Number(v.trim());
  if (Number.isNaN(n)) throw new TemplateError(`${fn}: cannot convert ${JSON.stringify(v)} to a number`);
  return n;
}

function int(v: TemplateValue, fn: string): number {
  return Math.trunc(num(v, fn));
}

function time(v: TemplateValue, fn: string): GoTime {
  if (v instanceof GoTime) return v;
  throw new TemplateError(`${fn}: expected a time, got ${JSON.stringify(v)}`);
}

function cutset(set: string): (c: string) => boolean {
  const chars = new Set([...set]);
  return (c) => chars.has(c);
}

function trimLeftSet(s: string, set: string): string {
  const has = cutset(set);
  const chars = [...s];
  let i = 0;
  while (i < chars.length && has(chars[i]!)) i++;
  return chars.slice(i).join('');
}

function trimRightSet(s: string, set: string): string {
  const has = cutset(set);
  const chars = [...s];
  let j = chars.length;
  while (j > 0 && has(chars[j - 1]!)) j--;
  return chars.slice(0, j).join('');
}

function bounded(n: number, fn: string): number {
  if (n > MAX_REPEAT) throw new TemplateError(`${fn}: ${n} exceeds the limit of ${MAX_REPEAT}`);
  return Math.max(0, n);
}

function regexReplace(pattern: string, s: string, repl: string, literal: boolean): string {
  let re: Regex;
  try {
    re = compileRegex(pattern, { anchored: false, where: literal ? 'regexReplaceAllLiteral' : 'regexReplaceAll' });
  } catch (error) {
    throw new TemplateError((error as Error).message);
  }
  return literal ? re.replaceAll(s, () => repl) : re.replaceAll(s, (_match, groups) => expand(repl, groups()));
}

// ---------------------------------------------------------------- printf

function printf(format: string, args: TemplateValue[]): string {
  let argi = 0;
  return (
    format.replace(/%([-+ #0]*)(\d+)?(?:\.(\d+))?([a-zA-Z%])/g, (_m, flags: string, width?: string, precision?: string, verb?: string) => {
      if (verb === '%') return '%';
      if (argi >= args.length) return `%!${verb}(MISSING)`;
      const arg = args[argi++];
      let out: string;
      const prec = precision === undefined ? undefined : Number(precision);
      switch (verb) {
        case 'v':
        case 's':
          out = toText(arg);
          if (prec !== undefined) out = [...out].slice(0, prec).join('');
          break;
        case 'q':
          out = JSON.stringify(str(arg));
          break;
        case 'd':
          out = typeof arg === 'number' && Number.isInteger(arg) ? String(arg) : `%!d(${typeName(arg)}=${toText(arg)})`;
          if (flags.includes('+') && typeof arg === 'number' && arg >= 0) out = `+${out}`;
          break;
        case 'f':
        case 'F':
        case 'e':
        case 'g': {
          if (typeof arg !== 'number') {
            out = `%!${verb}(${typeName(arg)}=${toText(arg)})`;
            break;
          }
          out =
            verb === 'e'
              ? arg.toExponential(prec ?? 6).replace(/e([+-])(\d)$/, 'e$10$2')
              : verb === 'g'
                ? prec === undefined
                  ? formatNumber(arg)
                  : String(Number(arg.toPrecision(prec)))
                : arg.toFixed(prec ?? 6);
          if (flags.includes('+') && arg >= 0) out = `+${out}`;
          break;
        }
        case 'x':
        case 'X':
          out = typeof arg === 'number' ? Math.trunc(arg).toString(16) : Buffer.from(str(arg), 'utf8').toString('hex');
          if (verb === 'X') out = out.toUpperCase();
          break;
        case 't':
          out = typeof arg === 'boolean' ? String(arg) : `%!t(${typeName(arg)}=${toText(arg)})`;
          break;
        default:
          out = `%!${verb}(${typeName(arg)}=${toText(arg)})`;
      }
      if (width !== undefined) {
        const w = bounded(Number(width), 'printf');
        const len = [...out].length;
        if (len < w) {
          const pad = (flags.includes('0') && !flags.includes('-') ? '0' : ' ').repeat(w - len);
          out = flags.includes('-') ? out + pad : pad + out;
        }
      }
      return out;
    }) +
    (argi < args.length
      ? `%!(EXTRA ${args
          .slice(argi)
          .map((a) => `${typeName(a)}=${toText(a)}`)
          .join(', ')})`
      : '')
  );
}

function typeName(v: TemplateValue): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof GoTime) return 'time.Time';
  return '<nil>';
}

// ---------------------------------------------------------------- Go time layouts

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** Go layout elements, longest first so that the tokenizer prefers them. */
const LAYOUT_TOKEN =
  /January|Monday|Jan|Mon|MST|2006|Z07:00:00|-07:00:00|Z07:00|-07:00|Z0700|-0700|Z07|-07|\.0+|\.9+|,0+|,9+|002|__2|_2|01|02|03|04|05|06|15|PM|pm|1|2|3|4|5/g;

function pad(n: number | bigint, width: number): string {
  return String(n).padStart(width, '0');
}

export function formatGoTime(t: GoTime, layout: string): string {
  const ns = t.ns;
  const ms = Number(ns / 1_000_000n - (ns % 1_000_000n < 0n ? 1n : 0n));
  const frac = ((ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n;
  const d = new Date(ms);
  const hour = d.getUTCHours();
  return layout.replace(LAYOUT_TOKEN, (tok) => {
    switch (tok) {
      case 'January':
        return MONTHS[d.getUTCMonth()]!;
      case 'Jan':
        return MONTHS[d.getUTCMonth()]!.slice(0, 3);
      case 'Monday':
        return DAYS[d.getUTCDay()]!;
      case 'Mon':
        return DAYS[d.getUTCDay()]!.slice(0, 3);
      case 'MST':
        return 'UTC';
      case '2006':
        return pad(d.getUTCFullYear(), 4);
      case '06':
        return pad(d.getUTCFullYear() % 100, 2);
      case '01':
        return pad(d.getUTCMonth() + 1, 2);
      case '1':
        return String(d.getUTCMonth() + 1);
      case '02':
        return pad(d.getUTCDate(), 2);
      case '_2':
        return String(d.getUTCDate()).padStart(2, ' ');
      case '2':
        return String(d.getUTCDate());
      case '002':
      case '__2': {
        const start = Date.UTC(d.getUTCFullYear(), 0, 1);
        const yday = Math.floor((ms - start) / 86_400_000) + 1;
        return tok === '002' ? pad(yday, 3) : String(yday).padStart(3, ' ');
      }
      case '15':
        return pad(hour, 2);
      case '03':
        return pad(hour % 12 === 0 ? 12 : hour % 12, 2);
      case '3':
        return String(hour % 12 === 0 ? 12 : hour % 12);
      case '04':
        return pad(d.getUTCMinutes(), 2);
      case '4':
        return String(d.getUTCMinutes());
      case '05':
        return pad(d.getUTCSeconds(), 2);
      case '5':
        return String(d.getUTCSeconds());
      case 'PM':
        return hour >= 12 ? 'PM' : 'AM';
      case 'pm':
        return hour >= 12 ? 'pm' : 'am';
      case 'Z07:00:00':
      case 'Z07:00':
      case 'Z0700':
      case 'Z07':
        return 'Z';
      case '-07:00:00':
        return '+00:00:00';
      case '-07:00':
        return '+00:00';
      case '-0700':
        return '+0000';
      case '-07':
        return '+00';
      default: {
        // Fractional seconds: .000 fixed width, .999 trailing zeros removed.
        const digits = tok.length - 1;
        const sep = tok[0]!;
        const text = pad(frac, 9).slice(0, digits);
        if (tok[1] === '0') return sep + text;
        const trimmed = text.replace(/0+$/, '');
        return trimmed ? sep + trimmed : '';
      }
    }
  });
}

/** Parses `value` with a Go layout, in UTC unless the layout carries an offset. */
export function parseGoTime(layout: string, value: string): GoTime {
  const fields: string[] = [];
  let source = '';
  let last = 0;
  for (const m of layout.matchAll(LAYOUT_TOKEN)) {
    source += escapeRegex(layout.slice(last, m.index));
    last = m.index + m[0].length;
    const tok = m[0];
    fields.push(tok);
    source += `(${layoutPattern(tok)})`;
  }
  source += escapeRegex(layout.slice(last));
  const match = new RegExp(`^${source}$`).exec(value);
  if (!match) throw new TemplateError(`toDate: cannot parse ${JSON.stringify(value)} as ${JSON.stringify(layout)}`);
  let year = 1;
  let month = 1;
  let day = 1;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let fracNs = 0n;
  let pm: boolean | undefined;
  let offsetMin = 0;
  fields.forEach((tok, i) => {
    const text = match[i + 1]!;
    switch (tok) {
      case '2006':
        year = Number(text);
        break;
      case '06':
        year = 2000 + Number(text) - (Number(text) >= 69 ? 100 : 0);
        break;
      case 'January':
      case 'Jan':
        month = MONTHS.findIndex((m) => m.toLowerCase().startsWith(text.toLowerCase())) + 1;
        break;
      case '01':
      case '1':
        month = Number(text);
        break;
      case '02':
      case '_2':
      case '2':
        day = Number(text.trim());
        break;
      case '15':
      case '03':
      case '3':
        hour = Number(text);
        break;
      case '04':
      case '4':
        minute = Number(text);
        break;
      case '05':
      case '5':
        second = Number(text);
        break;
      case 'PM':
      case 'pm':
        pm = text.toUpperCase() === 'PM';
        break;
      default:
        if (/^[.,]/.test(tok)) {
          fracNs = BigInt(text.slice(1).padEnd(9, '0').slice(0, 9) || '0');
        } else if (/^[Z-]07/.test(tok)) {
          if (text !== 'Z') {
            const sign = text[0] === '-' ? -1 : 1;
            const digits = text.slice(1).replace(/:/g, '');
            offsetMin = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0'));
          }
        }
    }
  });
  if (pm !== undefined) hour = (hour % 12) + (pm ? 12 : 0);
  const ms = Date.UTC(year, month - 1, day, hour, minute, second) - offsetMin * 60_000;
  if (Number.isNaN(ms)) throw new TemplateError(`toDate: cannot parse ${JSON.stringify(value)} as ${JSON.stringify(layout)}`);
  return new GoTime(BigInt(ms) * 1_000_000n + fracNs);
}

function layoutPattern(tok: string): string {
  switch (tok) {
    case 'January':
      return MONTHS.join('|');
    case 'Jan':
      return MONTHS.map((m) => m.slice(0, 3)).join('|');
    case 'Monday':
      return DAYS.join('|');
    case 'Mon':
      return DAYS.map((m) => m.slice(0, 3)).join('|');
    case 'MST':
      return '[A-Z]{3,4}';
    case '2006':
      return '\\d{4}';
    case 'PM':
    case 'pm':
      return '[AaPp][Mm]';
    case '_2':
      return ' ?\\d{1,2}';
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
      return '\\d{1,2}';
    default:
      if (/^[.,][09]+$/.test(tok)) return tok[1] === '0' ? `[.,]\\d{${tok.length - 1}}` : '(?:[.,]\\d+)?';
      if (/^[Z-]07/.test(tok)) return 'Z|[-+]\\d{2}(?::?\\d{2}){0,2}';
      return `\\d{${tok.length}}`;
  }
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Sprig's unixToTime-like parsing of an epoch string by its length (s, ms, µs, ns). */
function epochToTime(text: string): GoTime {
  if (!/^-?\d+$/.test(text)) throw new TemplateError(`unixToTime: ${JSON.stringify(text)} is not an integer epoch`);
  const n = BigInt(text);
  const digits = text.replace('-', '').length;
  if (digits <= 10) return new GoTime(n * 1_000_000_000n);
  if (digits <= 13) return new GoTime(n * 1_000_000n);
  if (digits <= 16) return new GoTime(n * 1_000n);
  return new GoTime(n);
}

// ---------------------------------------------------------------- the table

interface TemplateFunction {
  /** Inclusive bounds on the number of arguments (the piped value counts as the last). */
  arity: [number, number];
  call(args: TemplateValue[]): TemplateValue;
}

const f = (min: number, max: number, call: (args: TemplateValue[]) => TemplateValue): TemplateFunction => ({ arity: [min, max], call });

function compare(a: TemplateValue, b: TemplateValue, fn: string): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (a instanceof GoTime && b instanceof GoTime) return a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0;
  throw new TemplateError(`${fn}: incompatible types for comparison`);
}

function equal(a: TemplateValue, b: TemplateValue): boolean {
  if (a instanceof GoTime && b instanceof GoTime) return a.ns === b.ns;
  return a === b;
}

export const FUNCTIONS: Record<string, TemplateFunction> = {
  // Go's builtins
  and: f(1, 64, (a) => a.find((v) => !truthy(v)) ?? a[a.length - 1]),
  or: f(1, 64, (a) => a.find((v) => truthy(v)) ?? a[a.length - 1]),
  not: f(1, 1, ([v]) => !truthy(v)),
  eq: f(2, 64, ([x, ...rest]) => rest.some((y) => equal(x, y))),
  ne: f(2, 2, ([x, y]) => !equal(x, y)),
  lt: f(2, 2, ([x, y]) => compare(x, y, 'lt') < 0),
  le: f(2, 2, ([x, y]) => compare(x, y, 'le') <= 0),
  gt: f(2, 2, ([x, y]) => compare(x, y, 'gt') > 0),
  ge: f(2, 2, ([x, y]) => compare(x, y, 'ge') >= 0),
  len: f(1, 1, ([v]) => Buffer.byteLength(str(v), 'utf8')),
  print: f(0, 64, (a) => a.map((v, i) => (i > 0 && typeof v !== 'string' && typeof a[i - 1] !== 'string' ? ' ' : '') + toText(v)).join('')),
  println: f(0, 64, (a) => a.map(toText).join(' ') + '\n'),
  printf: f(1, 64, ([format, ...rest]) => printf(str(format), rest)),
  html: f(1, 1, ([v]) => str(v).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' })[c]!)),
  urlquery: f(1, 1, ([v]) => encodeURIComponent(str(v)).replace(/%20/g, '+')),

  // Loki's Go strings functions
  ToLower: f(1, 1, ([v]) => str(v).toLowerCase()),
  ToUpper: f(1, 1, ([v]) => str(v).toUpperCase()),
  Replace: f(4, 4, ([s, from, to, n]) => {
    let count = int(n, 'Replace');
    const src = str(s);
    const a = str(from);
    if (count < 0) return src.split(a).join(str(to));
    let out = '';
    let rest = src;
    while (count-- > 0) {
      const i = rest.indexOf(a);
      if (i < 0) break;
      out += rest.slice(0, i) + str(to);
      rest = rest.slice(i + a.length);
      if (a === '') {
        out += rest.slice(0, 1);
        rest = rest.slice(1);
      }
    }
    return out + rest;
  }),
  Trim: f(2, 2, ([s, set]) => trimRightSet(trimLeftSet(str(s), str(set)), str(set))),
  TrimLeft: f(2, 2, ([s, set]) => trimLeftSet(str(s), str(set))),
  TrimRight: f(2, 2, ([s, set]) => trimRightSet(str(s), str(set))),
  TrimPrefix: f(2, 2, ([s, p]) => (str(s).startsWith(str(p)) ? str(s).slice(str(p).length) : str(s))),
  TrimSuffix: f(2, 2, ([s, p]) => (str(p) !== '' && str(s).endsWith(str(p)) ? str(s).slice(0, -str(p).length) : str(s))),
  TrimSpace: f(1, 1, ([s]) => str(s).trim()),

  // Sprig's string functions (argument order: the string last, so it can be piped)
  lower: f(1, 1, ([v]) => str(v).toLowerCase()),
  upper: f(1, 1, ([v]) => str(v).toUpperCase()),
  title: f(1, 1, ([v]) => str(v).replace(/(^|[^\p{L}\p{N}'])(\p{L})/gu, (_m, pre: string, c: string) => pre + c.toUpperCase())),
  trim: f(1, 1, ([s]) => str(s).trim()),
  trimAll: f(2, 2, ([set, s]) => trimRightSet(trimLeftSet(str(s), str(set)), str(set))),
  trimPrefix: f(2, 2, ([p, s]) => (str(s).startsWith(str(p)) ? str(s).slice(str(p).length) : str(s))),
  trimSuffix: f(2, 2, ([p, s]) => (str(p) !== '' && str(s).endsWith(str(p)) ? str(s).slice(0, -str(p).length) : str(s))),
  replace: f(3, 3, ([from, to, s]) => str(s).split(str(from)).join(str(to))),
  contains: f(2, 2, ([sub, s]) => str(s).includes(str(sub))),
  hasPrefix: f(2, 2, ([p, s]) => str(s).startsWith(str(p))),
  hasSuffix: f(2, 2, ([p, s]) => str(s).endsWith(str(p))),
  trunc: f(2, 2, ([n, s]) => {
    const chars = [...str(s)];
    const k = int(n, 'trunc');
    if (k >= 0) return chars.slice(0, k).join('');
    return chars.slice(Math.max(0, chars.length + k)).join('');
  }),
  substr: f(3, 3, ([start, end, s]) => {
    const chars = [...str(s)];
    const a = int(start, 'substr');
    const b = int(end, 'substr');
    if (a < 0) return chars.slice(0, b).join('');
    if (b < 0 || b > chars.length) return chars.slice(a).join('');
    return chars.slice(a, b).join('');
  }),
  repeat: f(2, 2, ([n, s]) => {
    const count = bounded(int(n, 'repeat'), 'repeat');
    if (count * str(s).length > MAX_REPEAT) throw new TemplateError(`repeat: result longer than ${MAX_REPEAT} characters`);
    return str(s).repeat(count);
  }),
  indent: f(2, 2, ([n, s]) => {
    const pad = ' '.repeat(bounded(int(n, 'indent'), 'indent'));
    return pad + str(s).replace(/\n/g, `\n${pad}`);
  }),
  nindent: f(2, 2, ([n, s]) => {
    const pad = ' '.repeat(bounded(int(n, 'nindent'), 'nindent'));
    return '\n' + pad + str(s).replace(/\n/g, `\n${pad}`);
  }),
  default: f(1, 2, (a) => (a.length < 2 || !truthy(a[1]) ? a[0] : a[1])),
  count: f(2, 2, ([pattern, s]) => {
    try {
      return compileRegex(str(pattern), { anchored: false, where: 'count' }).count(str(s));
    } catch (error) {
      throw new TemplateError((error as Error).message);
    }
  }),
  regexReplaceAll: f(3, 3, ([re, s, repl]) => regexReplace(str(re), str(s), str(repl), false)),
  regexReplaceAllLiteral: f(3, 3, ([re, s, repl]) => regexReplace(str(re), str(s), str(repl), true)),
  urlencode: f(1, 1, ([s]) => encodeURIComponent(str(s)).replace(/%20/g, '+')),
  urldecode: f(1, 1, ([s]) => {
    try {
      return decodeURIComponent(str(s).replace(/\+/g, ' '));
    } catch {
      throw new TemplateError(`urldecode: invalid escape in ${JSON.stringify(str(s))}`);
    }
  }),
  b64enc: f(1, 1, ([s]) => Buffer.from(str(s), 'utf8').toString('base64')),
  b64dec: f(1, 1, ([s]) => Buffer.from(str(s), 'base64').toString('utf8')),
  alignLeft: f(2, 2, ([n, s]) => {
    const w = bounded(int(n, 'alignLeft'), 'alignLeft');
    const chars = [...str(s)];
    return chars.length >= w ? chars.slice(0, w).join('') : str(s) + ' '.repeat(w - chars.length);
  }),
  alignRight: f(2, 2, ([n, s]) => {
    const w = bounded(int(n, 'alignRight'), 'alignRight');
    const chars = [...str(s)];
    return chars.length >= w ? chars.slice(chars.length - w).join('') : ' '.repeat(w - chars.length) + str(s);
  }),

  // Arithmetic: integer (Sprig's add/sub/…) and float (addf/…)
  add: f(2, 64, (a) => a.reduce<number>((s, v) => s + int(v, 'add'), 0)),
  sub: f(2, 2, ([x, y]) => int(x, 'sub') - int(y, 'sub')),
  mul: f(2, 64, (a) => a.reduce<number>((s, v) => s * int(v, 'mul'), 1)),
  div: f(2, 2, ([x, y]) => {
    const d = int(y, 'div');
    if (d === 0) throw new TemplateError('div: integer divide by zero');
    return Math.trunc(int(x, 'div') / d);
  }),
  mod: f(2, 2, ([x, y]) => {
    const d = int(y, 'mod');
    if (d === 0) throw new TemplateError('mod: integer divide by zero');
    return int(x, 'mod') % d;
  }),
  addf: f(2, 64, (a) => a.reduce<number>((s, v) => s + num(v, 'addf'), 0)),
  subf: f(2, 64, ([x, ...rest]) => rest.reduce<number>((s, v) => s - num(v, 'subf'), num(x, 'subf'))),
  mulf: f(2, 64, (a) => a.reduce<number>((s, v) => s * num(v, 'mulf'), 1)),
  divf: f(2, 64, ([x, ...rest]) => rest.reduce<number>((s, v) => s / num(v, 'divf'), num(x, 'divf'))),
  max: f(1, 64, (a) => Math.max(...a.map((v) => int(v, 'max')))),
  min: f(1, 64, (a) => Math.min(...a.map((v) => int(v, 'min')))),
  maxf: f(1, 64, (a) => Math.max(...a.map((v) => num(v, 'maxf')))),
  minf: f(1, 64, (a) => Math.min(...a.map((v) => num(v, 'minf')))),
  ceil: f(1, 1, ([v]) => Math.ceil(num(v, 'ceil'))),
  floor: f(1, 1, ([v]) => Math.floor(num(v, 'floor'))),
  round: f(2, 3, ([v, p]) => {
    const m = 10 ** int(p, 'round');
    return Math.round(num(v, 'round') * m) / m;
  }),
  int: f(1, 1, ([v]) => int(v, 'int')),
  float64: f(1, 1, ([v]) => num(v, 'float64')),

  // Time
  now: f(0, 0, () => new GoTime(BigInt(Date.now()) * 1_000_000n)),
  toDate: f(2, 2, ([layout, s]) => parseGoTime(str(layout), str(s))),
  toDateInZone: f(3, 3, ([layout, zone, s]) => {
    if (str(zone) !== 'UTC' && str(zone) !== '') throw new TemplateError(`toDateInZone: only the UTC zone is supported, got ${str(zone)}`);
    return parseGoTime(str(layout), str(s));
  }),
  date: f(2, 2, ([layout, t]) => formatGoTime(time(t, 'date'), str(layout))),
  unixEpoch: f(1, 1, ([t]) => Number(floorDiv(time(t, 'unixEpoch').ns, 1_000_000_000n))),
  unixEpochMillis: f(1, 1, ([t]) => Number(floorDiv(time(t, 'unixEpochMillis').ns, 1_000_000n))),
  unixEpochNanos: f(1, 1, ([t]) => Number(time(t, 'unixEpochNanos').ns)),
  unixToTime: f(1, 1, ([s]) => epochToTime(str(s))),
};

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b < 0n ? q - 1n : q;
}
