/**
 * The public entry point of runtime/src/model (docs/architecture.md §3, §5): log entries,
 * samples, labels and their rules, limits, timestamps, fingerprints and record ids, and the
 * codecs of the native ingestion bodies.
 */
export * from './fingerprint.js';
export * from './labels.js';
export * from './limits.js';
export * from './records.js';
export * from './timestamp.js';
export * from './types.js';
