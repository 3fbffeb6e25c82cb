/**
 * Stream/series fingerprints and deterministic record ids (DESIGN §3). Transport is
 * at-least-once everywhere, so storage dedupes on ids derived from content: a replayed
 * record gets the same id and overwrites (or is ignored as) itself.
 */
import { createHash } from 'node:crypto';
import { canonicalLabels } from './labels.js';
import type { Labels, LogEntry, Sample } from './types.js';

/** 64-bit hex fingerprint of a log stream (its label set). */
export function streamFingerprint(labels: Labels): string {
  return createHash('sha256').update(canonicalLabels(labels)).digest('hex').slice(0, 16);
}

/** 64-bit hex fingerprint of a metric series (name + labels). */
export function seriesFingerprint(name: string, labels: Labels): string {
  return createHash('sha256')
    .update(name)
    .update('\u0002')
    .update(canonicalLabels(labels))
    .digest('hex')
    .slice(0, 16);
}

/** 128-bit id of a log entry: stream fingerprint + timestamp + message. */
export function logRecordId(streamFp: string, entry: LogEntry): Buffer {
  return createHash('sha256')
    .update(streamFp)
    .update(entry.timestampNs.toString())
    .update('\u0000')
    .update(entry.message)
    .digest()
    .subarray(0, 16);
}

/** Id of a sample: series fingerprint + timestamp (a replay overwrites the value). */
export function sampleRecordId(seriesFp: string, sample: Sample): string {
  return `${seriesFp}:${sample.timestampMs}`;
}
