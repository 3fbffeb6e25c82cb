/** The operator's own metrics (`sextant_operator_` prefix), one Registry per process. */
import client from 'prom-client';

export class OperatorMetrics {
  readonly registry = new client.Registry();

  readonly reconciles = new client.Counter({
    name: 'sextant_operator_reconciles_total',
    help: 'Reconciles finished, by kind and result (success, error).',
    labelNames: ['kind', 'result'] as const,
    registers: [this.registry],
  });

  readonly reconcileErrors = new client.Counter({
    name: 'sextant_operator_reconcile_errors_total',
    help: 'Reconciles that failed or left the object degraded, by kind and reason (SinkNotFound, KafkaUnavailable, ApiError…).',
    labelNames: ['kind', 'reason'] as const,
    registers: [this.registry],
  });

  readonly reconcileDuration = new client.Histogram({
    name: 'sextant_operator_reconcile_duration_seconds',
    help: 'Duration of one reconcile, by kind.',
    labelNames: ['kind'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  private readonly queues = new Map<string, { len(): number }>();

  readonly queueDepth = new client.Gauge({
    name: 'sextant_operator_queue_depth',
    help: 'Keys waiting in the work queue (not counting scheduled retries), by kind.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
    // Read at scrape time, so the value is never stale between reconciles.
    collect: () => {
      for (const [kind, queue] of this.queues) this.queueDepth.set({ kind }, queue.len());
    },
  });

  trackQueue(kind: string, queue: { len(): number }): void {
    this.queues.set(kind, queue);
  }

  readonly leader = new client.Gauge({
    name: 'sextant_operator_leader',
    help: '1 while this replica holds the leader lease (or runs without leader election), else 0.',
    registers: [this.registry],
  });

  readonly writes = new client.Counter({
    name: 'sextant_operator_object_writes_total',
    help: 'Writes to the API server, by kind of object and operation (created, configured, deleted, status).',
    labelNames: ['kind', 'operation'] as const,
    registers: [this.registry],
  });

  readonly informerRestarts = new client.Counter({
    name: 'sextant_operator_informer_restarts_total',
    help: 'Watches restarted after an error, by informer.',
    labelNames: ['informer'] as const,
    registers: [this.registry],
  });

  readonly secretReads = new client.Counter({
    name: 'sextant_operator_secret_reads_total',
    help: 'Referenced Secrets whose data a reconcile needed, by source: cache (same resourceVersion as last read) or api (a GET).',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });

  readonly eventFailures = new client.Counter({
    name: 'sextant_operator_event_failures_total',
    help: 'Kubernetes Events that could not be recorded (the reconcile went on).',
    registers: [this.registry],
  });

  constructor() {
    client.collectDefaultMetrics({ register: this.registry, prefix: 'sextant_process_' });
  }
}
