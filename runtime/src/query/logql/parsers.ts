/**
 * LogQL's line parsers: json, logfmt, regexp, pattern and unpack. Each turns a line into
 * (name, value) pairs or an error; pipeline.ts decides how they land in the entry's labels.
 * Every parser is linear in the line (no backtracking of our own), so a 256 KiB line or a
 * pattern with hundreds of captures costs time proportional to its size.
 */
import { LABEL_NAME, LABEL_NAME_SYNTAX } from '../../model/labels.js';
import { badData } from '../promql/errors.js';
import { compileRegex } from './regex.js';

export class ParseFailure extends Error {}

// ---------------------------------------------------------------- JSON

/** A JSON value with numbers kept as written (Loki keeps "1.50", not 1.5) and its source span. */
export type JsonNode =
  | { kind: 'object'; entries: [string, JsonNode][]; from: number; to: number }
  | { kind: 'array'; items: JsonNode[]; from: number; to: number }
  | { kind: 'string'; value: string; from: number; to: number }
  | { kind: 'scalar'; text: string; from: number; to: number };

const MAX_JSON_DEPTH = 256;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?/y;

/** A position in JSON text and the strict (RFC 8259) readers of its tokens. */
class JsonCursor {
  i = 0;
  constructor(readonly text: string) {}

  fail(what: string): never {
    throw new ParseFailure(`${what} at character ${this.i + 1}`);
  }

  ws(): void {
    const text = this.text;
    while (this.i < text.length) {
      const c = text.charCodeAt(this.i);
      if (c === 32 || c === 9 || c === 10 || c === 13) this.i++;
      else break;
    }
  }

  /** At an opening quote: the string's value, escapes resolved. */
  string(): string {
    const text = this.text;
    let i = ++this.i; // past the opening quote
    let out = '';
    let chunk = i;
    for (;;) {
      if (i >= text.length) {
        this.i = i;
        this.fail('unterminated string');
      }
      const c = text.charCodeAt(i);
      if (c === 34) {
        this.i = i + 1;
        return out + text.slice(chunk, i);
      }
      if (c < 32) {
        this.i = i;
        this.fail('control character in string');
      }
      if (c === 92) {
        out += text.slice(chunk, i);
        const e = text[i + 1];
        switch (e) {
          case '"':
          case '\\':
          case '/':
            out += e;
            break;
          case 'b':
            out += '\b';
            break;
          case 'f':
            out += '\f';
            break;
          case 'n':
            out += '\n';
            break;
          case 'r':
            out += '\r';
            break;
          case 't':
            out += '\t';
            break;
          case 'u': {
            const hex = text.slice(i + 2, i + 6);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
              this.i = i;
              this.fail('invalid \\u escape');
            }
            out += String.fromCharCode(parseInt(hex, 16));
            i += 4;
            break;
          }
          default:
            this.i = i;
            this.fail('invalid escape');
        }
        i += 2;
        chunk = i;
        continue;
      }
      i++;
    }
  }

  /** At a value that is not an object, array or string: true, false, null or a number, as written. */
  scalar(): string {
    const text = this.text;
    const from = this.i;
    const c = text[from];
    const word = c === 't' ? 'true' : c === 'f' ? 'false' : c === 'n' ? 'null' : undefined;
    if (word !== undefined) {
      if (!text.startsWith(word, from)) this.fail(`unexpected ${JSON.stringify(c)}`);
      this.i += word.length;
      return word;
    }
    // Plain integers (the common case) without the regex.
    let j = from;
    if (text.charCodeAt(j) === 45) j++;
    const digitsFrom = j;
    while (j < text.length && text.charCodeAt(j) >= 48 && text.charCodeAt(j) <= 57) j++;
    const next = text.charCodeAt(j);
    if (j > digitsFrom && next !== 46 && next !== 101 && next !== 69 && (j - digitsFrom === 1 || text.charCodeAt(digitsFrom) !== 48)) {
      this.i = j;
      return text.slice(from, j);
    }
    NUMBER.lastIndex = from;
    const m = NUMBER.exec(text);
    if (!m) return this.fail(c === undefined ? 'unexpected end of input' : `unexpected ${JSON.stringify(c)}`);
    this.i += m[0].length;
    return m[0];
  }

  /** After a member or item: true at "," (consumed), false at the closing bracket (consumed). */
  more(close: '}' | ']'): boolean {
    this.ws();
    const c = this.text[this.i];
    if (c === ',') {
      this.i++;
      return true;
    }
    if (c === close) {
      this.i++;
      return false;
    }
    return this.fail(`expected "," or "${close}"`);
  }

  /** After "{": false (consumed) when the object is empty. */
  firstMember(): boolean {
    this.ws();
    if (this.text[this.i] !== '}') return true;
    this.i++;
    return false;
  }

  /** At a member: its key, and the cursor at its value. */
  key(): string {
    this.ws();
    if (this.text[this.i] !== '"') this.fail('expected a string key');
    const key = this.string();
    this.ws();
    if (this.text[this.i] !== ':') this.fail('expected ":"');
    this.i++;
    this.ws();
    return key;
  }

  /** The value at the cursor as a tree, itself `depth` deep. */
  value(depth: number): JsonNode {
    if (depth > MAX_JSON_DEPTH) this.fail(`nesting deeper than ${MAX_JSON_DEPTH}`);
    this.ws();
    const from = this.i;
    const c = this.text[from];
    if (c === '{') {
      this.i++;
      const entries: [string, JsonNode][] = [];
      if (this.firstMember()) {
        do {
          const key = this.key();
          entries.push([key, this.value(depth + 1)]);
        } while (this.more('}'));
      }
      return { kind: 'object', entries, from, to: this.i };
    }
    if (c === '[') {
      this.i++;
      const items: JsonNode[] = [];
      this.ws();
      if (this.text[this.i] === ']') {
        this.i++;
        return { kind: 'array', items, from, to: this.i };
      }
      do items.push(this.value(depth + 1));
      while (this.more(']'));
      return { kind: 'array', items, from, to: this.i };
    }
    if (c === '"') {
      const s = this.string();
      return { kind: 'string', value: s, from, to: this.i };
    }
    const scalar = this.scalar();
    return { kind: 'scalar', text: scalar, from, to: this.i };
  }

  end(): void {
    this.ws();
    if (this.i < this.text.length) this.fail('unexpected data after the top-level value');
  }
}

