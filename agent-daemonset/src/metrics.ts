/**
 * The agent's self-metrics (`sextant_agent_` prefix), registered in the process's one
 * registry next to the shared HTTP and process metrics. Counters follow Vector's
 * received / sent / errored pattern; gauges are refreshed when scraped.
 */
import client from 'prom-client';
import { RuntimeMetrics } from '../../runtime/src/common/index.js';

export class AgentMetrics extends RuntimeMetrics {
  readonly linesRead = new client.Counter({
    name: 'sextant_agent_lines_read_total',
    help: 'Log lines read from container log files.',
    registers: [this.registry],
  });

  readonly bytesRead = new client.Counter({
    name: 'sextant_agent_bytes_read_total',
    help: 'Bytes read from container log files.',
    registers: [this.registry],
  });

  readonly linesUnrouted = new client.Counter({
    name: 'sextant_agent_lines_unrouted_total',
    help: 'Log lines read from files of pods that match no route (not shipped).',
    registers: [this.registry],
  });

  readonly linesFlagged = new client.Counter({
    name: 'sextant_agent_lines_flagged_total',
    help: 'Entries shipped with a flag field, by flag (truncated, invalid_utf8, unparsed).',
    labelNames: ['flag'] as const,
    registers: [this.registry],
  });

  readonly entriesShipped = new client.Counter({
    name: 'sextant_agent_entries_shipped_total',
    help: 'Log entries the ingestion acknowledged with 2xx, by route.',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });

  readonly entriesDropped = new client.Counter({
    name: 'sextant_agent_entries_dropped_total',
    help: 'Log entries given up on after a non-retryable answer (4xx other than 408/429), by route and reason.',
    labelNames: ['route', 'reason'] as const,
    registers: [this.registry],
  });

  readonly batches = new client.Counter({
    name: 'sextant_agent_batches_total',
    help: 'Batches finished, by route and result (ok, dropped).',
    labelNames: ['route', 'result'] as const,
    registers: [this.registry],
  });

  readonly batchBytes = new client.Counter({
    name: 'sextant_agent_batch_bytes_total',
    help: 'Request body bytes sent (compressed), by route.',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });

  readonly retries = new client.Counter({
    name: 'sextant_agent_retries_total',
    help: 'Requests retried after a retryable failure, by route.',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });

  readonly failures = new client.Counter({
    name: 'sextant_agent_request_failures_total',
    help: 'Failed ingestion requests, by route and reason (http_<status>, network, timeout).',
    labelNames: ['route', 'reason'] as const,
    registers: [this.registry],
  });

  readonly spoolBytes = new client.Gauge({
    name: 'sextant_agent_spool_bytes',
    help: 'Bytes of batches in the disk spool, by route.',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });

  readonly queueBytes = new client.Gauge({
    name: 'sextant_agent_queue_bytes',
    help: 'Compressed bytes of batches held in memory, by route.',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });

  readonly backpressure = new client.Gauge({
    name: 'sextant_agent_route_paused',
    help: '1 while a route queue and spool are full and tailing of its files is paused.',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });

  readonly filesTailed = new client.Gauge({
    name: 'sextant_agent_files_tailed',
    help: 'Files open for reading.',
    registers: [this.registry],
  });

  readonly checkpointLag = new client.Gauge({
    name: 'sextant_agent_checkpoint_lag_bytes',
    help: 'Bytes read but not yet acknowledged by the ingestion, summed over files.',
    registers: [this.registry],
  });

  readonly unreadBytes = new client.Gauge({
    name: 'sextant_agent_unread_bytes',
    help: 'Bytes written to tailed files but not yet read, summed over files (as of the last size check).',
    registers: [this.registry],
  });

  readonly rotations = new client.Counter({
    name: 'sextant_agent_rotations_total',
    help: 'File rotations seen, by kind (rename, copytruncate, truncate, delete).',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly checkpointWrites = new client.Counter({
    name: 'sextant_agent_checkpoint_writes_total',
    help: 'Checkpoint file writes.',
    registers: [this.registry],
  });

  readonly scrapes = new client.Counter({
    name: 'sextant_agent_pod_scrapes_total',
    help: 'Scrapes of pods annotated prometheus.io/scrape, by result (ok, error, truncated, skipped: annotated but not scrapable).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly podSamplesShipped = new client.Counter({
    name: 'sextant_agent_pod_samples_shipped_total',
    help: 'Scraped pod metric samples the ingestion acknowledged, by route.',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });

  readonly podSamplesDropped = new client.Counter({
    name: 'sextant_agent_pod_samples_dropped_total',
    help: 'Scraped pod metric samples not delivered within their interval (not spooled), by route and reason.',
    labelNames: ['route', 'reason'] as const,
    registers: [this.registry],
  });

  readonly configReloads = new client.Counter({
    name: 'sextant_agent_config_reloads_total',
    help: 'Routes file reloads that changed the routes (ok) or were rejected, keeping the routes in force (error).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly configLastReloadOk = new client.Gauge({
    name: 'sextant_agent_config_last_reload_successful',
    help: '1 when the routes file as last read is in force, 0 while a rejected version is on disk.',
    registers: [this.registry],
  });

  readonly routes = new client.Gauge({
    name: 'sextant_agent_routes',
    help: 'Routes in force, by source (config, routes_file).',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });

  readonly samplesShipped = new client.Counter({
    name: 'sextant_agent_node_samples_shipped_total',
    help: 'Node metric samples the ingestion acknowledged, by route.',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });

  readonly nodeMetricErrors = new client.Counter({
    name: 'sextant_agent_node_metrics_errors_total',
    help: 'Node metric collections or deliveries that failed, by stage (collect, ship).',
    labelNames: ['stage'] as const,
    registers: [this.registry],
  });
}
