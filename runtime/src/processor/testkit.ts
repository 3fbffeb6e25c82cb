/** Helpers shared by the processor tests (not used at runtime). */
import type * as t from 'io-ts';
import { decode } from '../common/decode.js';
import type { LogEntry } from '../model/types.js';
import type { Stage } from './stage.js';

/** 2026-11-26T10:00:00Z in epoch nanoseconds. */
export const T0 = BigInt(Date.parse('2026-11-26T10:00:00Z')) * 1_000_000n;

export function logEntry(overrides: Partial<LogEntry> = {}): LogEntry {
  return { timestampNs: T0, labels: {}, message: '', fields: {}, ...overrides };
}

/** Decodes a config that must be valid; throws with the errors otherwise. */
export function decodeOk<A, O>(codec: t.Type<A, O, unknown>, input: unknown): A {
  const result = decode(codec, input, 'config');
  if (!result.ok) throw new Error(`config unexpectedly invalid:\n${result.errors.join('\n')}`);
  return result.value;
}

/** The errors for a config that must be invalid (paths rooted at `config`). */
export function decodeErrors<A, O>(codec: t.Type<A, O, unknown>, input: unknown): string[] {
  const result = decode(codec, input, 'config');
  return result.ok ? [] : result.errors;
}

/** Applies a stage to a copy of `entry`, as the pipeline does; returns the entry and the drop reason. */
export function applyStage(stage: Stage, entry: LogEntry): { entry: LogEntry; dropped: string | undefined } {
  const copy: LogEntry = { ...entry, labels: { ...entry.labels }, fields: { ...entry.fields } };
  const dropped = stage.apply(copy);
  return { entry: copy, dropped };
}
