/**
 * `redact` stage: replaces secrets and personal data in the message and, by default, in
 * every string inside `fields` (nested objects and arrays included). Labels are left
 * alone: they are low-cardinality stream identity, not payload.
 */
import { compileRegex } from '../../common/regex.js';
import * as t from 'io-ts';
import { checkedString, closed, optional, withDefault } from '../../common/codecs.js';
import { regexProblem, setOwn } from '../codecs.js';
import { DETECTOR_NAMES, detectorRedactors, type DetectorName, type Redactor } from '../detectors.js';
import type { Stage } from '../stage.js';

export const DetectorNameCodec = t.keyof(
  Object.fromEntries(DETECTOR_NAMES.map((name) => [name, null])) as Record<DetectorName, null>,
  DETECTOR_NAMES.join(' | '),
);

/**
 * A custom pattern must compile (RE2 syntax) and must not match the empty string: an empty
 * match would insert the replacement between every character.
 */
export const RedactPattern = checkedString('regular expression', (source) => {
  const problem = regexProblem(source);
  if (problem !== undefined) return problem;
  if (compileRegex(source, { anchored: true }).test('')) return 'pattern matches the empty string';
  return undefined;
});

export const RedactConfig = closed(
  'redact config',
  {
    detectors: withDefault(t.array(DetectorNameCodec), []),
    patterns: withDefault(t.array(RedactPattern), []),
    /** Replaces every match when set; otherwise `[REDACTED:<detector>]` / `[REDACTED]`. */
    replacement: optional(t.string),
    /** Also redact string values inside `fields`. */
    fields: withDefault(t.boolean, true),
  },
  (config) =>
    config.detectors.length === 0 && config.patterns.length === 0
      ? [{ key: 'detectors', message: 'nothing to redact: set detectors and/or patterns' }]
      : [],
);
export type RedactConfig = t.TypeOf<typeof RedactConfig>;

/** Nesting deeper than this is left as is: it bounds the work per entry on hostile input. */
const MAX_DEPTH = 32;

export function createRedactStage(config: RedactConfig): Stage {
  const custom = config.replacement;
  const redactors: Redactor[] = detectorRedactors(config.detectors, (name) => custom ?? `[REDACTED:${name}]`);
  const patternReplacement = custom ?? '[REDACTED]';
  // A function replacement, not a string: `$&` or `$1` in a configured replacement is literal text.
  const replacePattern = (match: string): string => (match === '' ? '' : patternReplacement);
  for (const source of config.patterns) {
    const regex = compileRegex(source, { anchored: false });
    redactors.push((text) => regex.replaceAll(text, replacePattern));
  }

  const redactString = (text: string): string => {
    for (const redact of redactors) text = redact(text);
    return text;
  };

  /** Copy-on-write: nested objects may be shared with the caller's entry, so they are replaced, never edited. */
  const redactValue = (value: unknown, depth: number): unknown => {
    if (typeof value === 'string') return redactString(value);
    if (typeof value !== 'object' || value === null || depth >= MAX_DEPTH) return value;
    if (Array.isArray(value)) {
      let copy: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        const redacted = redactValue(item, depth + 1);
        if (redacted !== item) (copy ??= value.slice())[i] = redacted;
      }
      return copy ?? value;
    }
    if (!isPlainRecord(value)) return value;
    let copy: Record<string, unknown> | undefined;
    for (const key of Object.keys(value)) {
      const item = value[key];
      const redacted = redactValue(item, depth + 1);
      if (redacted !== item) setOwn((copy ??= { ...value }), key, redacted);
    }
    return copy ?? value;
  };

  const redactFields = config.fields;
  return {
    type: 'redact',
    mutates: true,
    apply(entry) {
      entry.message = redactString(entry.message);
      if (redactFields) {
        const fields = entry.fields;
        for (const key of Object.keys(fields)) {
          const value = fields[key];
          const redacted = redactValue(value, 1);
          if (redacted !== value) setOwn(fields, key, redacted);
        }
      }
      return undefined;
    },
  };
}

/** Plain objects only: class instances (Date, Buffer, Map) are not walked or copied. */
function isPlainRecord(value: object): value is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
