/**
 * Which metric metadata this process published lately. Remote write 2.0 repeats a family's
 * type, help and unit in every series of every request, and 1.0 resends all of it every
 * minute: the bus needs each distinct one only now and then (its last_seen is then at most
 * `refreshMs` stale). Bounded: past `maxEntries` the oldest are forgotten (and published again).
 */
import { metadataVariantKey } from '../model/fingerprint.js';
import type { MetricMetadata } from '../model/types.js';

export class RecentMetadata {
  /** Key → when it was last published (ms); Map order is insertion order, oldest first. */
  private readonly published = new Map<string, number>();

  constructor(
    private readonly refreshMs = 5 * 60_000,
    private readonly maxEntries = 100_000,
  ) {}

  /** The items not published within refreshMs of `nowMs`. */
  due(metadata: readonly MetricMetadata[], nowMs: number): MetricMetadata[] {
    return metadata.filter((m) => {
      const at = this.published.get(metadataVariantKey(m));
      return at === undefined || nowMs - at >= this.refreshMs;
    });
  }

  /** Called once the bus made them durable. */
  remember(metadata: readonly MetricMetadata[], nowMs: number): void {
    for (const m of metadata) {
      const key = metadataVariantKey(m);
      this.published.delete(key);
      this.published.set(key, nowMs);
    }
    for (const key of this.published.keys()) {
      if (this.published.size <= this.maxEntries) break;
      this.published.delete(key);
    }
  }
}
