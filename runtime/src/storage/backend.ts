/**
 * What a storage backend declares to be pluggable (docs/architecture.md §11): the codec of
 * its `sinks.<name>` config section, how to build its client, and its sink. The table of
 * backends is storage/index.ts; the runtime config, the processor and requireFor loop over it.
 */
import type * as t from 'io-ts';
import type { Registry } from 'prom-client';
import type { Logger } from '../common/log.js';
import type { SecretReader } from '../common/secrets.js';
import type { AnySink } from './sink.js';

/** What a sink gets from the process that runs it. */
export interface SinkContext {
  pipeline: { namespace: string; name: string };
  /** Where the sink registers its own metrics. */
  registry: Registry;
  log: Logger;
}

export interface StorageBackend<S, C> {
  /** The key under `sinks` in the runtime config; also the sink's name and consumer group suffix. */
  readonly name: string;
  /** The section's codec: defaults and validation inside. */
  readonly codec: t.Type<S, unknown, unknown>;
  /** The backend's client. Secrets the settings name are read through `secrets`, which collects every missing one. */
  connect(settings: S, secrets: SecretReader): C;
  createSink(client: C, settings: S, context: SinkContext): AnySink;
}
