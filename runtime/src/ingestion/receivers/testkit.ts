/**
 * The harness of the receiver tests (test-only: the image build leaves it out). One
 * ingestion app on a real express server, with the real embedded bus, an empty processor
 * pipeline and a SQLite store in a temporary folder, so a test reads back what was stored;
 * every request carries the one API key the app accepts.
 */
import fs from 'node:fs';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../common/log.js';
import { RuntimeMetrics } from '../../common/metrics.js';
import { baseApp, boundPort, finishApp, listen } from '../../common/server.js';
import { defaultLimits } from '../../model/limits.js';
import { createEmbeddedBus } from '../../platform/embedded.js';
import { emptyPipeline } from '../../processor/pipeline.js';
import { SqliteStore } from '../../storage/sqlite/store.js';
import { ingestionRouter } from '../app.js';
import { ApiKeys } from '../auth.js';

/** The API key the harness's app accepts. */
export const API_KEY = 'receiver-test-key';

export interface Harness {
  /** http://127.0.0.1:<port>, no trailing slash. */
  url: string;
  store: SqliteStore;
  server: http.Server;
}

/** Starts the app on a free port; `maxBodyBytes` is the ingestion body limit (default 1 MiB). */
export async function startIngestion(maxBodyBytes = 1024 * 1024): Promise<Harness> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sextant-receiver-'));
  const store = new SqliteStore({ dataDir: dir, sync: 'normal' });
  const metrics = new RuntimeMetrics();
  const log = silentLogger();
  const bus = createEmbeddedBus({ store, metrics, log, pipeline: emptyPipeline() });
  const app = baseApp(metrics, { notReady: () => [] });
  // High enough that no test meets it; the rate limit has its own tests (ingestion/app.test.ts).
  const rateLimit = { requestsPerSecond: 10_000, burst: 10_000 };
  app.use(ingestionRouter({ bus, keys: new ApiKeys([API_KEY]), limits: defaultLimits, rateLimit, maxBodyBytes, metrics, log }));
  finishApp(app, log);
  const server = await listen(app, 0, '127.0.0.1');
  return { url: `http://127.0.0.1:${boundPort(server)}`, store, server };
}

export function stopIngestion(h: Harness): void {
  h.server.closeAllConnections();
  h.server.close();
  h.store.close();
}

/** POSTs `body` to `route` with the harness's key as a bearer token; `headers` may replace it. */
export function post(h: Harness, route: string, body: Uint8Array | string, headers: Record<string, string>): Promise<Response> {
  return fetch(`${h.url}${route}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, ...headers },
    body: typeof body === 'string' ? body : Buffer.from(body),
  });
}
