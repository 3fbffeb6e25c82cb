/**
 * The SQLite store as the embedded processor's sink: one transaction per delivered turn,
 * counted in the storage metrics (written, duplicates: a replayed id is not stored twice).
 */
import type { RuntimeMetrics } from '../../common/metrics.js';
import type { LogEntry, MetricMetadata, Sample } from '../../model/types.js';
import type { SqliteStore } from './store.js';

export class SqliteSink {
  constructor(
    private readonly store: SqliteStore,
    private readonly metrics: RuntimeMetrics,
  ) {}

  write(logs: LogEntry[], samples: Sample[], metadata: MetricMetadata[]): void {
    const written = this.store.write(logs, samples, metadata);
    this.metrics.storageWritten.inc({ signal: 'logs' }, written.logs.written);
    this.metrics.storageDuplicates.inc({ signal: 'logs' }, written.logs.duplicates);
    this.metrics.storageWritten.inc({ signal: 'metrics' }, written.samples.written);
  }
}
