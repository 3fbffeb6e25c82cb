/** Metrics of the S3 cold sink (the runner's sextant_sink_* series cover it too, with sink="s3"). */
import client, { type Registry } from 'prom-client';

export interface S3SinkMetrics {
  objects: client.Counter<'signal'>;
  bytes: client.Counter<'signal'>;
  records: client.Counter<'signal'>;
  flushes: client.Counter<'signal' | 'reason'>;
  multipart: client.Counter<'signal'>;
  errors: client.Counter<'operation'>;
  retries: client.Counter<'signal'>;
  replayed: client.Counter<'reason'>;
  overlaps: client.Counter;
  buffered: client.Gauge<'signal'>;
  bufferedBytes: client.Gauge<'signal'>;
  flushDuration: client.Histogram<'signal'>;
}

export function createS3SinkMetrics(registry: Registry): S3SinkMetrics {
  return {
    objects: new client.Counter({
      name: 'sextant_s3_objects_written_total',
      help: 'Data objects written to S3 (each with its .index.json sidecar).',
      labelNames: ['signal'] as const,
      registers: [registry],
    }),
    bytes: new client.Counter({
      name: 'sextant_s3_bytes_written_total',
      help: 'Compressed bytes of the data objects written to S3.',
      labelNames: ['signal'] as const,
      registers: [registry],
    }),
    records: new client.Counter({
      name: 'sextant_s3_records_written_total',
      help: 'Records written to S3 objects (a rewrite after a crash counts again).',
      labelNames: ['signal'] as const,
      registers: [registry],
    }),
    flushes: new client.Counter({
      name: 'sextant_s3_flushes_total',
      help: 'Successful flushes of a partition buffer, by what triggered them (bytes, records, age, recovery, shutdown).',
      labelNames: ['signal', 'reason'] as const,
      registers: [registry],
    }),
    multipart: new client.Counter({
      name: 'sextant_s3_multipart_uploads_total',
      help: 'Objects uploaded in parts (at or above multipart.thresholdBytes).',
      labelNames: ['signal'] as const,
      registers: [registry],
    }),
    errors: new client.Counter({
      name: 'sextant_s3_request_errors_total',
      help: 'Failed S3 requests by operation; the flush is retried with backoff, nothing is committed or dropped.',
      labelNames: ['operation'] as const,
      registers: [registry],
    }),
    retries: new client.Counter({
      name: 'sextant_s3_flush_retries_total',
      help: 'Flush attempts of a range whose previous attempt failed.',
      labelNames: ['signal'] as const,
      registers: [registry],
    }),
    replayed: new client.Counter({
      name: 'sextant_s3_buffer_released_records_total',
      help: 'Buffered, uncommitted records let go because Kafka delivers them again from the committed offset (rebalance, rewind).',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    overlaps: new client.Counter({
      name: 'sextant_s3_overlapping_ranges_total',
      help: 'Flushes whose offset range overlaps an earlier, different range in the journal (possible duplicates; see the log).',
      registers: [registry],
    }),
    buffered: new client.Gauge({
      name: 'sextant_s3_buffered_records',
      help: 'Records held in memory, not yet written to S3 (their offsets are not committed).',
      labelNames: ['signal'] as const,
      registers: [registry],
    }),
    bufferedBytes: new client.Gauge({
      name: 'sextant_s3_buffered_bytes',
      help: 'Uncompressed NDJSON bytes held in memory, not yet written to S3.',
      labelNames: ['signal'] as const,
      registers: [registry],
    }),
    flushDuration: new client.Histogram({
      name: 'sextant_s3_flush_duration_seconds',
      help: 'Time to write one flush (journal, objects, indices).',
      labelNames: ['signal'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
  };
}
