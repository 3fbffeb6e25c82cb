/**
 * Hot-tier retention: deletes whole OpenSearch indices, never documents. An index
 * `<prefix>-<signal>-YYYY.MM.DD` (or `…YYYY.MM.DD.HH`) can only hold records of its UTC
 * day (hour), so it is deleted once its *newest possible* timestamp — the end of that
 * period — is older than now − hot. Nothing younger than the policy is ever deleted, and the
 * current (or a future) index never is; data lives at most one partition longer than the
 * policy. This is what Elasticsearch ILM and Loki's period tables do, and it is cheap:
 * dropping an index frees its disk at once, whereas delete-by-query on the partial index
 * would rewrite segments for documents the query runtime does not read anyway (it routes
 * ranges older than the hot window to S3).
 *
 * One elected replica runs it (platform/retention-election.ts), and it stays idempotent for
 * the moment of a hand-over: an index that is already gone answers 404 and is neither
 * counted nor an error, so the counters say what this replica removed.
 */
import type { Client } from '@opensearch-project/opensearch';
import type { Logger } from '../../common/log.js';
import type { Signal } from '../../model/types.js';
import type { RetentionMetrics } from '../retention-metrics.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export interface IndexInfo {
  index: string;
  /** Documents and bytes as OpenSearch reports them (undefined for a closed index). */
  docs?: number;
  bytes?: number;
}

/** The two OpenSearch calls retention makes; an interface so unit tests can fake them. */
export interface IndexAdmin {
  list(pattern: string): Promise<IndexInfo[]>;
  /** 'missing' when the index no longer exists (another replica deleted it). */
  delete(index: string): Promise<'deleted' | 'missing'>;
}

export function indexAdmin(client: Client): IndexAdmin {
  return {
    async list(pattern) {
      const response = await client.cat.indices({
        index: [pattern],
        format: 'json',
        bytes: 'b',
        h: ['index', 'docs.count', 'store.size'],
        expand_wildcards: 'all',
      } as never);
      const rows = response.body as unknown as { index: string; 'docs.count'?: string | null; 'store.size'?: string | null }[];
      return rows.map((r) => ({ index: r.index, docs: toNumber(r['docs.count']), bytes: toNumber(r['store.size']) }));
    },
    async delete(index) {
      try {
        await client.indices.delete({ index });
        return 'deleted';
      } catch (error) {
        if ((error as { meta?: { statusCode?: number } }).meta?.statusCode === 404) return 'missing';
        throw error;
      }
    },
  };
}

function toNumber(text: string | null | undefined): number | undefined {
  if (text === null || text === undefined || text === '') return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * The time span an index of `prefix` and `signal` can hold, from its name; undefined for any
 * name that is not exactly ours (so `team-logs-…` of a pipeline whose prefix is `team-logs`
 * is never mistaken for one of `team`'s).
 */
export function indexPeriod(prefix: string, signal: Signal, index: string): { startMs: number; endMs: number } | undefined {
  if (!index.startsWith(`${prefix}-${signal}-`)) return undefined;
  const m = /^(\d{4})\.(\d{2})\.(\d{2})(?:\.(\d{2}))?$/.exec(index.slice(prefix.length + signal.length + 2));
  if (!m) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const hour = m[4] === undefined ? undefined : Number(m[4]);
  const startMs = Date.UTC(year, month - 1, day, hour ?? 0);
  const d = new Date(startMs);
  // Date.UTC rolls 2026.02.30 over into March: such a name is not one we wrote.
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day || d.getUTCHours() !== (hour ?? 0))
    return undefined;
  return { startMs, endMs: startMs + (hour === undefined ? DAY_MS : HOUR_MS) };
}

export interface HotPassResult {
  indices: number;
  documents: number;
  bytes: number;
  errors: number;
}

export class OpenSearchRetention {
  constructor(
    private readonly admin: IndexAdmin,
    private readonly prefix: string,
    private readonly metrics: RetentionMetrics,
    private readonly log: Logger,
  ) {}

  /**
   * Deletes the signal's indices whose whole period ended at or before now − hotMs. hotMs 0
   * keeps forever. `proceed` is asked before each deletion: false (this replica lost the
   * retention role) ends the pass there.
   */
  async enforce(signal: Signal, hotMs: number, now = Date.now(), proceed: () => boolean = () => true): Promise<HotPassResult> {
    const result: HotPassResult = { indices: 0, documents: 0, bytes: 0, errors: 0 };
    if (hotMs <= 0) return result;
    const cutoff = now - hotMs;
    let indices: IndexInfo[];
    try {
      indices = await this.admin.list(`${this.prefix}-${signal}-*`);
    } catch (error) {
      this.fail(result, signal, 'list', error, {});
      return result;
    }
    const expired = indices
      .map((info) => ({ info, period: indexPeriod(this.prefix, signal, info.index) }))
      .filter(
        (x): x is { info: IndexInfo; period: { startMs: number; endMs: number } } => x.period !== undefined && x.period.endMs <= cutoff,
      )
      .sort((a, b) => a.period.startMs - b.period.startMs);
    for (const { info, period } of expired) {
      if (!proceed()) break;
      let outcome: 'deleted' | 'missing';
      try {
        outcome = await this.admin.delete(info.index);
      } catch (error) {
        this.fail(result, signal, 'delete', error, { index: info.index });
        continue;
      }
      if (outcome === 'missing') {
        this.log.debug({ index: info.index }, 'retention: index already gone (deleted by another replica or by hand); not counted');
        continue;
      }
      result.indices++;
      result.documents += info.docs ?? 0;
      result.bytes += info.bytes ?? 0;
      this.metrics.deleted('hot', signal, 'indices', 1);
      this.metrics.deleted('hot', signal, 'records', info.docs ?? 0);
      this.metrics.deleted('hot', signal, 'bytes', info.bytes ?? 0);
      this.log.info(
        {
          tier: 'hot',
          signal,
          index: info.index,
          newestPossible: new Date(period.endMs - 1).toISOString(),
          cutoff: new Date(cutoff).toISOString(),
          documents: info.docs,
          bytes: info.bytes,
        },
        'retention: deleted expired OpenSearch index',
      );
    }
    return result;
  }

  private fail(result: HotPassResult, signal: Signal, operation: string, error: unknown, context: Record<string, unknown>): void {
    result.errors++;
    this.metrics.error('hot', signal, operation);
    this.log.error(
      { err: error, tier: 'hot', signal, operation, ...context },
      `retention: OpenSearch ${operation} failed; retrying at the next pass`,
    );
  }
}
