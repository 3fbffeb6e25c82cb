/**
 * Self-metrics shared by the runtimes (`sextant_` prefix, docs/architecture.md §2). Each process builds
 * one Registry so tests and the embedded mode never share global state.
 */
import client from 'prom-client';

const RETENTION_DELETED = 'sextant_retention_deleted_total';

/**
 * `sextant_retention_deleted_total{tier,signal,kind}` — one label set in every mode, so one
 * panel (`sum by (signal) (rate(…{kind="records"}[1h]))`) works for `sextant up` and the
 * distributed runtime: tier embedded (the SQLite store), hot (OpenSearch) or cold (S3); kind
 * records (log entries and samples), indices, objects, index_objects, uploads or bytes.
 * Get-or-create: RuntimeMetrics registers it, and the processor's retention loop takes it from there.
 */
export function retentionDeletedCounter(registry: client.Registry): client.Counter<'tier' | 'signal' | 'kind'> {
  const existing = registry.getSingleMetric(RETENTION_DELETED);
  if (existing) return existing as client.Counter<'tier' | 'signal' | 'kind'>;
  return new client.Counter({
    name: RETENTION_DELETED,
    help: 'What retention deleted because it was older than the policy, by tier (embedded = the SQLite store of sextant up, hot = OpenSearch, cold = S3), signal and kind (records, indices, objects, index_objects, uploads, bytes).',
    labelNames: ['tier', 'signal', 'kind'] as const,
    registers: [registry],
  });
}

export class RuntimeMetrics {
  readonly registry = new client.Registry();

  readonly httpRequests = new client.Counter({
    name: 'sextant_http_requests_total',
    help: 'HTTP requests served, by route, method and status code.',
    labelNames: ['route', 'method', 'code'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new client.Histogram({
    name: 'sextant_http_request_duration_seconds',
    help: 'HTTP request latency, by route.',
    labelNames: ['route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly eventsAccepted = new client.Counter({
    name: 'sextant_ingest_events_accepted_total',
    help: 'Log entries and samples accepted (durably stored or acknowledged by the bus), by signal.',
    labelNames: ['signal'] as const,
    registers: [this.registry],
  });

  readonly eventsRejected = new client.Counter({
    name: 'sextant_ingest_events_rejected_total',
    help: 'Log entries and samples in rejected requests, by signal and reason (when the body could be read).',
    labelNames: ['signal', 'reason'] as const,
    registers: [this.registry],
  });

  readonly requestsRejected = new client.Counter({
    name: 'sextant_ingest_requests_rejected_total',
    help: 'Ingestion requests answered with an error, by signal and reason.',
    labelNames: ['signal', 'reason'] as const,
    registers: [this.registry],
  });

  readonly ingestBytes = new client.Counter({
    name: 'sextant_ingest_bytes_total',
    help: 'Request body bytes received by ingestion (after decompression), by signal.',
    labelNames: ['signal'] as const,
    registers: [this.registry],
  });

  readonly storageWritten = new client.Counter({
    name: 'sextant_storage_records_written_total',
    help: 'Records written to storage, by signal.',
    labelNames: ['signal'] as const,
    registers: [this.registry],
  });

  readonly storageDuplicates = new client.Counter({
    name: 'sextant_storage_duplicates_total',
    help: 'Records not written because a record with the same deterministic id was already stored (replays).',
    labelNames: ['signal'] as const,
    registers: [this.registry],
  });

  readonly storageErrors = new client.Counter({
    name: 'sextant_storage_write_errors_total',
    help: 'Failed storage transactions (the request is answered 503 and nothing of it is stored).',
    registers: [this.registry],
  });

  readonly storageCommitDuration = new client.Histogram({
    name: 'sextant_storage_commit_duration_seconds',
    help: 'Duration of one storage transaction (a group commit of one or more requests).',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });

  readonly retentionDeleted = retentionDeletedCounter(this.registry);

  readonly queryDuration = new client.Histogram({
    name: 'sextant_query_duration_seconds',
    help: 'Query latency, by API.',
    labelNames: ['api'] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30],
    registers: [this.registry],
  });

  constructor() {
    client.collectDefaultMetrics({ register: this.registry, prefix: 'sextant_process_' });
  }
}
