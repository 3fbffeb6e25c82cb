/**
 * `labels` stage: edits stream labels and fields. Operations run in a fixed order, whatever
 * order the YAML lists them in — moves first (promote, demote), then renames
 * (renameFields, rename), then removals (dropFields, drop), then `set` — so `set` always
 * wins. Chain several `labels` stages when another order is needed.
 *
 * New label names (set, rename targets, promote) must follow Prometheus rules and may not
 * start with `__`; this is checked when the config is decoded, not per entry.
 */
import * as t from 'io-ts';
import type { LogEntry } from '../../model/types.js';
import { checkedString, closed, NonEmptyString, optional, withDefault } from '../../common/codecs.js';
import { LabelName, labelNameProblem, recordOf, setOwn, stringOr } from '../codecs.js';
import type { Stage } from '../stage.js';

const PromoteObject = closed('promote item', { field: NonEmptyString, as: optional(LabelName) }, (item) => {
  if (item.as !== undefined) return [];
  const problem = labelNameProblem(item.field);
  return problem === undefined ? [] : [{ key: 'field', message: `${problem}; set "as" to a valid label name` }];
});

/** `promote: [level]` is short for `promote: [{field: level}]`. */
const PromoteItem = stringOr(
  'field name or {field, as}',
  checkedString('field name', (s) => {
    const problem = labelNameProblem(s);
    return problem === undefined ? undefined : `${problem}; use {field: ${JSON.stringify(s)}, as: <label name>}`;
  }),
  PromoteObject,
  (field) => ({ field, as: undefined }),
);

/** `demote: [pod]` is short for `demote: [{label: pod}]`. */
const DemoteItem = stringOr(
  'label name or {label, as}',
  NonEmptyString,
  closed('demote item', { label: NonEmptyString, as: optional(NonEmptyString) }),
  (label) => ({ label, as: undefined }),
);

export const LabelsConfig = closed(
  'labels config',
  {
    set: withDefault(recordOf('label values by name', LabelName, t.string), {}),
    rename: withDefault(recordOf('new label names by old name', NonEmptyString, LabelName), {}),
    drop: withDefault(t.array(NonEmptyString), []),
    promote: withDefault(t.array(PromoteItem), []),
    demote: withDefault(t.array(DemoteItem), []),
    dropFields: withDefault(t.array(NonEmptyString), []),
    renameFields: withDefault(recordOf('new field names by old name', NonEmptyString, NonEmptyString), {}),
  },
  (config) =>
    Object.keys(config.set).length +
      Object.keys(config.rename).length +
      config.drop.length +
      config.promote.length +
      config.demote.length +
      config.dropFields.length +
      Object.keys(config.renameFields).length ===
    0
      ? [{ message: 'needs at least one of: set, rename, drop, promote, demote, dropFields, renameFields' }]
      : [],
);
export type LabelsConfig = t.TypeOf<typeof LabelsConfig>;

type Operation = (entry: LogEntry) => void;

export function createLabelsStage(config: LabelsConfig): Stage {
  const ops: Operation[] = [];

  for (const { field, as } of config.promote) {
    const label = as ?? field;
    ops.push((entry) => {
      if (!Object.hasOwn(entry.fields, field)) return;
      const text = labelValue(entry.fields[field]);
      if (text === undefined) return;
      setOwn(entry.labels, label, text);
      delete entry.fields[field];
    });
  }
  for (const { label, as } of config.demote) {
    const field = as ?? label;
    ops.push((entry) => {
      if (!Object.hasOwn(entry.labels, label)) return;
      setOwn(entry.fields, field, entry.labels[label]);
      delete entry.labels[label];
    });
  }
  for (const [from, to] of Object.entries(config.renameFields)) ops.push((entry) => move(entry.fields, from, to));
  for (const [from, to] of Object.entries(config.rename)) ops.push((entry) => move(entry.labels, from, to));
  for (const field of config.dropFields) ops.push((entry) => void delete entry.fields[field]);
  for (const label of config.drop) ops.push((entry) => void delete entry.labels[label]);
  const set = Object.entries(config.set);
  if (set.length > 0) {
    ops.push((entry) => {
      for (const [name, value] of set) entry.labels[name] = value;
    });
  }

  return {
    type: 'labels',
    mutates: true,
    apply(entry) {
      for (const op of ops) op(entry);
      return undefined;
    },
  };
}

function move(record: Record<string, unknown>, from: string, to: string): void {
  if (from === to || !Object.hasOwn(record, from)) return;
  setOwn(record, to, record[from]);
  delete record[from];
}

/**
 * A field value as label text. null/undefined mean "no label" (Prometheus treats an empty
 * label as absent); objects are JSON, which is rarely a good label but never loses data.
 */
function labelValue(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'object') {
    try {
      return JSON.stringify(value);
    } catch {
      return undefined; // a BigInt or a cycle inside: not representable, leave the field
    }
  }
  return String(value);
}