/** A strict JSON scanner (RFC 8259) that keeps number text and spans. */
export function scanJson(text: string): JsonNode {
  const cur = new JsonCursor(text);
  const root = cur.value(0);
  cur.end();
  return root;
}

/** Loki's label name sanitising: every character outside [a-zA-Z0-9_] becomes "_". */
export function sanitizeLabelName(key: string): string {
  if (isLabelName(key)) return key; // most keys: no new string, no regex
  let out = key.replace(/[^a-zA-Z0-9_]/g, '_');
  if (/^[0-9]/.test(out)) out = `_${out}`;
  return out;
}

function isLabelName(key: string): boolean {
  if (key.length === 0) return true;
  const first = key.charCodeAt(0);
  if (first >= 48 && first <= 57) return false;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (!((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95)) return false;
  }
  return true;
}

/**
 * `| json`: every scalar leaf of the object, nested keys joined with "_"; arrays skipped.
 * Scanned in one pass without building the tree (but for arrays); nothing is emitted unless the whole line
 * is valid JSON (an invalid line adds only its __error__).
 */
export function jsonAll(line: string, emit: (name: string, value: string) => void): void {
  const cur = new JsonCursor(line);
  cur.ws();
  if (line[cur.i] !== '{') {
    cur.value(0); // a syntax error names itself; valid JSON that is not an object is refused below
    cur.end();
    throw new ParseFailure('the line is not a JSON object');
  }
  const names: string[] = [];
  const values: string[] = [];
  /** The object at the cursor, itself `depth` deep (its members one deeper, as scanJson counts). */
  const object = (prefix: string, depth: number): void => {
    cur.i++; // past "{"
    if (!cur.firstMember()) return;
    do {
      const name = prefix + sanitizeLabelName(cur.key());
      if (depth + 1 > MAX_JSON_DEPTH) cur.fail(`nesting deeper than ${MAX_JSON_DEPTH}`);
      const c = line[cur.i];
      if (c === '{') object(`${name}_`, depth + 1);
      else if (c === '[')
        cur.value(depth + 1); // arrays are skipped, but must be valid
      else if (c === '"') {
        names.push(name);
        values.push(cur.string());
      } else {
        const text = cur.scalar();
        if (text !== 'null') {
          names.push(name);
          values.push(text);
        }
      }
    } while (cur.more('}'));
  };
  object('', 0);
  cur.end();
  for (let k = 0; k < names.length; k++) emit(names[k]!, values[k]!);
}

