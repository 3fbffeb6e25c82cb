/**
 * Runs a LogQL log pipeline over one entry at a time: line filters, parsers, label filters,
 * formatters, drop/keep and decolorize, in query order. Each stage kind is one entry of
 * STAGES (compile once per query, run per entry).
 *
 * Labels follow Loki: a parsed label whose name is already a stream label is stored as
 * `<name>_extracted`; a failing parser or conversion sets `__error__` (JSONParserErr,
 * LogfmtParserErr, LabelFilterErr, TemplateFormatErr) and `__error_details__`, keeps the
 * entry, and the first error wins; numeric/duration/bytes label filters let an entry that
 * already carries an error pass, so that `| __error__=""` can decide.
 */
import { BlockList, isIP } from 'node:net';
import { LABEL_NAME } from '../../model/labels.js';
import type { Labels } from '../../model/types.js';
import type { LabelMatcher } from '../../storage/reader.js';
import { badData } from '../promql/errors.js';
import { parseGoDuration } from '../promql/lexical.js';
import type { CompareOp, LabelFilterExpr, LineMatch, Stage } from './ast.js';
import {
  compilePattern,
  compileRegexpParser,
  jsonAll,
  jsonPathValue,
  logfmtPairs,
  ParseFailure,
  parseJsonPath,
  sanitizeLabelName,
  scanJson,
} from './parsers.js';
import { compileRegex } from './regex.js';
import { parseTemplate, TemplateError } from './template.js';

export const ERROR_LABEL = '__error__';
export const ERROR_DETAILS_LABEL = '__error_details__';

const NO_LABELS: Labels = Object.freeze({}) as Labels;

/**
 * An entry's `fields` as Loki structured metadata: flat string labels (names sanitised,
 * numbers and booleans as text, objects as JSON); nulls are skipped.
 */
