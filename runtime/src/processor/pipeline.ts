/**
 * The processor pipeline: the ordered, typed stage list of a Pipeline resource
 * (`processors: [{parse: {...}}, {redact: {...}}, {drop: {...}}]`), decoded with every error
 * collected and named by path, and compiled into a runner for batches of log entries.
 *
 * Metric samples are not processed: every stage is about log lines, so the processor
 * forwards samples to the sinks unchanged and this module has no sample API.
 */
import * as t from 'io-ts';
import { decode } from '../common/decode.js';
import type { LogEntry } from '../model/types.js';
import { preview } from '../common/decode.js';
import { isPlainObject, messageFailure } from '../common/codecs.js';
import type { Stage, StageType } from './stage.js';
import { createDropStage, DropConfig } from './stages/drop.js';
import { createFilterStage, FilterConfig } from './stages/filter.js';
import { createLabelsStage, LabelsConfig } from './stages/labels.js';
import { createParseStage, ParseConfig } from './stages/parse.js';
import { createRedactStage, RedactConfig } from './stages/redact.js';
import { createSampleStage, SampleConfig } from './stages/sample.js';

interface StageDefinition<C> {
  codec: t.Type<C, unknown, unknown>;
  create: (config: C) => Stage;
}

interface StageConfigs {
  parse: ParseConfig;
  redact: RedactConfig;
  filter: FilterConfig;
  drop: DropConfig;
  sample: SampleConfig;
  labels: LabelsConfig;
}

/** Every stage type with its codec and factory; listed in the order the docs present them. */
const STAGES: { [K in StageType]: StageDefinition<StageConfigs[K]> } = {
  parse: { codec: ParseConfig, create: createParseStage },
  redact: { codec: RedactConfig, create: createRedactStage },
  filter: { codec: FilterConfig, create: createFilterStage },
  drop: { codec: DropConfig, create: createDropStage },
  sample: { codec: SampleConfig, create: createSampleStage },
  labels: { codec: LabelsConfig, create: createLabelsStage },
};

export const STAGE_TYPES = Object.keys(STAGES) as StageType[];

/** One item of `processors`: an object with exactly one key, the stage type. */
export type ProcessorConfig = { [K in StageType]: { [P in K]: StageConfigs[K] } }[StageType];

const VALID = STAGE_TYPES.join(', ');

export const ProcessorConfigCodec = new t.Type<ProcessorConfig, unknown, unknown>(
  'processor',
  (u): u is ProcessorConfig => {
    if (!isPlainObject(u)) return false;
    const keys = Object.keys(u);
    return keys.length === 1 && isStageType(keys[0]!) && STAGES[keys[0]].codec.is(u[keys[0]]);
  },
  (u, c) => {
    if (!isPlainObject(u)) {
      return t.failures([messageFailure(u, c, `expected an object with one stage key (${VALID}), got ${preview(u)}`)]);
    }
    const keys = Object.keys(u);
    if (keys.length !== 1) {
      const got = keys.length === 0 ? 'none' : keys.join(', ');
      return t.failures([messageFailure(u, c, `expected exactly one stage key (one of: ${VALID}), got ${got}`)]);
    }
    const type = keys[0]!;
    if (!isStageType(type)) return t.failures([messageFailure(u, c, `unknown stage "${type}" (valid: ${VALID})`)]);
    // `- redact:` with nothing after it is YAML null: treat it as an empty config, so the
    // error is about the missing settings rather than about null.
    const value = u[type] ?? {};
    const codec: t.Decoder<unknown, unknown> = STAGES[type].codec;
    const result = codec.validate(value, t.appendContext(c, type, codec, value));
    return result._tag === 'Left' ? result : t.success({ [type]: result.right } as ProcessorConfig);
  },
  t.identity,
);

export const ProcessorsCodec = t.array(ProcessorConfigCodec, 'list of stages');

function isStageType(key: string): key is StageType {
  return Object.hasOwn(STAGES, key);
}

