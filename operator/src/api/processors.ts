/**
 * `spec.processors`: the runtime owns the stage codecs (runtime/src/processor/stages), so the
 * codec here IS the runtime's (buildPipeline decodes the same list); this module only writes
 * the OpenAPI schema the API server checks, with the descriptions `kubectl explain` prints.
 * processors.test.ts proves the schema lists exactly the stages and fields the runtime's
 * codecs know, so a new stage field cannot be forgotten here.
 *
 * Conditions nest (all/any/not), but a structural schema cannot be recursive: two levels are
 * described and checked by the API server; deeper levels are kept as-is and checked by the
 * operator's codec (a bad one there turns the Pipeline InvalidSpec, never reaches a runtime).
 */
import * as t from 'io-ts';
import { DETECTOR_NAMES } from '../../../runtime/src/processor/index.js';
import { buildPipeline, type ProcessorConfig } from '../../../runtime/src/processor/index.js';
import { LABEL_NAME as LABEL_NAME_PATTERN } from '../../../runtime/src/model/index.js';
import type { CelRule, Node, OpenApiSchema } from './schema.js';

export const MAX_PROCESSORS = 64;
/** Joins a nested decoder's own paths to the outer path: `spec.processors: \u0000[2].parse…` → `spec.processors[2].parse…`. */
export const SPLICE = '\u0000';
const MAX_CONDITION_ITEMS = 16;
const MAX_LIST = 64;
const MAX_STRING = 1024;
const LABEL_NAME = LABEL_NAME_PATTERN.source;

const exactlyOne = (keys: string[], what: string): CelRule => ({
  rule: `[${keys.map((k) => `has(self.${celField(k)})`).join(', ')}].filter(x, x).size() == 1`,
  message: `${what} needs exactly one of: ${keys.join(', ')}`,
});

const str = (description: string, extra: OpenApiSchema = {}): OpenApiSchema => ({
  type: 'string',
  description,
  maxLength: MAX_STRING,
  ...extra,
});
/**
 * A value compared as text. The runtime's codec takes any JSON scalar, but a structural
 * schema cannot say "string, number or boolean" and CEL cannot see untyped nodes, so the CRD
 * takes a string or an integer: write booleans and decimals quoted ("true", "1.5") — they are
 * compared as text anyway, so the meaning is the same.
 */
const scalar = (description: string): OpenApiSchema => ({
  description: `${description} A string or an integer; quote booleans and decimals ("true", "1.5"): values are compared as text.`,
  'x-kubernetes-int-or-string': true,
});

/** `in` is a CEL keyword: Kubernetes exposes such properties to CEL as __in__. */
const celField = (k: string) => (k === 'in' ? '__in__' : k);

function conditionSchema(description: string, depth: number): OpenApiSchema {
  if (depth === 0) {
    return {
      type: 'object',
      description: `${description} Nested this deep, the condition is checked by the operator (status reason InvalidSpec), not by the API server.`,
      'x-kubernetes-preserve-unknown-fields': true,
    };
  }
  const nested = (d: string) => conditionSchema(d, depth - 1);
  return {
    type: 'object',
    description: `${description} Exactly one of label, field, message, all, any, not.`,
    properties: {
      // A pattern, not a CEL rule: conditions nest in lists of lists, where a CEL rule per string exceeds the API server's cost budget.
      label: str(
        'Stream label the condition tests: a label name (a-z, A-Z, 0-9 and _, not starting with a digit; no stream has another). With exactly one of equals, matches, in, exists.',
        { minLength: 1, pattern: LABEL_NAME },
      ),
      field: str('Top-level field the condition tests (values compared as text); with exactly one of equals, matches, in, exists.', {
        minLength: 1,
      }),
      equals: scalar('With label or field: the value must equal this (fields are compared as text, so 500 matches "500").'),
      matches: str('With label or field: JavaScript regular expression the value must match (unanchored: add ^ and $).'),
      in: {
        type: 'array',
        description: 'With label or field: the value must equal one of these.',
        minItems: 1,
        maxItems: MAX_LIST,
        items: scalar('A value to compare with.'),
      },
      exists: { type: 'boolean', description: 'With label or field: true if the label/field must be present, false if absent.' },
      message: {
        type: 'object',
        description: 'Tests the log line: exactly one of contains, matches.',
        properties: {
          contains: str('The message must contain this text.', { minLength: 1 }),
          matches: str('JavaScript regular expression the message must match (unanchored).'),
        },
        'x-kubernetes-validations': [exactlyOne(['contains', 'matches'], 'a message condition')],
      },
      all: {
        type: 'array',
        description: 'True when every condition is true.',
        minItems: 1,
        maxItems: MAX_CONDITION_ITEMS,
        items: nested('A condition.'),
      },
      any: {
        type: 'array',
        description: 'True when at least one condition is true.',
        minItems: 1,
        maxItems: MAX_CONDITION_ITEMS,
        items: nested('A condition.'),
      },
      not: nested('True when this condition is false.'),
    },
    'x-kubernetes-validations': [
      exactlyOne(['label', 'field', 'message', 'all', 'any', 'not'], 'a condition'),
      {
        rule: '!(has(self.label) || has(self.field)) || [has(self.equals), has(self.matches), has(self.__in__), has(self.exists)].filter(x, x).size() == 1',
        message: 'a label or field condition needs exactly one of: equals, matches, in, exists',
      },
      {
        rule: '!has(self.label) || ((!has(self.equals) || type(self.equals) == string) && (!has(self.__in__) || self.__in__.all(v, type(v) == string)))',
        message: 'a label condition compares with strings: quote numbers',
      },
      {
        rule: '(has(self.label) || has(self.field)) || !(has(self.equals) || has(self.matches) || has(self.__in__) || has(self.exists))',
        message: 'equals, matches, in and exists need label or field',
      },
    ],
  };
}

