/**
 * The embedded store as a query worker thread opens it (query/limits/worker.ts): its own
 * read-only connection to the writer's database, so a large read blocks that thread, which
 * the deadline can end, instead of the event loop that serves ingestion and /healthz.
 */
import { SqliteStore } from './store.js';

export function openThreadReader(options: { dataDir: string }): SqliteStore {
  return new SqliteStore({ dataDir: options.dataDir, readOnly: true });
}
