/**
 * `parse` stage: turns a structured line (JSON, logfmt, a regex with named groups, a CRI
 * or Docker json-file container log line) into fields, labels, timestamp and message.
 *
 * A line that does not parse is kept unchanged and tagged with the fields `__error__`
 * (Loki's names: JSONParserErr, LogfmtParserErr, …) and `__error_details__`, so it can
 * still be found and the failure counted; the stage never throws and never drops. When
 * several parse stages fail on one entry, the last failure is the one recorded.
 */
import { compileRegex, regexProblem } from '../../common/regex.js';
import * as t from 'io-ts';
import type { LogEntry } from '../../model/types.js';
import { closed, isPlainObject, NonEmptyString, optional, withDefault, type FieldProblem } from '../../common/codecs.js';
import { RegexSource, setOwn } from '../codecs.js';
import { parseCriLine } from '../parsers/cri.js';
import { parseDockerLine } from '../parsers/docker.js';
import { parseLogfmt } from '../parsers/logfmt.js';
import type { Stage } from '../stage.js';

export const ParseFormat = t.keyof(
  { json: null, logfmt: null, regex: null, cri: null, docker: null },
  'json | logfmt | regex | cri | docker',
);
export type ParseFormat = t.TypeOf<typeof ParseFormat>;

export const ParseTarget = t.keyof({ fields: null, labels: null }, 'fields | labels');

const FORMATS_WITH_MESSAGE_FIELD: ReadonlySet<ParseFormat> = new Set(['json', 'logfmt', 'regex']);

export const ParseConfig = closed(
  'parse config',
  {
    format: ParseFormat,
    /** Field holding the text to parse; the message when absent. */
    source: optional(NonEmptyString),
    /** Where extracted values go. `labels` keeps only scalar values, stringified. */
    target: withDefault(ParseTarget, 'fields'),
    /** Parsed key whose value becomes the message (json, logfmt, regex), e.g. `msg`. */
    messageField: optional(NonEmptyString),
    /** Regex with named groups (format regex only). */
    pattern: optional(RegexSource),
  },
  (config) => {
    const problems: FieldProblem[] = [];
    if (config.format === 'regex') {
      if (config.pattern === undefined) problems.push({ key: 'pattern', message: 'is required when format is regex' });
      else if (namedGroups(config.pattern).length === 0) {
        problems.push({ key: 'pattern', message: 'must contain at least one named group, e.g. (?<status>\\d+)' });
      }
    } else if (config.pattern !== undefined) {
      problems.push({ key: 'pattern', message: `is only valid when format is regex, not ${config.format}` });
    }
    if (config.messageField !== undefined && !FORMATS_WITH_MESSAGE_FIELD.has(config.format)) {
      problems.push({ key: 'messageField', message: `is not valid with format ${config.format}: it sets the message itself` });
    }
    return problems;
  },
);
export type ParseConfig = t.TypeOf<typeof ParseConfig>;

/** Loki's `__error__` values, one per format. */
export const PARSE_ERRORS: Readonly<Record<ParseFormat, string>> = {
  json: 'JSONParserErr',
  logfmt: 'LogfmtParserErr',
  regex: 'RegexpParserErr',
  cri: 'CRIParserErr',
  docker: 'DockerParserErr',
};

/** Names of the named groups of a regex (none when it does not compile: the codec reports that). */
function namedGroups(pattern: string): readonly string[] {
  return regexProblem(pattern) === undefined ? compileRegex(pattern, { anchored: false }).groupNames : [];
}

/** Writes extracted values to fields or, for `target: labels`, to labels. */
type Sink = (entry: LogEntry, key: string, value: unknown) => void;

const toFields: Sink = (entry, key, value) => setOwn(entry.fields, key, value);

/**
 * Labels hold strings with Prometheus names: invalid characters become `_` (as Loki's
 * json/logfmt parsers do) and non-scalar values are skipped — a nested object or array is
 * no stream label, and keeping it would explode cardinality.
 */
const toLabels: Sink = (entry, key, value) => {
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'number' || typeof value === 'boolean') text = String(value);
  else return;
  setOwn(entry.labels, sanitizeLabelName(key), text);
};

export function sanitizeLabelName(key: string): string {
  const name = key.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(name) || name === '' ? `_${name}` : name;
}

function messageText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}

type Extract = (entry: LogEntry, input: string) => string | undefined;

export function createParseStage(config: ParseConfig): Stage {
  const sink = config.target === 'labels' ? toLabels : toFields;
  const extract = extractor(config, sink);
  const errorName = PARSE_ERRORS[config.format];
  const source = config.source;
  const missingSource = source === undefined ? '' : `source field ${JSON.stringify(source)} is missing`;
  const notString = source === undefined ? '' : `source field ${JSON.stringify(source)} is not a string`;
  return {
    type: 'parse',
    mutates: true,
    apply(entry) {
      let input: unknown = entry.message;
      if (source !== undefined) {
        input = entry.fields[source];
        if (typeof input !== 'string') {
          markError(entry, errorName, input === undefined ? missingSource : notString);
          return undefined;
        }
      }
      const error = extract(entry, input as string);
      if (error !== undefined) markError(entry, errorName, error);
      return undefined;
    },
  };
}

function markError(entry: LogEntry, name: string, details: string): void {
  entry.fields['__error__'] = name;
  entry.fields['__error_details__'] = details;
}

/** Builds the per-format function; each validates completely before it writes, so a failure leaves the entry unchanged. */
function extractor(config: ParseConfig, sink: Sink): Extract {
  const messageField = config.messageField;
  switch (config.format) {
    case 'json':
      return (entry, input) => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(input);
        } catch (error) {
          return (error as Error).message;
        }
        if (!isPlainObject(parsed))
          return `expected a JSON object, got ${parsed === null ? 'null' : Array.isArray(parsed) ? 'an array' : typeof parsed}`;
        assign(entry, parsed, messageField, sink);
        return undefined;
      };
    case 'logfmt':
      return (entry, input) => {
        const result = parseLogfmt(input);
        if (!result.ok) return result.error;
        assign(entry, result.pairs, messageField, sink);
        return undefined;
      };
    case 'regex': {
      // Validated by the codec: the pattern compiles (RE2) and has named groups.
      const regex = compileRegex(config.pattern ?? '', { anchored: false });
      const names = regex.groupNames;
      return (entry, input) => {
        const groups = regex.groups(input);
        if (groups === undefined) return 'line does not match the pattern';
        for (const name of names) {
          const value = groups[name];
          if (value === undefined) continue; // an optional group that did not participate
          if (name === messageField) entry.message = value;
          else sink(entry, name, value);
        }
        return undefined;
      };
    }
    case 'cri':
      return (entry, input) => {
        const line = parseCriLine(input);
        if (!line.ok) return line.error;
        entry.timestampNs = line.timestampNs;
        entry.message = line.message;
        sink(entry, 'stream', line.stream);
        if (line.partial) entry.fields['_partial'] = true;
        return undefined;
      };
    case 'docker':
      return (entry, input) => {
        const line = parseDockerLine(input);
        if (!line.ok) return line.error;
        entry.timestampNs = line.timestampNs;
        entry.message = line.message;
        sink(entry, 'stream', line.stream);
        return undefined;
      };
  }
}

function assign(entry: LogEntry, values: Record<string, unknown>, messageField: string | undefined, sink: Sink): void {
  for (const key of Object.keys(values)) {
    const value = values[key];
    if (key !== messageField) sink(entry, key, value);
    else if (value !== null) entry.message = messageText(value); // `"msg": null` leaves the message alone
  }
}