const when = conditionSchema('Which entries the stage applies to.', 3);

/** Field names of each stage config, in the order the runtime's codec lists them (checked by processors.test.ts). */
export const STAGE_SCHEMAS: Record<string, OpenApiSchema> = {
  parse: {
    type: 'object',
    description:
      'Parses a structured line (json, logfmt, regex with named groups, cri or docker container log) into fields or labels. A line that does not parse is kept and tagged with the fields __error__ and __error_details__.',
    required: ['format'],
    properties: {
      format: { type: 'string', description: 'Line format.', enum: ['json', 'logfmt', 'regex', 'cri', 'docker'] },
      source: str('Field holding the text to parse; the message when unset.', { minLength: 1 }),
      target: {
        type: 'string',
        description: 'Where extracted values go; labels keeps only scalar values, as text. Default: fields.',
        enum: ['fields', 'labels'],
        default: 'fields',
      },
      messageField: str('Parsed key whose value becomes the message, e.g. msg (json, logfmt and regex only).', { minLength: 1 }),
      pattern: str('JavaScript regular expression with named groups, e.g. (?<status>\\d+) (format regex only).'),
    },
    'x-kubernetes-validations': [
      { rule: "self.format != 'regex' || has(self.pattern)", message: 'pattern is required when format is regex', fieldPath: '.pattern' },
      {
        rule: "self.format == 'regex' || !has(self.pattern)",
        message: 'pattern is only valid when format is regex',
        fieldPath: '.pattern',
      },
      {
        rule: "!has(self.messageField) || self.format in ['json', 'logfmt', 'regex']",
        message: 'messageField is only valid with format json, logfmt or regex',
        fieldPath: '.messageField',
      },
    ],
  },
  redact: {
    type: 'object',
    description: 'Replaces secrets and personal data in the message and (by default) in every string inside fields. Labels are left alone.',
    properties: {
      detectors: {
        type: 'array',
        description: 'Built-in detectors to apply.',
        maxItems: DETECTOR_NAMES.length,
        'x-kubernetes-list-type': 'set',
        items: { type: 'string', description: 'A detector.', enum: [...DETECTOR_NAMES] },
      },
      patterns: {
        type: 'array',
        description: 'JavaScript regular expressions whose matches are replaced; must not match the empty string.',
        maxItems: MAX_LIST,
        items: str('A regular expression.', { minLength: 1 }),
      },
      replacement: str('Replaces every match when set; otherwise [REDACTED:<detector>] or [REDACTED].'),
      fields: { type: 'boolean', description: 'Also redact string values inside fields. Default: true.', default: true },
    },
    'x-kubernetes-validations': [
      {
        rule: '(has(self.detectors) ? size(self.detectors) : 0) + (has(self.patterns) ? size(self.patterns) : 0) > 0',
        message: 'nothing to redact: set detectors and/or patterns',
      },
    ],
  },
  filter: {
    type: 'object',
    description: 'Keeps only the entries matching when; the others are dropped (counted with reason filter_not_matched).',
    required: ['when'],
    properties: { when },
  },
  drop: {
    type: 'object',
    description: 'Drops the entries matching when (counted with reason drop_matched); the inverse of filter.',
    required: ['when'],
    properties: { when },
  },
  sample: {
    type: 'object',
    description: 'Keeps a fraction of entries, decided by a hash (not a random draw) so a replayed batch keeps the same entries.',
    required: ['rate'],
    properties: {
      rate: { type: 'number', description: 'Fraction kept, greater than 0 and at most 1.', minimum: 0, exclusiveMinimum: true, maximum: 1 },
      by: {
        type: 'string',
        description: 'entry: decide per entry; stream: keep or drop whole streams (hash of the labels). Default: entry.',
        enum: ['entry', 'stream'],
        default: 'entry',
      },
    },
  },
  labels: {
    type: 'object',
    description:
      'Edits stream labels and fields, always in this order: promote, demote, renameFields, rename, dropFields, drop, set. Chain several labels stages for another order. At least one operation.',
    properties: {
      set: {
        type: 'object',
        description: 'Labels to set, name to value.',
        maxProperties: MAX_LIST,
        additionalProperties: { type: 'string', description: 'Label value.', maxLength: MAX_STRING },
        'x-kubernetes-validations': [
          {
            rule: `self.all(k, k.matches('${LABEL_NAME}') && !k.startsWith('__'))`,
            message: `label names must match ${LABEL_NAME} and not start with __`,
          },
        ],
      },
      rename: {
        type: 'object',
        description: 'Labels to rename, old name to new name.',
        maxProperties: MAX_LIST,
        additionalProperties: str('New label name.', { pattern: LABEL_NAME }),
      },
      drop: { type: 'array', description: 'Labels to remove.', maxItems: MAX_LIST, items: str('Label name.', { minLength: 1 }) },
      promote: {
        type: 'array',
        description: 'Fields to turn into labels: a field name, or {field, as} to pick the label name.',
        maxItems: MAX_LIST,
        items: {
          description: 'A field name, or {field: <name>, as: <label name>}.',
          'x-kubernetes-preserve-unknown-fields': true,
        },
      },
      demote: {
        type: 'array',
        description: 'Labels to turn into fields: a label name, or {label, as} to pick the field name.',
        maxItems: MAX_LIST,
        items: {
          description: 'A label name, or {label: <name>, as: <field name>}.',
          'x-kubernetes-preserve-unknown-fields': true,
        },
      },
      dropFields: { type: 'array', description: 'Fields to remove.', maxItems: MAX_LIST, items: str('Field name.', { minLength: 1 }) },
      renameFields: {
        type: 'object',
        description: 'Fields to rename, old name to new name.',
        maxProperties: MAX_LIST,
        additionalProperties: str('New field name.', { minLength: 1 }),
      },
    },
    // No CEL "at least one operation": promote and demote items are untyped (a name or an object),
    // which CEL cannot see, so that rule is the codec's alone.
  },
};

