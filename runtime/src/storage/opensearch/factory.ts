/** The OpenSearch backend (hot tier): its config section, client and sink, for the registry in storage/index.ts. */
import type { Client } from '@opensearch-project/opensearch';
import type { StorageBackend } from '../backend.js';
import { OpenSearchSinkConfig, type OpenSearchSinkSettings } from './config.js';
import { createOpenSearchClient, OpenSearchSink } from './sink.js';

export const openSearchBackend: StorageBackend<OpenSearchSinkSettings, Client> = {
  name: 'opensearch',
  codec: OpenSearchSinkConfig,
  connect: createOpenSearchClient,
  createSink: (client, settings, { log }) => new OpenSearchSink(client, settings, log),
};
