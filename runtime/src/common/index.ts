/**
 * The public entry point of runtime/src/common, the only shared ground of the runtime, the
 * operator and the agent (docs/architecture.md §5): config codecs and decoding, ConfigError,
 * durations, backoff, logging, self-metrics and the HTTP server skeleton.
 */
export * from './backoff.js';
export * from './codecs.js';
export * from './config-error.js';
export * from './decode.js';
export * from './duration.js';
export * from './http-error.js';
export * from './log.js';
export * from './metrics.js';
export * from './server.js';
export * from './throttled-log.js';
export * from './version.js';
export * from './secrets.js';
export * from './config-file.js';
export * from './regex.js';
