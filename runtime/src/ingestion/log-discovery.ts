/**
 * What Loki 3 adds to every pushed log entry by default, so that Grafana's Logs Drilldown
 * finds services and levels (its limits `discover_service_name`, `discover_log_levels` and
 * `log_level_fields`, written from Loki's documentation):
 *
 * - `service_name`, a stream label: kept when the stream has one, else the value of the
 *   first label of `discoverServiceName` the stream has, else `unknown_service`. An empty
 *   list turns this off.
 * - `detected_level`, structured metadata (a field, never a label, so it adds no streams):
 *   kept when the entry has one; else from the first of `logLevelFields` among the labels
 *   and fields; else from the line (a JSON object's level key, searched two levels deep,
 *   or a logfmt `level=`); else the first level word in the line (`error`, `WARN`, …);
 *   else `unknown`. Values are normalised to trace, debug, info, warn, error, critical,
 *   fatal; a level field whose value is none of these is passed over.
 *
 * Every receiver of logs runs its validated entries through one LogDiscovery, after the
 * checks: the derived label copies a value that was already checked. The result depends on
 * the entry alone, so a retried request derives the same labels and deduplicates.
 */
import * as t from 'io-ts';
import { checkedString, closed, NonEmptyString, withDefault } from '../common/codecs.js';
import { LABEL_NAME } from '../model/labels.js';
import type { Normalised } from '../model/records.js';
import type { Fields, Labels, LogEntry } from '../model/types.js';

export interface LogDiscoveryConfig {
  /** Labels `service_name` is taken from, the first present wins; [] turns it off (Loki: discover_service_name). */
  discoverServiceName: readonly string[];
  /** Whether `detected_level` is added (Loki: discover_log_levels). */
  discoverLogLevels: boolean;
  /** Label and field names that hold a level, in order of preference (Loki: log_level_fields). */
  logLevelFields: readonly string[];
}

/** Loki 3's defaults (limits_config in its configuration reference). */
export const DEFAULT_LOG_DISCOVERY: LogDiscoveryConfig = {
  discoverServiceName: [
    'service',
    'app',
    'application',
    'app_name',
    'name',
    'app_kubernetes_io_name',
    'container',
    'container_name',
    'k8s_container_name',
    'component',
    'workload',
    'job',
    'k8s_job_name',
  ],
  discoverLogLevels: true,
  logLevelFields: [
    'level',
    'LEVEL',
    'Level',
    'log.level',
    'severity',
    'SEVERITY',
    'Severity',
    'SeverityText',
    'lvl',
    'LVL',
    'Lvl',
    'severity_text',
    'Severity_Text',
    'SEVERITY_TEXT',
  ],
};

const LabelName = checkedString('label name', (s) =>
  LABEL_NAME.test(s) ? undefined : `must be a label name matching ${LABEL_NAME.source}`,
);

/**
 * The `logDiscovery` section of `sextant up`'s file and of the runtime configuration (read
 * by ingestion, and by the query runtime for /loki/api/v1/drilldown-limits); each key
 * defaults to Loki's.
 */
export const LogDiscoveryCodec = closed('logDiscovery', {
  discoverServiceName: withDefault(t.array(LabelName), [...DEFAULT_LOG_DISCOVERY.discoverServiceName]),
  discoverLogLevels: withDefault(t.boolean, DEFAULT_LOG_DISCOVERY.discoverLogLevels),
  logLevelFields: withDefault(t.array(NonEmptyString), [...DEFAULT_LOG_DISCOVERY.logLevelFields]),
});

export const SERVICE_NAME = 'service_name';
export const UNKNOWN_SERVICE = 'unknown_service';
export const DETECTED_LEVEL = 'detected_level';
export const UNKNOWN_LEVEL = 'unknown';

/** Level spellings seen in the wild, lower-case, to the value Loki stores. */
const LEVEL_ALIASES: ReadonlyMap<string, string> = new Map(
  Object.entries({
    trace: ['trace', 'trc'],
    debug: ['debug', 'dbg', 'dbug'],
    info: ['info', 'inf', 'information', 'informational', 'notice'],
    warn: ['warn', 'warning', 'wrn'],
    error: ['error', 'err', 'eror'],
    critical: ['critical', 'crit', 'emerg', 'emergency', 'alert'],
    fatal: ['fatal', 'panic'],
  }).flatMap(([level, spellings]) => spellings.map((s) => [s, level] as const)),
);

/**
 * Words that give a level when nothing names one, matched whole and in any case; the
 * leftmost wins (a line's level usually comes before its text). Abbreviations are left
 * out here: `err=` or `inf` in free text say little.
 */
const LEVEL_WORD = /\b(trace|debug|info|warn|warning|error|critical|fatal)\b/i;

/** `trace`, `debug`, … for a level as written (`WARNING`, ` Err `), or undefined. */
export function normaliseLevel(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  return LEVEL_ALIASES.get(value.trim().toLowerCase());
}

export class LogDiscovery {
  private readonly serviceLabels: readonly string[];
  private readonly levelFields: readonly string[];
  private readonly logfmtKey: RegExp | undefined;