export type JsonPathStep = { key: string } | { index: number };

/** Parses a json parameter expression: `a.b`, `a["b c"]`, `servers[0].name`, `["x"]`. */
export function parseJsonPath(expr: string): JsonPathStep[] {
  const steps: JsonPathStep[] = [];
  let i = 0;
  const bad = (): never => {
    throw badData(`invalid json expression ${JSON.stringify(expr)} at character ${i + 1}`);
  };
  if (expr === '') bad();
  while (i < expr.length) {
    const c = expr[i]!;
    if (c === '.') {
      if (i === 0 || i === expr.length - 1 || expr[i + 1] === '.' || expr[i + 1] === '[') bad();
      i++;
      continue;
    }
    if (c === '[') {
      const rest = expr.slice(i);
      const idx = /^\[(\d+)\]/.exec(rest);
      if (idx) {
        steps.push({ index: Number(idx[1]) });
        i += idx[0].length;
        continue;
      }
      const key = /^\[\s*"((?:[^"\\]|\\.)*)"\s*\]/.exec(rest);
      if (key) {
        steps.push({ key: JSON.parse(`"${key[1]}"`) as string });
        i += key[0].length;
        continue;
      }
      bad();
    }
    const ident = /^[^.[\]"]+/.exec(expr.slice(i));
    if (!ident) bad();
    steps.push({ key: ident![0] });
    i += ident![0].length;
  }
  return steps;
}

/** Value of one json parameter: scalars as text, objects and arrays as their JSON text. */
export function jsonPathValue(line: string, root: JsonNode, path: JsonPathStep[]): string | undefined {
  let node: JsonNode | undefined = root;
  for (const step of path) {
    if (!node) return undefined;
    if ('index' in step) {
      node = node.kind === 'array' ? node.items[step.index] : undefined;
    } else {
      if (node.kind !== 'object') return undefined;
      let found: JsonNode | undefined;
      for (const [k, v] of node.entries) if (k === step.key) found = v; // the last duplicate wins
      node = found;
    }
  }
  if (!node) return undefined;
  switch (node.kind) {
    case 'string':
      return node.value;
    case 'scalar':
      return node.text === 'null' ? undefined : node.text;
    default:
      return line.slice(node.from, node.to);
  }
}

// ---------------------------------------------------------------- logfmt

export interface LogfmtPair {
  key: string;
  value: string;
  /** A key written without "=". */
  standalone: boolean;
}

/**
 * logfmt pairs. Keys are runs of printable characters other than "=" and '"'; values are
 * bare (up to the next space) or double-quoted with Go escapes. Malformed input throws in
 * strict mode and is skipped up to the next space otherwise.
 */
