/**
 * Processor counters, Vector-style received/sent/dropped. The registry is a parameter so
 * tests and the single-process mode (`sextant up`, several components in one process)
 * do not share prom-client's global registry.
 */
import { Counter, type Registry } from 'prom-client';
import type { PipelineResult } from './pipeline.js';

export interface ProcessorMetrics {
  /** Counts one processed batch of `received` entries. */
  record(received: number, result: PipelineResult): void;
}

export function createProcessorMetrics(registry: Registry): ProcessorMetrics {
  const received = counter(registry, 'sextant_processor_entries_received_total', 'Log entries that entered the processor pipeline.', []);
  const sent = counter(registry, 'sextant_processor_entries_sent_total', 'Log entries that left the processor pipeline.', []);
  const dropped = counter(
    registry,
    'sextant_processor_entries_dropped_total',
    'Log entries dropped by a processor stage, by stage (processors[<index>].<type>) and reason.',
    ['stage', 'reason'],
  );
  return {
    record(count, result) {
      received.inc(count);
      sent.inc(result.entries.length);
      for (const drop of result.dropped) {
        dropped.inc({ stage: `processors[${drop.stage}].${drop.type}`, reason: drop.reason }, drop.count);
      }
    },
  };
}

/** Reuses a counter already in the registry, so two pipelines in one process can share it. */
function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: L[]): Counter<L> {
  const existing = registry.getSingleMetric(name);
  if (existing instanceof Counter) return existing as Counter<L>;
  return new Counter({ name, help, labelNames, registers: [registry] });
}
