/**
 * The storage backends, one table (docs/architecture.md §11). A backend lives in its own
 * folder (`<name>/config.ts`, `factory.ts`, `sink.ts`, `reader.ts`, `retention.ts`) and is
 * listed here; the `sinks` section of the runtime config and the processor's sink runners
 * are built by looping over this table, in its order (the first configured sink runs the
 * stage counters, the DLQ of undecodable records and the retention election).
 */
import type * as t from 'io-ts';
import { closed, optional } from '../common/codecs.js';
import type { SecretReader } from '../common/secrets.js';
import type { SinkContext, StorageBackend } from './backend.js';
import { openSearchBackend } from './opensearch/factory.js';
import { s3Backend } from './s3/factory.js';
import type { AnySink } from './sink.js';

export const BACKENDS = {
  opensearch: openSearchBackend,
  s3: s3Backend,
} as const;

export type BackendName = keyof typeof BACKENDS;
type SettingsOf<K extends BackendName> = t.TypeOf<(typeof BACKENDS)[K]['codec']>;
type ClientOf<K extends BackendName> = ReturnType<(typeof BACKENDS)[K]['connect']>;
export type BackendClients = { [K in BackendName]?: ClientOf<K> };

export const BACKEND_NAMES = Object.keys(BACKENDS) as BackendName[];

/** The `sinks` section: each backend's section, optional. */
export const SinksCodec = closed(
  'sinks',
  Object.fromEntries(BACKEND_NAMES.map((name) => [name, optional(BACKENDS[name].codec)])) as {
    [K in BackendName]: t.Type<SettingsOf<K> | undefined, unknown, unknown>;
  },
);
export type SinksSettings = t.TypeOf<typeof SinksCodec>;

/** A configured sink with its client, before its runner starts. */
export interface ConnectedSink {
  name: BackendName;
  createSink(context: SinkContext): AnySink;
}

/** Connects every configured backend (in table order); missing secrets are collected in `secrets`. */
export function connectSinks(sinks: SinksSettings, secrets: SecretReader): { sinks: ConnectedSink[]; clients: BackendClients } {
  const connected: ConnectedSink[] = [];
  const clients: Record<string, unknown> = {};
  for (const name of BACKEND_NAMES) {
    const settings = sinks[name];
    if (settings === undefined) continue;
    const backend = BACKENDS[name] as StorageBackend<unknown, unknown>;
    const client = backend.connect(settings, secrets);
    clients[name] = client;
    connected.push({ name, createSink: (context) => backend.createSink(client, settings, context) });
  }
  return { sinks: connected, clients: clients as BackendClients };
}

export type { SinkContext, StorageBackend } from './backend.js';
