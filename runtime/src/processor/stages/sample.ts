/**
 * `sample` stage: keeps a fraction `rate` of entries. The decision is a hash of the stream
 * (sorted label set) + timestamp + message — not a random draw — so a replayed batch keeps
 * exactly the same entries (docs/architecture.md §3: replays must converge on the same stored records).
 * `by: stream` hashes the labels only, keeping or dropping whole streams.
 */
import * as t from 'io-ts';
import type { Labels } from '../../model/types.js';
import { closed, messageFailure, withDefault } from '../../common/codecs.js';
import { Fnv1a64 } from '../hash.js';
import type { Stage } from '../stage.js';

export const SampleRate = new t.Type<number, number, unknown>(
  'number in (0, 1]',
  (u): u is number => typeof u === 'number' && u > 0 && u <= 1,
  (u, c) => {
    if (typeof u !== 'number' || Number.isNaN(u)) return t.failure(u, c);
    return u > 0 && u <= 1 ? t.success(u) : t.failures([messageFailure(u, c, `must be greater than 0 and at most 1, got ${u}`)]);
  },
  t.identity,
);

export const SampleConfig = closed('sample config', {
  rate: SampleRate,
  by: withDefault(t.keyof({ entry: null, stream: null }, 'entry | stream'), 'entry'),
});
export type SampleConfig = t.TypeOf<typeof SampleConfig>;

export const SAMPLE_DROP_REASON = 'sampled_out';

/** Bytes that never occur in UTF-8, so they separate hashed strings unambiguously. */
const PAIR_SEPARATOR = 0xfe;
const PART_SEPARATOR = 0xff;

export function createSampleStage(config: SampleConfig): Stage {
  // Keep when the 32-bit hash falls below rate·2^32; rate 1 keeps everything.
  const threshold = config.rate * 4294967296;
  const byStream = config.by === 'stream';
  const hash = new Fnv1a64(); // reused: apply is synchronous, so entries never interleave
  return {
    type: 'sample',
    mutates: false,
    apply(entry) {
      hash.reset();
      hashLabels(hash, entry.labels);
      if (!byStream) {
        hash.byte(PART_SEPARATOR).string(entry.timestampNs.toString()).byte(PART_SEPARATOR).string(entry.message);
      }
      return hash.mixed32() < threshold ? undefined : SAMPLE_DROP_REASON;
    },
  };
}

function hashLabels(hash: Fnv1a64, labels: Labels): void {
  for (const name of Object.keys(labels).sort()) {
    hash
      .string(name)
      .byte(PAIR_SEPARATOR)
      .string(labels[name] ?? '')
      .byte(PAIR_SEPARATOR);
  }
}