export interface DropCount {
  /** Index of the stage in `processors`. */
  stage: number;
  type: StageType;
  /** Low-cardinality reason, e.g. `drop_matched`, `filter_not_matched`, `sampled_out`. */
  reason: string;
  count: number;
}

export interface PipelineResult {
  entries: LogEntry[];
  /** Every dropped entry, counted per stage and reason, ordered by stage. */
  dropped: DropCount[];
}

export interface Pipeline {
  readonly stageTypes: readonly StageType[];
  /**
   * Runs every entry through the stages in order. Input entries are never modified:
   * a stage that edits entries works on a copy, so a retried batch gives the same output.
   */
  processLogs(entries: readonly LogEntry[]): PipelineResult;
}

export type BuildResult = { ok: true; pipeline: Pipeline } | { ok: false; errors: string[] };

/**
 * Decodes and compiles `processors`. All errors are collected, each prefixed with its
 * path (`processors[2].redact.patterns[0]: invalid regular expression: ...`). A missing
 * list (undefined) is an empty pipeline: processors are optional in a Pipeline.
 */
export function buildPipeline(config: unknown, root = 'processors'): BuildResult {
  const decoded = decode(ProcessorsCodec, config === undefined ? [] : config, root);
  if (!decoded.ok) return decoded;
  return { ok: true, pipeline: createPipeline(decoded.value) };
}

/** Compiles already-decoded processor configs. */
export function createPipeline(configs: readonly ProcessorConfig[]): Pipeline {
  const stages = configs.map(createStage);
  return stages.length === 0 ? emptyPipeline() : new StageRunner(stages);
}

function createStage(config: ProcessorConfig): Stage {
  const type = Object.keys(config)[0] as StageType;
  const definition = STAGES[type] as StageDefinition<unknown>;
  return definition.create((config as Record<string, unknown>)[type]);
}

/** A pipeline without stages: passes entries through. */
export function emptyPipeline(): Pipeline {
  return {
    stageTypes: [],
    processLogs: (entries) => ({ entries: entries.slice(), dropped: [] }),
  };
}

class StageRunner implements Pipeline {
  readonly stageTypes: readonly StageType[];
  /** Entries are copied just before this stage (the first that mutates), so drops by earlier filters cost no copy. */
  private readonly copyAt: number;

  constructor(private readonly stages: readonly Stage[]) {
    this.stageTypes = stages.map((s) => s.type);
    const first = stages.findIndex((s) => s.mutates);
    this.copyAt = first < 0 ? stages.length : first;
  }

  processLogs(entries: readonly LogEntry[]): PipelineResult {
    const stages = this.stages;
    const n = stages.length;
    const copyAt = this.copyAt;
    const kept: LogEntry[] = [];
    // Per stage: reason -> count. Stages have one or two reasons, so this stays tiny.
    const drops: Array<Map<string, number> | undefined> = new Array(n);
    entries: for (const input of entries) {
      let entry = input;
      for (let i = 0; i < n; i++) {
        if (i === copyAt) entry = copyEntry(entry);
        const reason = stages[i]!.apply(entry);
        if (reason !== undefined) {
          const counts = (drops[i] ??= new Map());
          counts.set(reason, (counts.get(reason) ?? 0) + 1);
          continue entries;
        }
      }
      kept.push(entry);
    }
    const dropped: DropCount[] = [];
    for (let i = 0; i < n; i++) {
      const counts = drops[i];
      if (counts === undefined) continue;
      for (const [reason, count] of counts) dropped.push({ stage: i, type: stages[i]!.type, reason, count });
    }
    return { entries: kept, dropped };
  }
}

/** A copy deep enough for stages to edit: top-level labels and fields (nested values stay shared). */
function copyEntry(entry: LogEntry): LogEntry {
  return { timestampNs: entry.timestampNs, labels: { ...entry.labels }, message: entry.message, fields: { ...entry.fields } };
}