export function fieldsAsMetadata(fields: Readonly<Record<string, unknown>> | undefined): Labels {
  if (!fields) return NO_LABELS;
  let out: Labels | undefined;
  for (const [k, v] of Object.entries(fields)) {
    if (v === null || v === undefined) continue;
    out ??= {};
    out[sanitizeLabelName(k)] = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
  return out ?? NO_LABELS;
}

/** One entry moving through the pipeline. */
export class PipelineEntry {
  /** Current labels: stream labels plus what the stages added. */
  readonly labels: Record<string, string>;

  constructor(
    public line: string,
    readonly timestampNs: bigint,
    /** The stream's own labels (for the `_extracted` rule). */
    readonly stream: Labels,
    /** The entry's structured metadata (its `fields`, as strings): labels from the start. */
    readonly metadata: Labels = NO_LABELS,
  ) {
    this.labels = metadata === NO_LABELS ? { ...stream } : { ...metadata, ...stream };
  }

  /** Loki's three label categories of the current labels. */
  categories(): { stream: Labels; structuredMetadata: Labels; parsed: Labels } {
    const stream: Labels = {};
    const structuredMetadata: Labels = {};
    const parsed: Labels = {};
    for (const [k, v] of Object.entries(this.labels)) {
      if (this.stream[k] === v) stream[k] = v;
      else if (this.metadata[k] === v && this.stream[k] === undefined) structuredMetadata[k] = v;
      else parsed[k] = v;
    }
    return { stream, structuredMetadata, parsed };
  }

  hasError(): boolean {
    return this.labels[ERROR_LABEL] !== undefined && this.labels[ERROR_LABEL] !== '';
  }

  setError(kind: string, details: string): void {
    if (this.hasError()) return;
    this.labels[ERROR_LABEL] = kind;
    this.labels[ERROR_DETAILS_LABEL] = details;
  }

  /** Sets a label produced by a parser. */
  setParsed(name: string, value: string): void {
    if (name === ERROR_LABEL || name === ERROR_DETAILS_LABEL) return;
    const key = Object.prototype.hasOwnProperty.call(this.stream, name) ? `${name}_extracted` : name;
    this.labels[key] = value;
  }
}

/** A compiled stage: false drops the entry. */
type StageFn = (entry: PipelineEntry) => boolean;

export type CompiledPipeline = (entry: PipelineEntry) => boolean;

/** Compiles stages; throws a 400 for an invalid regex, pattern, template or json expression. */
export function compilePipeline(stages: readonly Stage[]): CompiledPipeline {
  const fns = stages.map(compileStage);
  if (fns.length === 0) return () => true;
  return (entry) => {
    for (const fn of fns) if (!fn(entry)) return false;
    return true;
  };
}

function compileStage(stage: Stage): StageFn {
  switch (stage.type) {
    case 'lineFilter':
      return lineFilterStage(stage.op, stage.values);
    case 'json':
      return jsonStage(stage.params);
    case 'logfmt':
      return logfmtStage(stage.strict, stage.keepEmpty, stage.params);
    case 'regexp': {
      const parser = compileRegexpParser(stage.pattern);
      return (entry) => {
        for (const [name, value] of parser.parse(entry.line)) entry.setParsed(name, value);
        return true;
      };
    }
    case 'pattern': {
      const matcher = compilePattern(stage.pattern, true);
      return (entry) => {
        for (const [name, value] of matcher.match(entry.line) ?? []) entry.setParsed(name, value);
        return true;
      };
    }
    case 'unpack':
      return unpackStage();
    case 'labelFilter': {
      const test = compileLabelFilter(stage.filter);
      return (entry) => test(entry);
    }
    case 'lineFormat': {
      const template = parseTemplate(stage.template);
      return (entry) => {
        try {
          entry.line = template.render({ labels: entry.labels, line: entry.line, timestampNs: entry.timestampNs });
        } catch (error) {
          if (!(error instanceof TemplateError)) throw error;
          entry.setError('TemplateFormatErr', error.message);
        }
        return true;
      };
    }
    case 'labelFormat':
      return labelFormatStage(stage.ops);
    case 'drop':
      return dropKeepStage(stage.names, stage.matchers, false);
    case 'keep':
      return dropKeepStage(stage.names, stage.matchers, true);
    case 'decolorize':
      return (entry) => {
        entry.line = decolorize(entry.line);
        return true;
      };
  }
}

// ---------------------------------------------------------------- line filters

function lineFilterStage(op: Stage & { type: 'lineFilter' } extends { op: infer O } ? O : never, values: LineMatch[]): StageFn {
  const negate = op === '!=' || op === '!~' || op === '!>';
  const tests = values.map((v): ((line: string) => boolean) => {
    if (v.kind === 'ip') {
      const ip = compileIpMatcher(v.value);
      return (line) => lineHasIp(line, ip);
    }
    switch (op) {
      case '|=':
      case '!=':
        return (line) => line.includes(v.value);
      case '|~':
      case '!~': {
        const re = compileRegex(v.value, { anchored: false, where: `line filter ${op}` });
        return (line) => re.test(line);
      }
      case '|>':
      case '!>': {
        const pattern = compilePattern(v.value, false);
        return (line) => pattern.match(line) !== undefined;
      }
    }
  });
  // `|= "a" or "b"` keeps lines with either; `!= "a" or "b"` drops lines with either.
  return (entry) => tests.some((t) => t(entry.line)) !== negate;
}

// ---------------------------------------------------------------- IP matching

export interface IpMatcher {
  test(address: string): boolean;
}

/** ip("192.168.0.1"), ip("192.168.0.1-192.168.0.9"), ip("10.0.0.0/8"), and IPv6 forms. */
export function compileIpMatcher(pattern: string): IpMatcher {
  const list = new BlockList();
  const p = pattern.trim();
  const bad = (): never => {
    throw badData(`invalid ip pattern ${JSON.stringify(pattern)}: expected an address, a range a-b or a CIDR a/n`);
  };
  try {
    if (p.includes('/')) {
      const [net, bits] = p.split('/') as [string, string];
      const family = isIP(net);
      if (!family || !/^\d+$/.test(bits)) bad();
      list.addSubnet(net, Number(bits), family === 4 ? 'ipv4' : 'ipv6');
    } else if (p.includes('-')) {
      const [a, b] = p.split('-').map((s) => s.trim()) as [string, string];
      const family = isIP(a);
      if (!family || isIP(b) !== family) bad();
      list.addRange(a, b, family === 4 ? 'ipv4' : 'ipv6');
    } else {
      const family = isIP(p);
      if (!family) bad();
      list.addAddress(p, family === 4 ? 'ipv4' : 'ipv6');
    }
  } catch (error) {
    if ((error as { type?: string }).type === 'bad_data') throw error;
    bad();
  }
  return {
    test(address) {
      const family = isIP(address);
      if (!family) return false;
      return list.check(address, family === 4 ? 'ipv4' : 'ipv6');
    },
  };
}

const IP_CANDIDATE = /[0-9a-fA-F:.]*[:.][0-9a-fA-F:.]*/g;

function lineHasIp(line: string, ip: IpMatcher): boolean {
  for (const m of line.matchAll(IP_CANDIDATE)) {
    const token = m[0].replace(/^[.:]+(?!:)|\.+$/g, '');
    if (token.length >= 2 && ip.test(token)) return true;
  }
  return false;
}

// ---------------------------------------------------------------- parsers

function jsonStage(params: { label: string; expr: string }[]): StageFn {
  if (params.length === 0) {
    return (entry) => {
      try {
        jsonAll(entry.line, (name, value) => entry.setParsed(name, value));
      } catch (error) {
        if (!(error instanceof ParseFailure)) throw error;
        entry.setError('JSONParserErr', error.message);
      }
      return true;
    };
  }
  const compiled = params.map((p) => ({ label: checkLabelName(p.label, 'json'), path: parseJsonPath(p.expr) }));
  return (entry) => {
    let root;
    try {
      root = scanJson(entry.line);
    } catch (error) {
      if (!(error instanceof ParseFailure)) throw error;
      entry.setError('JSONParserErr', error.message);
      return true;
    }
    for (const p of compiled) {
      const value = jsonPathValue(entry.line, root, p.path);
      entry.setParsed(p.label, value ?? '');
    }
    return true;
  };
}

function logfmtStage(strict: boolean, keepEmpty: boolean, params: { label: string; expr: string }[]): StageFn {
  const wanted = new Map<string, string[]>(); // key in the line → labels to set
  for (const p of params) {
    const label = checkLabelName(p.label, 'logfmt');
    wanted.set(p.expr, [...(wanted.get(p.expr) ?? []), label]);
  }
  return (entry) => {
    let pairs;
    try {
      pairs = logfmtPairs(entry.line, strict);
    } catch (error) {
      if (!(error instanceof ParseFailure)) throw error;
      entry.setError('LogfmtParserErr', error.message);
      return true;
    }
    for (const pair of pairs) {
      if (pair.value === '' && !keepEmpty) continue;
      if (wanted.size > 0) {
        for (const label of wanted.get(pair.key) ?? []) entry.setParsed(label, pair.value);
      } else {
        entry.setParsed(sanitizeLabelName(pair.key), pair.value);
      }
    }
    return true;
  };
}

function unpackStage(): StageFn {
  return (entry) => {
    let root;
    try {
      root = scanJson(entry.line);
    } catch (error) {
      if (!(error instanceof ParseFailure)) throw error;
      entry.setError('JSONParserErr', error.message);
      return true;
    }
    if (root.kind !== 'object') {
      entry.setError('JSONParserErr', 'the line is not a JSON object');
      return true;
    }
    let line: string | undefined;
    for (const [key, value] of root.entries) {
      if (value.kind !== 'string') continue;
      if (key === '_entry') line = value.value;
      else entry.setParsed(sanitizeLabelName(key), value.value);
    }
    if (line !== undefined) entry.line = line;
    return true;
  };
}

function checkLabelName(name: string, stage: string): string {
  if (!LABEL_NAME.test(name)) throw badData(`invalid label name ${JSON.stringify(name)} in ${stage}`);
  return name;
}

// ---------------------------------------------------------------- label filters

type EntryTest = (entry: PipelineEntry) => boolean;

export function compileLabelMatcher(m: LabelMatcher): (value: string) => boolean {
  switch (m.op) {
    case '=':
      return (v) => v === m.value;
    case '!=':
      return (v) => v !== m.value;
    case '=~': {
      const re = compileRegex(m.value, { anchored: true, where: `matcher ${m.name}=~` });
      return (v) => re.test(v);
    }
    case '!~': {
      const re = compileRegex(m.value, { anchored: true, where: `matcher ${m.name}!~` });
      return (v) => !re.test(v);
    }
  }
}

function compare(op: CompareOp, x: number, y: number): boolean {
  switch (op) {
    case '==':
      return x === y;
    case '!=':
      return x !== y;
    case '>':
      return x > y;
    case '>=':
      return x >= y;
    case '<':
      return x < y;
    case '<=':
      return x <= y;
  }
}

const CONVERTERS: Record<'number' | 'duration' | 'bytes', (text: string) => number | undefined> = {
  number: parseNumber,
  duration: parseDurationSeconds,
  bytes: parseBytes,
};

/** Go's strconv.ParseFloat, roughly: decimal, exponent, Inf, NaN. */
export function parseNumber(text: string): number | undefined {
  const t = text.trim();
  if (/^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/.test(t)) return Number(t);
  if (/^[+-]?0x[0-9a-fA-F]+$/.test(t)) return Number(t.replace(/^([+-]?)0x/, '$10x').replace('+', ''));
  if (/^[+-]?inf(inity)?$/i.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (/^nan$/i.test(t)) return NaN;
  return undefined;
}

/** A Go duration ("1.5s", "250ms", "1h2m") as seconds. */
export function parseDurationSeconds(text: string): number | undefined {
  const ms = parseGoDuration(text.trim());
  return ms === undefined ? undefined : ms / 1000;
}

const BYTE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  t: 1e12,
  tb: 1e12,
  p: 1e15,
  pb: 1e15,
  e: 1e18,
  eb: 1e18,
  ki: 2 ** 10,
  kib: 2 ** 10,
  mi: 2 ** 20,
  mib: 2 ** 20,
  gi: 2 ** 30,
  gib: 2 ** 30,
  ti: 2 ** 40,
  tib: 2 ** 40,
  pi: 2 ** 50,
  pib: 2 ** 50,
  ei: 2 ** 60,
  eib: 2 ** 60,
};

/** go-humanize's ParseBytes: "42", "1.5KB", "10 MiB" (units case-insensitive). */
export function parseBytes(text: string): number | undefined {
  const m = /^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*([a-zA-Z]*)\s*$/.exec(text);
  if (!m) return undefined;
  const unit = BYTE_UNITS[m[2]!.toLowerCase()];
  if (unit === undefined) return undefined;
  return Number(m[1]) * unit;
}

export function compileLabelFilter(expr: LabelFilterExpr): EntryTest {
  switch (expr.type) {
    case 'and': {
      const l = compileLabelFilter(expr.left);
      const r = compileLabelFilter(expr.right);
      return (e) => l(e) && r(e);
    }
    case 'or': {
      const l = compileLabelFilter(expr.left);
      const r = compileLabelFilter(expr.right);
      return (e) => l(e) || r(e);
    }
    case 'string': {
      const test = compileLabelMatcher(expr.matcher);
      const name = expr.matcher.name;
      return (e) => test(e.labels[name] ?? '');
    }
    case 'ip': {
      const ip = compileIpMatcher(expr.pattern);
      return (e) => {
        const v = e.labels[expr.name];
        if (v === undefined) return false;
        return ip.test(v.trim()) !== expr.negate;
      };
    }
    case 'number':
    case 'duration':
    case 'bytes': {
      const convert = CONVERTERS[expr.type];
      return (e) => {
        if (e.hasError()) return true;
        const text = e.labels[expr.name];
        if (text === undefined) return false;
        const value = convert(text);
        if (value === undefined) {
          e.setError('LabelFilterErr', `cannot convert ${JSON.stringify(text)} of label ${expr.name} to a ${expr.type}`);
          return true;
        }
        return compare(expr.op, value, expr.value);
      };
    }
  }
}

// ---------------------------------------------------------------- formatters

function labelFormatStage(ops: { dst: string; src?: string; template?: string }[]): StageFn {
  const seen = new Set<string>();
  const compiled = ops.map((op) => {
    checkLabelName(op.dst, 'label_format');
    if (seen.has(op.dst)) throw badData(`multiple label name '${op.dst}' not allowed in a single format operation`);
    seen.add(op.dst);
    return { dst: op.dst, src: op.src, template: op.template === undefined ? undefined : parseTemplate(op.template) };
  });
  return (entry) => {
    // Every operation reads the labels as they were before this stage.
    const before = { ...entry.labels };
    const results: [string, string | undefined, string | undefined][] = [];
    for (const op of compiled) {
      if (op.template) {
        try {
          results.push([op.dst, op.template.render({ labels: before, line: entry.line, timestampNs: entry.timestampNs }), undefined]);
        } catch (error) {
          if (!(error instanceof TemplateError)) throw error;
          entry.setError('TemplateFormatErr', error.message);
        }
      } else {
        results.push([op.dst, before[op.src!] ?? '', op.src]);
      }
    }
    for (const [dst, value, renamedFrom] of results) {
      if (renamedFrom !== undefined && renamedFrom !== dst) delete entry.labels[renamedFrom];
      entry.labels[dst] = value!;
    }
    return true;
  };
}

function dropKeepStage(names: string[], matchers: LabelMatcher[], keep: boolean): StageFn {
  const nameSet = new Set(names);
  const tests = matchers.map((m) => ({ name: m.name, test: compileLabelMatcher(m) }));
  const selected = (name: string, value: string): boolean => nameSet.has(name) || tests.some((t) => t.name === name && t.test(value));
  return (entry) => {
    for (const [name, value] of Object.entries(entry.labels)) {
      if (keep) {
        if (!selected(name, value) && name !== ERROR_LABEL && name !== ERROR_DETAILS_LABEL) delete entry.labels[name];
      } else if (selected(name, value)) {
        delete entry.labels[name];
      }
    }
    return true;
  };
}

// ANSI escape sequences: CSI (ESC [ … final), OSC (ESC ] … BEL/ST) and two-character escapes.
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]|\x9b[0-?]*[ -/]*[@-~]/g;

export function decolorize(line: string): string {
  return line.includes('\x1b') || line.includes('\x9b') ? line.replace(ANSI, '') : line;
}
