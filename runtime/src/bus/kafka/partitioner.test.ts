import test from 'ava';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { MAX_MEMO_KEYS, MemoizedKeyPartitioner } from './partitioner.js';

const meta = (n: number): PartitionMetadata[] =>
  Array.from({ length: n }, (_, partitionId) => ({ partitionId, leader: 1, partitionErrorCode: 0, replicas: [1], isr: [1] }));

test('keyed records land on the partition the default partitioner picks, also on repeats', (t) => {
  const memoized = MemoizedKeyPartitioner();
  const reference = Partitioners.DefaultPartitioner();
  for (const partitions of [6, 7]) {
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 500; i++) {
        const args = { topic: 'sextant.a.b.logs', partitionMetadata: meta(partitions), message: { key: `fp-${i}`, value: 'v' } };
        t.is(memoized(args), reference(args), `key fp-${i}, ${partitions} partitions, round ${round}`);
      }
    }
  }
});

test('the memo is bounded and stays correct past the bound', (t) => {
  const memoized = MemoizedKeyPartitioner();
  const reference = Partitioners.DefaultPartitioner();
  for (let i = 0; i < MAX_MEMO_KEYS + 10; i++) {
    const args = { topic: 't', partitionMetadata: meta(6), message: { key: `k${i}`, value: 'v' } };
    if (memoized(args) !== reference(args)) t.fail(`key k${i}`);
  }
  t.pass();
  const args = { topic: 't', partitionMetadata: meta(6), message: { key: 'k0', value: 'v' } };
  t.is(memoized(args), reference(args));
});

test('an explicit partition wins and unkeyed records are spread round-robin', (t) => {
  const memoized = MemoizedKeyPartitioner();
  t.is(memoized({ topic: 't', partitionMetadata: meta(6), message: { key: 'k', value: 'v', partition: 4 } }), 4);
  const seen = new Set<number>();
  for (let i = 0; i < 12; i++) seen.add(memoized({ topic: 't', partitionMetadata: meta(6), message: { value: 'v' } }));
  t.is(seen.size, 6);
});
