/**
 * One Kafka batch through the processor: decode (poison → DLQ), stages (intentional drops
 * counted by the processor metrics), then the records for the sink. Pure: no I/O here.
 */
import type { KafkaMessage } from 'kafkajs';
import { decodeLogEntry, decodeMetricRecord, PoisonRecordError } from '../../bus/kafka/codec.js';
import type { Signal } from '../../model/types.js';
import type { Pipeline, PipelineResult } from '../pipeline.js';
import type { SinkRecord } from '../../storage/sink.js';

export interface DeadLetter {
  message: KafkaMessage;
  topic: string;
  partition: number;
  reason: 'undecodable' | 'rejected';
  error: string;
}

export interface PreparedBatch {
  records: SinkRecord[];
  deadLetters: DeadLetter[];
  received: number;
  processed: PipelineResult | undefined;
}

export function prepareBatch(
  signal: Signal,
  topic: string,
  partition: number,
  messages: KafkaMessage[],
  pipeline: Pick<Pipeline, 'processLogs'>,
): PreparedBatch {
  const deadLetters: DeadLetter[] = [];
  const records: SinkRecord[] = [];
  if (signal === 'metrics') {
    for (const message of messages) {
      try {
        records.push(decodeMetricRecord(message.value));
      } catch (error) {
        if (!(error instanceof PoisonRecordError)) throw error;
        deadLetters.push({ message, topic, partition, reason: 'undecodable', error: error.message });
      }
    }
    return { records, deadLetters, received: messages.length, processed: undefined };
  }
  const entries = [];
  for (const message of messages) {
    try {
      entries.push(decodeLogEntry(message.value));
    } catch (error) {
      if (!(error instanceof PoisonRecordError)) throw error;
      deadLetters.push({ message, topic, partition, reason: 'undecodable', error: error.message });
    }
  }
  const processed = pipeline.processLogs(entries);
  for (const entry of processed.entries) records.push({ kind: 'log', entry });
  return { records, deadLetters, received: entries.length, processed };
}
