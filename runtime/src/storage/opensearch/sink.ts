/**
 * The OpenSearch hot sink: index templates at start, daily (or hourly) indices per signal, _bulk
 * requests bounded by count and bytes, and per-item results handled — 429/5xx items are
 * retried (then the whole write fails as SinkUnavailableError, so the runner backs off
 * without committing), other 4xx items (mapping rejected) are returned for the DLQ.
 */
import { Client } from '@opensearch-project/opensearch';
import { backoffDelay, sleep } from '../../common/backoff.js';
import type { Logger } from '../../common/log.js';
import type { SecretReader } from '../../common/secrets.js';
import type { OpenSearchSinkSettings } from './config.js';
import { SinkUnavailableError, type RejectedRecord, type Sink, type SinkRecord } from '../sink.js';
import { BULK_FILTER_PATH, bulkChunks } from './bulk.js';
import { indexTemplates, logDocument, metadataDocument, sampleDocument, type IndexedDoc } from './documents.js';

const ITEM_RETRIES = 3;
/** Between the retries of refused documents: 100, 200, 400 ms (less jitter). */
const ITEM_BACKOFF = { initial: 100, max: 400 };

interface BulkItem {
  status: number;
  error?: { type?: string; reason?: string };
}

export function createOpenSearchClient(settings: OpenSearchSinkSettings, secrets: SecretReader): Client {
  const username = secrets.read(settings.username, 'sinks.opensearch.username');
  const password = secrets.read(settings.password, 'sinks.opensearch.password');
  const ca = secrets.readFile(settings.caFile, 'sinks.opensearch.caFile');
  return new Client({
    nodes: settings.endpoints,
    ...(username !== undefined && password !== undefined ? { auth: { username, password } } : {}),
    ssl: { ...(ca ? { ca } : {}), rejectUnauthorized: !settings.insecureSkipVerify },
    requestTimeout: settings.requestTimeoutMs,
    maxRetries: 0,
  });
}

export class OpenSearchSink implements Sink {
  readonly name = 'opensearch';
  readonly maxRecordsPerWrite: number;

  constructor(
    private readonly client: Client,
    private readonly settings: OpenSearchSinkSettings,
    private readonly log: Logger,
  ) {
    this.maxRecordsPerWrite = settings.bulk.maxDocs;
  }

  async start(): Promise<void> {
    try {
      for (const template of indexTemplates(this.settings.indexPrefix)) {
        await this.client.indices.putIndexTemplate({ name: template.name, body: template.body as never });
      }
    } catch (error) {
      throw new SinkUnavailableError(`cannot install index templates: ${(error as Error).message}`);
    }
  }

  async write(records: SinkRecord[]): Promise<RejectedRecord[]> {
    const prefix = this.settings.indexPrefix;
    const partition = this.settings.indexPartition;
    const docs: IndexedDoc[] = records.map((r) => {
      switch (r.kind) {
        case 'log':
          return logDocument(prefix, r.entry, partition);
        case 'sample':
          return sampleDocument(prefix, r.sample, partition);
        case 'metadata':
          return metadataDocument(prefix, r.metadata);
      }
    });
    const rejected: RejectedRecord[] = [];
    let pending: number[] | undefined;
    for (let attempt = 0; ; attempt++) {
      const retry: number[] = [];
      for (const chunk of bulkChunks(docs, this.settings.bulk.maxDocs, this.settings.bulk.maxBytes, pending)) {
        const items = await this.bulk(chunk.body, chunk.indices.length);
        items.forEach((item, k) => {
          const index = chunk.indices[k]!;
          if (item.status >= 200 && item.status < 300) return;
          if (item.status === 429 || item.status >= 500) retry.push(index);
          else rejected.push({ index, reason: `${item.status} ${item.error?.type ?? 'error'}: ${item.error?.reason ?? 'rejected'}` });
        });
      }
      if (retry.length === 0) return rejected;
      if (attempt >= ITEM_RETRIES)
        throw new SinkUnavailableError(`${retry.length} documents still refused with 429/5xx after ${attempt + 1} attempts`);
      this.log.info({ documents: retry.length, attempt }, 'OpenSearch refused documents with 429/5xx; retrying them');
      await sleep(backoffDelay(attempt, ITEM_BACKOFF));
      pending = retry;
    }
  }

  private async bulk(body: string, documents: number): Promise<BulkItem[]> {
    let response;
    try {
      response = await this.client.bulk({ body: body as never, filter_path: BULK_FILTER_PATH });
    } catch (error) {
      throw new SinkUnavailableError(`OpenSearch bulk request failed: ${(error as Error).message}`);
    }
    const items = (response.body as { items?: Record<string, BulkItem>[] }).items;
    // Every document must have its result, or one without would pass for stored.
    if (!Array.isArray(items) || items.length !== documents)
      throw new SinkUnavailableError(
        `OpenSearch _bulk answered ${Array.isArray(items) ? items.length : 'no'} item results for ${documents} documents`,
      );
    return items.map((i) => Object.values(i)[0]!);
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
