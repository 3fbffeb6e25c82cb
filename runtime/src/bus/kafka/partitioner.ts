/**
 * kafkajs' DefaultPartitioner with a memo for keyed records. The default hashes every record's
 * key (murmur2) and filters the partition list for every record; our keys are stream/series
 * fingerprints, a few hundred distinct ones across millions of records, so the ingestion's
 * profile showed that work per record for an answer that never changes while the partition
 * count does not. A miss asks the default partitioner, so the assignment — and with it
 * per-stream ordering and what the processor sees — is exactly the default's.
 */
import { Partitioners, type ICustomPartitioner } from 'kafkajs';

/** Memo entries kept before it is cleared (fingerprints of ~64 bytes: a few MB at most). */
export const MAX_MEMO_KEYS = 50_000;

export const MemoizedKeyPartitioner: ICustomPartitioner = () => {
  const inner = Partitioners.DefaultPartitioner();
  // topic → partition count → key → partition: a new partition count (topic grown) starts afresh.
  const memo = new Map<string, { partitions: number; byKey: Map<string, number> }>();
  return (args) => {
    const { topic, partitionMetadata, message } = args;
    if (message.partition !== undefined && message.partition !== null) return message.partition;
    if (typeof message.key !== 'string') return inner(args); // unkeyed (round-robin) and Buffer keys: as is
    let entry = memo.get(topic);
    if (entry?.partitions !== partitionMetadata.length) {
      entry = { partitions: partitionMetadata.length, byKey: new Map() };
      memo.set(topic, entry);
    }
    let partition = entry.byKey.get(message.key);
    if (partition === undefined) {
      partition = inner(args);
      if (entry.byKey.size >= MAX_MEMO_KEYS) entry.byKey.clear();
      entry.byKey.set(message.key, partition);
    }
    return partition;
  };
};