export function logfmtPairs(line: string, strict: boolean): LogfmtPair[] {
  const pairs: LogfmtPair[] = [];
  let i = 0;
  const n = line.length;
  const isSpace = (c: string | undefined): boolean => c !== undefined && c <= ' ';
  const skipToSpace = (): void => {
    while (i < n && !isSpace(line[i])) i++;
  };
  while (i < n) {
    while (i < n && isSpace(line[i])) i++;
    if (i >= n) break;
    const keyStart = i;
    while (i < n && !isSpace(line[i]) && line[i] !== '=' && line[i] !== '"') i++;
    const key = line.slice(keyStart, i);
    if (key === '') {
      if (strict) throw new ParseFailure(`logfmt syntax error at pos ${i + 1} : unexpected ${JSON.stringify(line[i])}`);
      skipToSpace();
      continue;
    }
    if (line[i] === '"') {
      if (strict) throw new ParseFailure(`logfmt syntax error at pos ${i + 1} : unexpected '"'`);
      skipToSpace();
      continue;
    }
    if (line[i] !== '=') {
      pairs.push({ key, value: '', standalone: true });
      continue;
    }
    i++; // "="
    if (line[i] === '"') {
      i++;
      let value = '';
      let closed = false;
      while (i < n) {
        const c = line[i]!;
        if (c === '"') {
          closed = true;
          i++;
          break;
        }
        if (c === '\\' && i + 1 < n) {
          const e = line[i + 1]!;
          const mapped = ({ n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f' } as Record<string, string>)[e];
          if (mapped !== undefined) {
            value += mapped;
            i += 2;
            continue;
          }
          if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(line.slice(i + 2, i + 6))) {
            value += String.fromCharCode(parseInt(line.slice(i + 2, i + 6), 16));
            i += 6;
            continue;
          }
          if (strict) throw new ParseFailure(`logfmt syntax error at pos ${i + 1} : invalid quoted value`);
        }
        value += c;
        i++;
      }
      if (!closed) {
        if (strict) throw new ParseFailure(`logfmt syntax error at pos ${n + 1} : unterminated quoted value`);
        continue;
      }
      if (i < n && !isSpace(line[i])) {
        if (strict) throw new ParseFailure(`logfmt syntax error at pos ${i + 1} : unexpected ${JSON.stringify(line[i])}`);
        skipToSpace();
        continue;
      }
      pairs.push({ key, value, standalone: false });
      continue;
    }
    const valueStart = i;
    while (i < n && !isSpace(line[i]) && line[i] !== '"') i++;
    if (line[i] === '"') {
      if (strict) throw new ParseFailure(`logfmt syntax error at pos ${i + 1} : unexpected '"'`);
      skipToSpace();
      continue;
    }
    pairs.push({ key, value: line.slice(valueStart, i), standalone: false });
  }
  return pairs;
}

// ---------------------------------------------------------------- regexp

export interface RegexpParser {
  names: string[];
  parse(line: string): [string, string][];
}

export function compileRegexpParser(pattern: string): RegexpParser {
  const re = compileRegex(pattern, { anchored: false, where: 'the regexp parser' });
  const names = [...re.groupNames];
  if (names.length === 0) throw badData(`at least one named capture must be supplied in regexp ${JSON.stringify(pattern)}`);
  for (const name of names) {
    if (!LABEL_NAME.test(name)) throw badData(`invalid extracted label name ${JSON.stringify(name)} in regexp`);
  }
  return {
    names,
    parse(line) {
      const groups = re.groups(line);
      if (!groups) return [];
      return Object.entries(groups).filter((e): e is [string, string] => e[1] !== undefined);
    },
  };
}

// ---------------------------------------------------------------- pattern

type PatternNode = { literal: string } | { capture: string | undefined };

export interface PatternMatcher {
  names: string[];
  /** Captures in order, or undefined when the line does not match. */
  match(line: string): [string, string][] | undefined;
}

/** Loki's pattern syntax: literals and `<name>` / `<_>` captures, no two captures adjacent. */
export function compilePattern(pattern: string, requireNamed: boolean): PatternMatcher {
  const nodes: PatternNode[] = [];
  const re = new RegExp(`<(_|${LABEL_NAME_SYNTAX})>`, 'g');
  let last = 0;
  for (const m of pattern.matchAll(re)) {
    if (m.index > last) nodes.push({ literal: pattern.slice(last, m.index) });
    const prev = nodes[nodes.length - 1];
    if (prev && 'capture' in prev) throw badData(`invalid pattern ${JSON.stringify(pattern)}: consecutive captures are not allowed`);
    nodes.push({ capture: m[1] === '_' ? undefined : m[1] });
    last = m.index + m[0].length;
  }
  if (last < pattern.length) nodes.push({ literal: pattern.slice(last) });
  const names = nodes.flatMap((n) => ('capture' in n && n.capture !== undefined ? [n.capture] : []));
  if (requireNamed && names.length === 0) throw badData(`invalid pattern ${JSON.stringify(pattern)}: at least one named capture is needed`);
  if (!requireNamed && !nodes.some((n) => 'capture' in n) && nodes.length === 0) throw badData('empty pattern');
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw badData(`invalid pattern ${JSON.stringify(pattern)}: duplicate capture name ${dup}`);
  return {
    names,
    match(line) {
      const out: [string, string][] = [];
      let p = 0;
      for (let k = 0; k < nodes.length; k++) {
        const node = nodes[k]!;
        if ('literal' in node) {
          if (!line.startsWith(node.literal, p)) return undefined;
          p += node.literal.length;
          continue;
        }
        const next = nodes[k + 1] as { literal: string } | undefined;
        let end: number;
        if (next === undefined) {
          end = line.length;
        } else {
          end = line.indexOf(next.literal, p);
          if (end < 0) return undefined;
        }
        if (node.capture !== undefined) out.push([node.capture, line.slice(p, end)]);
        p = end;
      }
      return out;
    },
  };
}
