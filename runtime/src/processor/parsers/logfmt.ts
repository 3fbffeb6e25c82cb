/**
 * A logfmt parser (`level=info msg="GET /x" duration=12ms cached`).
 *
 * Grammar, following go-logfmt where it is strict and brandur's logfmt note where it is
 * silent: pairs are separated by ASCII whitespace; a key is a run of characters above
 * space other than `=` and `"`; `key=` gives ""; a bare `key` gives `true` (a flag); a
 * quoted value supports the JSON escapes (`\" \\ \/ \b \f \n \r \t \uXXXX`) and must be
 * followed by whitespace or the end. Unquoted values run to the next whitespace and may
 * contain `=` or `"`, so `url=/q?a=b` stays intact (go-logfmt rejects it and loses the line).
 * Values stay strings: logfmt has no types.
 */
import { setOwn } from '../codecs.js';

export type LogfmtValue = string | true;

export type LogfmtResult = { ok: true; pairs: Record<string, LogfmtValue> } | { ok: false; error: string };

const SPACE = 32;
const EQUALS = 61;
const QUOTE = 34;
const BACKSLASH = 92;

export function parseLogfmt(line: string): LogfmtResult {
  const pairs: Record<string, LogfmtValue> = {};
  const n = line.length;
  let i = 0;
  for (;;) {
    while (i < n && line.charCodeAt(i) <= SPACE) i++;
    if (i >= n) return { ok: true, pairs };

    const keyStart = i;
    let ch = line.charCodeAt(i);
    while (ch > SPACE && ch !== EQUALS && ch !== QUOTE) {
      i++;
      ch = i < n ? line.charCodeAt(i) : SPACE;
    }
    if (i === keyStart) return fail(`unexpected ${ch === EQUALS ? "'='" : "'\"'"} at offset ${i}: expected a key`);
    if (ch === QUOTE) return fail(`unexpected '"' in key at offset ${i}`);
    const key = line.slice(keyStart, i);
    if (ch !== EQUALS) {
      setOwn(pairs, key, true);
      continue;
    }

    i++; // past '='
    if (i >= n || line.charCodeAt(i) <= SPACE) {
      setOwn(pairs, key, '');
      continue;
    }
    if (line.charCodeAt(i) !== QUOTE) {
      const valueStart = i;
      while (i < n && line.charCodeAt(i) > SPACE) i++;
      setOwn(pairs, key, line.slice(valueStart, i));
      continue;
    }

    const quoted = readQuoted(line, i + 1);
    if (typeof quoted === 'string') return fail(`${quoted} in value of key ${JSON.stringify(key)}`);
    i = quoted.end;
    if (i < n && line.charCodeAt(i) > SPACE) {
      return fail(`unexpected character after quoted value of key ${JSON.stringify(key)} at offset ${i}`);
    }
    setOwn(pairs, key, quoted.value);
  }
}

/** Reads a quoted value starting just after the opening quote; returns an error or the value and the index after the closing quote. */
function readQuoted(line: string, start: number): { value: string; end: number } | string {
  const n = line.length;
  let value = '';
  let chunkStart = start;
  let i = start;
  while (i < n) {
    const ch = line.charCodeAt(i);
    if (ch === QUOTE) return { value: value + line.slice(chunkStart, i), end: i + 1 };
    if (ch !== BACKSLASH) {
      i++;
      continue;
    }
    value += line.slice(chunkStart, i);
    const escape = line[i + 1];
    switch (escape) {
      case '"':
      case '\\':
      case '/':
        value += escape;
        break;
      case 'b':
        value += '\b';
        break;
      case 'f':
        value += '\f';
        break;
      case 'n':
        value += '\n';
        break;
      case 'r':
        value += '\r';
        break;
      case 't':
        value += '\t';
        break;
      case 'u': {
        const hex = line.slice(i + 2, i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) return `invalid escape "\\u${hex}" at offset ${i}`;
        value += String.fromCharCode(parseInt(hex, 16));
        i += 4;
        break;
      }
      case undefined:
        return `unterminated quoted string`;
      default:
        return `invalid escape "\\${escape}" at offset ${i}`;
    }
    i += 2;
    chunkStart = i;
  }
  return `unterminated quoted string`;
}

function fail(error: string): LogfmtResult {
  return { ok: false, error };
}
