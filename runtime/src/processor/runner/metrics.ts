/** Runner metrics: sink writes, DLQ records, backoff and consumer lag, per sink. */
import client, { type Registry } from 'prom-client';

export interface RunnerMetrics {
  written: client.Counter<'sink' | 'signal'>;
  dlq: client.Counter<'sink' | 'reason'>;
  sinkErrors: client.Counter<'sink'>;
  commits: client.Counter<'sink'>;
  lag: client.Gauge<'sink' | 'topic' | 'partition'>;
  sinkUp: client.Gauge<'sink'>;
}

export function createRunnerMetrics(registry: Registry): RunnerMetrics {
  return {
    written: new client.Counter({
      name: 'sextant_sink_records_written_total',
      help: 'Records acknowledged by a sink, by sink and signal.',
      labelNames: ['sink', 'signal'] as const,
      registers: [registry],
    }),
    dlq: new client.Counter({
      name: 'sextant_processor_dlq_records_total',
      help: 'Records sent to the dead-letter topic instead of the sink, by sink and reason (undecodable, rejected).',
      labelNames: ['sink', 'reason'] as const,
      registers: [registry],
    }),
    sinkErrors: new client.Counter({
      name: 'sextant_sink_write_errors_total',
      help: 'Failed sink writes (the batch is retried with backoff; nothing is committed or dropped).',
      labelNames: ['sink'] as const,
      registers: [registry],
    }),
    commits: new client.Counter({
      name: 'sextant_processor_offset_commits_total',
      help: 'Offset commits after a sink acknowledged a batch.',
      labelNames: ['sink'] as const,
      registers: [registry],
    }),
    lag: new client.Gauge({
      name: 'sextant_processor_consumer_lag',
      help: 'Records between the last batch fetched and the end of the partition, by sink, topic and partition.',
      labelNames: ['sink', 'topic', 'partition'] as const,
      registers: [registry],
    }),
    sinkUp: new client.Gauge({
      name: 'sextant_sink_up',
      help: '1 while the sink accepts writes, 0 while the runner backs off.',
      labelNames: ['sink'] as const,
      registers: [registry],
    }),
  };
}
