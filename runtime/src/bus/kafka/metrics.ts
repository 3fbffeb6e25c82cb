/** Producer-side metrics of the Kafka bus. */
import client, { type Registry } from 'prom-client';

export interface KafkaBusMetrics {
  batches: client.Counter;
  records: client.Counter;
  sendErrors: client.Counter;
  sendDuration: client.Histogram;
  up: client.Gauge;
}

export function createKafkaBusMetrics(registry: Registry): KafkaBusMetrics {
  return {
    batches: new client.Counter({ name: 'sextant_bus_batches_sent_total', help: 'Batches acknowledged by Kafka.', registers: [registry] }),
    records: new client.Counter({ name: 'sextant_bus_records_sent_total', help: 'Records acknowledged by Kafka.', registers: [registry] }),
    sendErrors: new client.Counter({
      name: 'sextant_bus_send_errors_total',
      help: 'Batches Kafka did not acknowledge (their requests were answered 503).',
      registers: [registry],
    }),
    sendDuration: new client.Histogram({
      name: 'sextant_bus_send_duration_seconds',
      help: 'Time from send to acknowledgement by Kafka (acks=all).',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    up: new client.Gauge({ name: 'sextant_bus_up', help: '1 while the Kafka producer is connected and ready.', registers: [registry] }),
  };
}
