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

/** A strict JSON scanner (RFC 8259) that keeps number text and spans. */
export function scanJson(text: string): JsonNode {
  let i = 0;
  const fail = (what: string): never => {
    throw new ParseFailure(`${what} at character ${i + 1}`);
  };
  const ws = (): void => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++;
      else break;
    }
  };
  const string = (): string => {
    const start = ++i; // past the opening quote
    let out = '';
    let chunk = start;
    for (;;) {
      if (i >= text.length) fail('unterminated string');
      const c = text.charCodeAt(i);
      if (c === 34) {
        out += text.slice(chunk, i);
        i++;
        return out;
      }
      if (c < 32) fail('control character in string');
      if (c === 92) {
        out += text.slice(chunk, i);
        const e = text[i + 1];
        switch (e) {
          case '"':
          case '\\':
          case '/':
            out += e;
            i += 2;
            break;
          case 'b':
            out += '\b';
            i += 2;
            break;
          case 'f':
            out += '\f';
            i += 2;
            break;
          case 'n':
            out += '\n';
            i += 2;
            break;
          case 'r':
            out += '\r';
            i += 2;
            break;
          case 't':
            out += '\t';
            i += 2;
            break;
          case 'u': {
            const hex = text.slice(i + 2, i + 6);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('invalid \\u escape');
            out += String.fromCharCode(parseInt(hex, 16));
            i += 6;
            break;
          }
          default:
            fail('invalid escape');
        }
        chunk = i;
        continue;
      }
      i++;
    }
  };
  const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?/y;
  const value = (depth: number): JsonNode => {
    if (depth > MAX_JSON_DEPTH) fail(`nesting deeper than ${MAX_JSON_DEPTH}`);
    ws();
    const from = i;
    const c = text[i];
    if (c === '{') {
      i++;
      const entries: [string, JsonNode][] = [];
      ws();
      if (text[i] === '}') {
        i++;
        return { kind: 'object', entries, from, to: i };
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a string key');
        const key = string();
        ws();
        if (text[i] !== ':') fail('expected ":"');
        i++;
        entries.push([key, value(depth + 1)]);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return { kind: 'object', entries, from, to: i };
        }
        fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      i++;
      const items: JsonNode[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return { kind: 'array', items, from, to: i };
      }
      for (;;) {
        items.push(value(depth + 1));
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return { kind: 'array', items, from, to: i };
        }
        fail('expected "," or "]"');
      }
    }
    if (c === '"') {
      const s = string();
      return { kind: 'string', value: s, from, to: i };
    }
    const word = c === 't' ? 'true' : c === 'f' ? 'false' : c === 'n' ? 'null' : undefined;
    if (word !== undefined) {
      if (!text.startsWith(word, i)) fail(`unexpected ${JSON.stringify(c)}`);
      i += word.length;
      return { kind: 'scalar', text: word, from, to: i };
    }
    // Plain integers (the common case) without the regex.
    let j = i;
    if (text.charCodeAt(j) === 45) j++;
    const digitsFrom = j;
    while (j < text.length && text.charCodeAt(j) >= 48 && text.charCodeAt(j) <= 57) j++;
    const next = text.charCodeAt(j);
    if (j > digitsFrom && next !== 46 && next !== 101 && next !== 69 && (j - digitsFrom === 1 || text.charCodeAt(digitsFrom) !== 48)) {
      i = j;
      return { kind: 'scalar', text: text.slice(from, j), from, to: j };
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (!m) return fail(c === undefined ? 'unexpected end of input' : `unexpected ${JSON.stringify(c)}`);
    i += m[0].length;
    return { kind: 'scalar', text: m[0], from, to: i };
  };
  const root = value(0);
  ws();
  if (i < text.length) fail('unexpected data after the top-level value');
  return root;
}

/** Loki's label name sanitising: every character outside [a-zA-Z0-9_] becomes "_". */
export function sanitizeLabelName(key: string): string {
  let out = key.replace(/[^a-zA-Z0-9_]/g, '_');
  if (/^[0-9]/.test(out)) out = `_${out}`;
  return out;
}

/** `| json`: every scalar leaf of the object, nested keys joined with "_"; arrays skipped. */
export function jsonAll(line: string, emit: (name: string, value: string) => void): void {
  const root = scanJson(line);
  if (root.kind !== 'object') throw new ParseFailure('the line is not a JSON object');
  const walk = (node: JsonNode & { kind: 'object' }, prefix: string): void => {
    for (const [key, child] of node.entries) {
      const name = prefix + sanitizeLabelName(key);
      switch (child.kind) {
        case 'object':
          walk(child, `${name}_`);
          break;
        case 'array':
          break;
        case 'string':
          emit(name, child.value);
          break;
        case 'scalar':
          if (child.text !== 'null') emit(name, child.text);
          break;
      }
    }
  };
  walk(root, '');
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