const stageSchema: OpenApiSchema = {
  type: 'object',
  description: 'One stage: an object with exactly one key, the stage type (parse, redact, filter, drop, sample, labels).',
  properties: STAGE_SCHEMAS,
  'x-kubernetes-validations': [exactlyOne(Object.keys(STAGE_SCHEMAS), 'a stage')],
};

/** Decodes with the runtime's own stage codecs (the same call the processor makes at start). */
const ProcessorsCodec = new t.Type<ProcessorConfig[], unknown, unknown>(
  'list of stages',
  (u): u is ProcessorConfig[] => Array.isArray(u),
  (u, c) => {
    if (!Array.isArray(u)) return t.failure(u, c);
    if (u.length > MAX_PROCESSORS)
      return t.failures([{ value: u, context: c, message: `must have at most ${MAX_PROCESSORS} items, got ${u.length}` }]);
    // buildPipeline names paths from its root; SPLICE marks where decodeResource() joins them to ours.
    const built = buildPipeline(u, SPLICE);
    if (!built.ok) return t.failures(built.errors.map((message) => ({ value: u, context: c, message })));
    // The decoded stage configs (with defaults) are what the runtime will see; keep the input as written for rendering.
    return t.success(u as ProcessorConfig[]);
  },
  t.identity,
);

export const Processors: Node<ProcessorConfig[]> = {
  codec: ProcessorsCodec,
  schema: {
    type: 'array',
    description:
      'Ordered, typed processor stages run by the processor on every log entry (metric samples pass unchanged). Each item has exactly one key: parse, redact, filter, drop, sample or labels.',
    maxItems: MAX_PROCESSORS,
    items: stageSchema,
  },
};