  constructor(readonly config: LogDiscoveryConfig = DEFAULT_LOG_DISCOVERY) {
    this.serviceLabels = config.discoverServiceName;
    this.levelFields = config.discoverLogLevels ? config.logLevelFields : [];
    // `key=value` or `key="quoted value"`, the key at the start or after a separator.
    const keys = this.levelFields.map((f) => f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    this.logfmtKey = keys.length ? new RegExp(`(?:^|[\\s,;])(${keys.join('|')})=("(?:[^"\\\\]|\\\\.)*"|[^\\s"]*)`, 'g') : undefined;
  }

  /** Every entry of a valid result with its service_name and detected_level; a failed result as it is. */
  applyAll(result: Normalised<LogEntry>): Normalised<LogEntry> {
    if (!result.ok) return result;
    // The entries of one stream share their label object: derive its labels once.
    const derived = new Map<Labels, Labels>();
    const labelsOf = (labels: Labels): Labels => {
      let out = derived.get(labels);
      if (!out) derived.set(labels, (out = this.withServiceName(labels)));
      return out;
    };
    return { ok: true, records: result.records.map((entry) => this.apply(entry, labelsOf)) };
  }

  /** The entry with `service_name` and `detected_level` where they are switched on and missing. */
  apply(entry: LogEntry, labelsOf: (labels: Labels) => Labels = (l) => this.withServiceName(l)): LogEntry {
    const labels = labelsOf(entry.labels);
    const fields = this.withLevel(entry);
    return labels === entry.labels && fields === entry.fields ? entry : { ...entry, labels, fields };
  }

  /** The labels with service_name added (a new object), or the same object when nothing is added. */
  withServiceName(labels: Labels): Labels {
    if (this.serviceLabels.length === 0 || labels[SERVICE_NAME]) return labels;
    return { ...labels, [SERVICE_NAME]: this.serviceNameOf(labels) };
  }

  /** What service_name the labels give: the first present of the list, else unknown_service. */
  serviceNameOf(labels: Labels): string {
    if (labels[SERVICE_NAME]) return labels[SERVICE_NAME];
    // Own keys only: a label list may name `constructor`, which every object inherits.
    for (const name of this.serviceLabels) if (Object.hasOwn(labels, name) && labels[name]) return labels[name];
    return UNKNOWN_SERVICE;
  }

  private withLevel(entry: LogEntry): Fields {
    if (!this.config.discoverLogLevels) return entry.fields;
    if (entry.fields[DETECTED_LEVEL] !== undefined || entry.labels[DETECTED_LEVEL] !== undefined) return entry.fields;
    return { ...entry.fields, [DETECTED_LEVEL]: this.levelOf(entry) };
  }

  /** The level of an entry that names none yet: from its labels and fields, its line, or `unknown`. */
  levelOf(entry: Pick<LogEntry, 'labels' | 'fields' | 'message'>): string {
    return this.levelFromAttributes(entry.labels, entry.fields) ?? this.levelFromLine(entry.message) ?? UNKNOWN_LEVEL;
  }

  private levelFromAttributes(labels: Labels, fields: Fields): string | undefined {
    for (const name of this.levelFields) {
      const level = normaliseLevel(labels[name]) ?? normaliseLevel(fields[name]);
      if (level) return level;
    }
    return undefined;
  }

  /** From a structured line's level key, else from the first level word. */
  levelFromLine(line: string): string | undefined {
    const structured = looksLikeJsonObject(line) ? this.levelFromJson(line) : this.levelFromLogfmt(line);
    if (structured) return structured;
    const word = LEVEL_WORD.exec(line);
    return word ? LEVEL_ALIASES.get(word[1]!.toLowerCase()) : undefined;
  }

  private levelFromJson(line: string): string | undefined {
    let doc: unknown;
    try {
      doc = JSON.parse(line);
    } catch {
      return undefined;
    }
    if (!isObject(doc)) return undefined;
    // Two levels deep, Loki's log_level_from_json_max_depth default: the top level (also
    // `log.level` as a path), then the objects directly under it.
    const top = this.levelIn(doc, true);
    if (top) return top;
    for (const value of Object.values(doc)) {
      const nested = isObject(value) ? this.levelIn(value, false) : undefined;
      if (nested) return nested;
    }
    return undefined;
  }

  /** The first of the level fields the object has with a level value, as a key (or, with `paths`, a dotted path). */
  private levelIn(object: Record<string, unknown>, paths: boolean): string | undefined {
    for (const name of this.levelFields) {
      const level = normaliseLevel(object[name]) ?? (paths && name.includes('.') ? normaliseLevel(valueAt(object, name)) : undefined);
      if (level) return level;
    }
    return undefined;
  }

  private levelFromLogfmt(line: string): string | undefined {
    if (!this.logfmtKey || !line.includes('=')) return undefined;
    const found = new Map<string, string>();
    for (const match of line.matchAll(this.logfmtKey)) {
      const raw = match[2]!;
      let value = raw;
      if (raw.startsWith('"')) {
        try {
          value = JSON.parse(raw) as string;
        } catch {
          value = raw.slice(1, -1);
        }
      }
      if (!found.has(match[1]!)) found.set(match[1]!, value);
    }
    for (const name of this.levelFields) {
      const level = normaliseLevel(found.get(name));
      if (level) return level;
    }
    return undefined;
  }
}

function looksLikeJsonObject(line: string): boolean {
  const text = line.trim();
  return text.startsWith('{') && text.endsWith('}');
}

function valueAt(object: Record<string, unknown>, path: string): unknown {
  let value: unknown = object;
  for (const key of path.split('.')) value = isObject(value) ? value[key] : undefined;
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
