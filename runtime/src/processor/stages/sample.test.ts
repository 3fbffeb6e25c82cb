import test from 'ava';
import type { LogEntry } from '../../model/types.js';
import { decodeErrors, decodeOk, logEntry, T0 } from '../testkit.js';
import { createSampleStage, SampleConfig } from './sample.js';

/** Entries kept by rate 0.5 from `entries(10_000)`, pinned when the hash was written. */
const KEPT_AT_HALF = 5_043;

const sampler = (config: unknown) => createSampleStage(decodeOk(SampleConfig, config));

function entries(count: number, streams = 10): LogEntry[] {
  return Array.from({ length: count }, (_, i) =>
    logEntry({
      timestampNs: T0 + BigInt(i) * 1_000_000n,
      labels: { namespace: 'team-a', pod: `api-${i % streams}` },
      message: `GET /items/${i} 200`,
    }),
  );
}

const keptCount = (config: unknown, list: LogEntry[]) => {
  const stage = sampler(config);
  return list.filter((e) => stage.apply(e) === undefined).length;
};

test('config defaults and errors', (t) => {
  t.deepEqual(decodeOk(SampleConfig, { rate: 0.25 }), { rate: 0.25, by: 'entry' });
  t.deepEqual(decodeOk(SampleConfig, { rate: 1, by: 'stream' }), { rate: 1, by: 'stream' });
  t.deepEqual(decodeErrors(SampleConfig, {}), ['config.rate: is required (number in (0, 1])']);
  t.deepEqual(decodeErrors(SampleConfig, { rate: 0 }), ['config.rate: must be greater than 0 and at most 1, got 0']);
  t.deepEqual(decodeErrors(SampleConfig, { rate: 1.5 }), ['config.rate: must be greater than 0 and at most 1, got 1.5']);
  t.deepEqual(decodeErrors(SampleConfig, { rate: -0.1 }), ['config.rate: must be greater than 0 and at most 1, got -0.1']);
  t.deepEqual(decodeErrors(SampleConfig, { rate: '0.5', by: 'pod' }), [
    'config.rate: expected number in (0, 1], got "0.5"',
    'config.by: expected entry | stream, got "pod"',
  ]);
});

test('decisions are deterministic: a replay keeps exactly the same entries', (t) => {
  const list = entries(2_000);
  const first = sampler({ rate: 0.3 });
  const second = sampler({ rate: 0.3 });
  const decisions = list.map((e) => first.apply(e));
  t.deepEqual(
    list.map((e) => first.apply(e)),
    decisions,
  );
  t.deepEqual(
    list.map((e) => second.apply({ ...e, labels: { ...e.labels } })),
    decisions,
  );
  t.true(decisions.every((d) => d === undefined || d === 'sampled_out'));
});

test('rate 0.5 over 10,000 entries keeps about half (and exactly the same number every release)', (t) => {
  const kept = keptCount({ rate: 0.5 }, entries(10_000));
  t.true(Math.abs(kept - 5_000) <= 300, `kept ${kept}`); // 6 standard deviations
  // Pinned: a different count means the hash changed, and replays after an upgrade would diverge.
  t.is(kept, KEPT_AT_HALF);
});

test('rate 0.1 and rate 1', (t) => {
  const list = entries(10_000);
  const kept = keptCount({ rate: 0.1 }, list);
  t.true(Math.abs(kept - 1_000) <= 180, `kept ${kept}`);
  t.is(keptCount({ rate: 1 }, list), 10_000);
});

test('the decision depends on labels, timestamp and message, not on label order', (t) => {
  const stage = sampler({ rate: 0.5 });
  const base = logEntry({ labels: { a: '1', b: '2' }, message: 'm' });
  t.is(stage.apply(logEntry({ labels: { b: '2', a: '1' }, message: 'm' })), stage.apply(base));
  const variants = [
    ...Array.from({ length: 64 }, (_, i) => ({ ...base, message: `m${i}` })),
    ...Array.from({ length: 64 }, (_, i) => ({ ...base, timestampNs: base.timestampNs + BigInt(i + 1) })),
    ...Array.from({ length: 64 }, (_, i) => ({ ...base, labels: { a: '1', b: `${i + 3}` } })),
  ];
  const decisions = variants.map((e) => stage.apply(e));
  for (const part of [decisions.slice(0, 64), decisions.slice(64, 128), decisions.slice(128)]) {
    t.true(part.includes(undefined) && part.includes('sampled_out'));
  }
});

test('by stream keeps or drops whole streams', (t) => {
  const list = entries(5_000, 500);
  const stage = sampler({ rate: 0.5, by: 'stream' });
  const byPod = new Map<string, Set<string | undefined>>();
  for (const e of list) {
    const pod = e.labels['pod']!;
    if (!byPod.has(pod)) byPod.set(pod, new Set());
    byPod.get(pod)!.add(stage.apply(e));
  }
  t.is(byPod.size, 500);
  t.true([...byPod.values()].every((decisions) => decisions.size === 1));
  const keptStreams = [...byPod.values()].filter((d) => d.has(undefined)).length;
  t.true(Math.abs(keptStreams - 250) <= 70, `kept ${keptStreams} streams`);
});
