import test from 'ava';
import { Registry } from 'prom-client';
import { createProcessorMetrics } from './metrics.js';

test('counts received, sent and dropped entries per stage and reason in the given registry', async (t) => {
  const registry = new Registry();
  const metrics = createProcessorMetrics(registry);
  metrics.record(10, {
    entries: new Array(6),
    dropped: [
      { stage: 2, type: 'drop', reason: 'drop_matched', count: 3 },
      { stage: 4, type: 'sample', reason: 'sampled_out', count: 1 },
    ],
  });
  // A second pipeline in the same process shares the counters instead of failing to register.
  createProcessorMetrics(registry).record(1, { entries: [], dropped: [{ stage: 2, type: 'drop', reason: 'drop_matched', count: 1 }] });

  const text = await registry.metrics();
  const samples = text.split('\n').filter((line) => line.startsWith('sextant_processor_'));
  t.deepEqual(samples, [
    'sextant_processor_entries_received_total 11',
    'sextant_processor_entries_sent_total 6',
    'sextant_processor_entries_dropped_total{stage="processors[2].drop",reason="drop_matched"} 4',
    'sextant_processor_entries_dropped_total{stage="processors[4].sample",reason="sampled_out"} 1',
  ]);
});
