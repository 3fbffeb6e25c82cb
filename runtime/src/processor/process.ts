/**
 * Log entries through the stages, the one processing path of both modes
 * (docs/architecture.md §1): the distributed runner (runner/consumer.ts) and the embedded
 * processor of `sextant up` (embedded.ts) both call it. Intentional drops are explained in
 * a throttled log line here; they are counted (sextant_processor_entries_*) by count() once
 * the caller took the batch, so a batch Kafka delivers again is not counted twice.
 */
import type { Logger } from '../common/log.js';
import { ThrottledLog } from '../common/throttled-log.js';
import type { LogEntry } from '../model/types.js';
import type { ProcessorMetrics } from './metrics.js';
import type { Pipeline, PipelineResult } from './pipeline.js';

export class Stages {
  private readonly dropLog = new ThrottledLog(60_000);

  constructor(
    private readonly pipeline: Pipeline,
    private readonly metrics: ProcessorMetrics,
    private readonly log: Logger,
  ) {}

  /** Runs the stages over entries (Pipeline's shape, so batch preparation takes either). */
  processLogs(entries: LogEntry[]): PipelineResult {
    const result = this.pipeline.processLogs(entries);
    for (const d of result.dropped) {
      this.dropLog.record(`${d.stage}/${d.reason}`, d.count, (count) =>
        this.log.info(
          { stage: `processors[${d.stage}].${d.type}`, reason: d.reason, count },
          'processor stage dropped log entries as configured (sextant_processor_entries_dropped_total)',
        ),
      );
    }
    return result;
  }

  /** Counts a processed batch once it was taken. */
  count(received: number, result: PipelineResult): void {
    this.metrics.record(received, result);
  }
}
