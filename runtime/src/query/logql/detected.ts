/**
 * Field detection for Grafana Logs Drilldown's `detected_fields` and
 * `detected_field/<name>/values`: each sampled line is parsed as JSON (when it looks like an
 * object) or logfmt, and each entry's structured metadata (its `fields`) is added with
 * `parsers: null`. A field's type is the one every sampled value has (int, float, boolean,
 * duration, bytes), else string.
 */
import type { Fields } from '../../model/types.js';
import type { LogReader } from '../../storage/reader.js';
import type { LogQuery } from './ast.js';
import { scanLogEntries, type MetricQueryLimits } from './evaluate.js';
import { logfmtPairs, ParseFailure, sanitizeLabelName, scanJson, type JsonNode } from './parsers.js';
import { parseBytes, parseDurationSeconds } from './pipeline.js';

export type FieldType = 'string' | 'int' | 'float' | 'boolean' | 'duration' | 'bytes';

export interface DetectedField {
  label: string;
  type: FieldType;
  cardinality: number;
  parsers: string[] | null;
  jsonPath?: string[];
}

interface Acc {
  values: Set<string>;
  types: Set<FieldType>;
  parsers: Set<string>;
  metadata: boolean;
  jsonPath?: string[];
}

/** The type of one value, checked in Loki's order: boolean, int, float, duration, bytes. */
export function valueType(v: string): FieldType {
  if (v === 'true' || v === 'false') return 'boolean';
  if (/^[+-]?\d+$/.test(v)) return 'int';
  if (/^[+-]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?$/.test(v)) return 'float';
  if (/[a-zµ]$/i.test(v) && /^[+-]?[\d.]/.test(v)) {
    if (parseDurationSeconds(v) !== undefined) return 'duration';
    if (/[bB]$/.test(v) && parseBytes(v) !== undefined) return 'bytes';
  }
  return 'string';
}

/** Parsed (name, value, parser, jsonPath) of one line. */
export function lineFields(line: string): { name: string; value: string; parser: string; jsonPath?: string[] }[] {
  const out: { name: string; value: string; parser: string; jsonPath?: string[] }[] = [];
  if (line.trimStart().startsWith('{')) {
    let root: JsonNode;
    try {
      root = scanJson(line);
    } catch (error) {
      if (error instanceof ParseFailure) return out;
      throw error;
    }
    const walk = (node: JsonNode, path: string[]): void => {
      if (node.kind !== 'object') return;
      for (const [key, child] of node.entries) {
        const p = [...path, key];
        if (child.kind === 'object') walk(child, p);
        else if (child.kind === 'string')
          out.push({ name: p.map(sanitizeLabelName).join('_'), value: child.value, parser: 'json', jsonPath: p });
        else if (child.kind === 'scalar' && child.text !== 'null')
          out.push({ name: p.map(sanitizeLabelName).join('_'), value: child.text, parser: 'json', jsonPath: p });
      }
    };
    walk(root, []);
    return out;
  }
  for (const pair of logfmtPairs(line, false)) {
    if (pair.standalone || pair.value === '') continue;
    out.push({ name: sanitizeLabelName(pair.key), value: pair.value, parser: 'logfmt' });
  }
  return out;
}

export class FieldDetector {
  private readonly fields = new Map<string, Acc>();

  add(line: string, metadata: Fields | undefined, streamLabels: Readonly<Record<string, string>>): void {
    for (const f of lineFields(line)) {
      if (streamLabels[f.name] !== undefined) continue;
      const acc = this.acc(f.name);
      acc.values.add(f.value);
      acc.types.add(valueType(f.value));
      acc.parsers.add(f.parser);
      if (f.jsonPath && !acc.jsonPath) acc.jsonPath = f.jsonPath;
    }
    for (const [name, raw] of Object.entries(metadata ?? {})) {
      if (raw === null || raw === undefined || typeof raw === 'object') continue;
      const value = String(raw);
      const acc = this.acc(sanitizeLabelName(name));
      acc.values.add(value);
      acc.types.add(valueType(value));
      acc.metadata = true;
    }
  }

  private acc(name: string): Acc {
    let acc = this.fields.get(name);
    if (!acc) {
      acc = { values: new Set(), types: new Set(), parsers: new Set(), metadata: false };
      this.fields.set(name, acc);
    }
    return acc;
  }

  /** Detected fields sorted by name, at most `limit`. */
  result(limit: number): DetectedField[] {
    return [...this.fields.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .slice(0, limit)
      .map(([label, acc]) => {
        const types = [...acc.types];
        const type: FieldType = types.length === 1 ? types[0]! : types.every((t) => t === 'int' || t === 'float') ? 'float' : 'string';
        const field: DetectedField = {
          label,
          type,
          cardinality: acc.values.size,
          parsers: acc.parsers.size === 0 ? null : [...acc.parsers].sort(),
        };
        if (acc.jsonPath) field.jsonPath = acc.jsonPath;
        return field;
      });
  }

  values(name: string): string[] {
    return [...(this.fields.get(name)?.values ?? [])].sort();
  }
}

export interface FieldSampleOptions {
  /** Inclusive, ns. */
  startNs: bigint;
  /** Exclusive, ns. */
  endNs: bigint;
  /** The newest lines to sample, as Loki's `line_limit`. */
  lineLimit: number;
}

/** Feeds the newest `lineLimit` entries the query selects (after its pipeline) to a detector. */
export async function sampleFields(
  query: LogQuery,
  reader: LogReader,
  options: FieldSampleOptions,
  limits: MetricQueryLimits = {},
): Promise<FieldDetector> {
  const detector = new FieldDetector();
  let seen = 0;
  await scanLogEntries(query, reader, { ...options, direction: 'backward', limit: options.lineLimit }, limits, (stored, e) => {
    detector.add(e.line, stored.fields, stored.labels);
    return ++seen < options.lineLimit;
  });
  return detector;
}
