/**
 * Cold-tier retention: removes S3 objects (and their `.index.json` sidecars) whose hour
 * partition ended at or before now − cold. Two mechanisms, because they fail differently:
 *
 * - **Sweeper** (authoritative, exact to the hour): lists the pipeline's `dt=` day prefixes
 *   with a delimiter; a day that ended before the cutoff goes whole, the day containing the
 *   cutoff goes hour by hour. Keys are removed with DeleteObjects in batches of 1000,
 *   sidecars before data objects so a reader never finds a sidecar whose object is gone.
 *   `_journal/` is never touched (layout.ts: it is not data and never grows). Multipart
 *   uploads left in an expired hour by a crashed writer (older than ABANDONED_UPLOAD_MS)
 *   are aborted: they never show in object listings, yet their parts are stored and billed.
 * - **Bucket lifecycle rule** (backstop, where the server supports it): expires everything
 *   under `<pipeline prefix>dt=` — a literal key prefix, so `_journal/` stays out — after
 *   ceil(cold) + 1 days. Lifecycle counts from an object's *creation*, which can precede the
 *   end of its records' hour (late flushes, future skew), hence the extra day; it keeps the
 *   bucket bounded when no processor runs and aborts abandoned multipart uploads. The rule
 *   is merged into the bucket's configuration (other rules are kept) and removed again when
 *   the policy no longer asks for it. Servers without lifecycle support (s3proxy answers
 *   501 NotImplemented) and credentials without the lifecycle permissions (403) are detected
 *   once and logged once; the sweeper alone then enforces.
 *
 * One elected replica sweeps (platform/retention-election.ts). The counters count the keys
 * this pass listed and S3 did not refuse; DeleteObjects reports a key that is already gone
 * as deleted, so only one sweeper at a time keeps the sum over replicas exact (deletes stay
 * idempotent for the moment of a hand-over).
 */
import {
  AbortMultipartUploadCommand,
  DeleteBucketLifecycleCommand,
  DeleteObjectsCommand,
  GetBucketLifecycleConfigurationCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutBucketLifecycleConfigurationCommand,
  type LifecycleRule,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Logger } from '../../common/log.js';
import type { Signal } from '../../model/types.js';
import type { RetentionMetrics } from '../retention-metrics.js';
import { INDEX_SUFFIX, pipelinePrefix, type PipelineLocation } from './layout.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** S3's limit of keys per DeleteObjects request. */
export const DELETE_BATCH = 1000;
/**
 * A multipart upload in an expired partition is aborted once it is this old: by then its
 * writer has certainly given up (the sink aborts its own failures; a crashed one cannot),
 * while a young one may be a live write of late data that aborting would only make retry.
 */
export const ABANDONED_UPLOAD_MS = HOUR_MS;

export interface ListedObject {
  key: string;
  size: number;
}

export interface ListedUpload {
  key: string;
  uploadId: string;
  initiatedMs: number;
}

/** The S3 calls retention makes; an interface so unit tests can fake them. */
export interface BucketAdmin {
  /** Common prefixes one level below `prefix` (delimiter "/"), every page. */
  listPrefixes(prefix: string): Promise<string[]>;
  /** Every key below `prefix`, every page. */
  listObjects(prefix: string): Promise<ListedObject[]>;
  /** One DeleteObjects request (at most DELETE_BATCH keys); the keys S3 refused, with why. */
  deleteObjects(keys: string[]): Promise<{ key: string; reason: string }[]>;
  /** Multipart uploads in progress below `prefix`, every page. */
  listUploads(prefix: string): Promise<ListedUpload[]>;
  /** Aborts one upload; one that is already gone is not an error. */
  abortUpload(key: string, uploadId: string): Promise<void>;
  /** The bucket's lifecycle rules ([] when it has none); throws LifecycleUnsupported when the API cannot be used. */
  getLifecycle(): Promise<LifecycleRule[]>;
  /** Replaces the bucket's lifecycle rules ([] deletes the configuration). */
  putLifecycle(rules: LifecycleRule[]): Promise<void>;
}

export class LifecycleUnsupported extends Error {}

interface S3ErrorLike {
  name?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
}

/**
 * Why the lifecycle API cannot be used, or undefined. Besides servers without it (501), a
 * credential without s3:GetLifecycleConfiguration / s3:PutLifecycleConfiguration (403) is
 * common and legitimate: the rule is only a backstop, so both mean "sweeper alone".
 */
function lifecycleUnavailable(error: unknown): string | undefined {
  const e = error as S3ErrorLike;
  if (e.name === 'NotImplemented' || e.Code === 'NotImplemented' || e.$metadata?.httpStatusCode === 501) {
    return `not implemented by the server: ${(error as Error).message}`;
  }
  if (e.name === 'AccessDenied' || e.$metadata?.httpStatusCode === 403) {
    return `access denied (grant s3:GetLifecycleConfiguration and s3:PutLifecycleConfiguration to use it): ${(error as Error).message}`;
  }
  return undefined;
}

/**
 * `client` must send DeleteObjects with a checksum the server accepts (the S3 sink's client
 * factory handles servers that only take Content-MD5).
 */
export function bucketAdmin(client: S3Client, bucket: string): BucketAdmin {
  const pages = async <T>(
    prefix: string,
    delimiter: string | undefined,
    take: (page: { Contents?: { Key?: string; Size?: number }[]; CommonPrefixes?: { Prefix?: string }[] }) => T[],
  ): Promise<T[]> => {
    const out: T[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: delimiter, ContinuationToken: token }),
      );
      out.push(...take(page));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return out;
  };
  return {
    listPrefixes: (prefix) => pages(prefix, '/', (p) => (p.CommonPrefixes ?? []).flatMap((c) => (c.Prefix ? [c.Prefix] : []))),
    listObjects: (prefix) =>
      pages(prefix, undefined, (p) => (p.Contents ?? []).flatMap((c) => (c.Key ? [{ key: c.Key, size: c.Size ?? 0 }] : []))),
    async deleteObjects(keys) {
      const response = await client.send(
        new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } }),
      );
      return (response.Errors ?? []).map((e) => ({ key: e.Key ?? '?', reason: `${e.Code ?? 'Error'}: ${e.Message ?? 'refused'}` }));
    },
    async listUploads(prefix) {
      const out: ListedUpload[] = [];
      let keyMarker: string | undefined;
      let uploadIdMarker: string | undefined;
      for (;;) {
        const page = await client.send(
          new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }),
        );
        for (const u of page.Uploads ?? []) {
          if (u.Key && u.UploadId) out.push({ key: u.Key, uploadId: u.UploadId, initiatedMs: u.Initiated?.getTime() ?? 0 });
        }
        if (!page.IsTruncated) return out;
        keyMarker = page.NextKeyMarker;
        uploadIdMarker = page.NextUploadIdMarker;
      }
    },
    async abortUpload(key, uploadId) {
      try {
        await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
      } catch (error) {
        if ((error as S3ErrorLike).name !== 'NoSuchUpload') throw error;
      }
    },
    async getLifecycle() {
      try {
        const response = await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }));
        return response.Rules ?? [];
      } catch (error) {
        if ((error as S3ErrorLike).name === 'NoSuchLifecycleConfiguration') return [];
        const unavailable = lifecycleUnavailable(error);
        if (unavailable !== undefined) throw new LifecycleUnsupported(unavailable);
        throw error;
      }
    },
    async putLifecycle(rules) {
      try {
        if (rules.length === 0) await client.send(new DeleteBucketLifecycleCommand({ Bucket: bucket }));
        else await client.send(new PutBucketLifecycleConfigurationCommand({ Bucket: bucket, LifecycleConfiguration: { Rules: rules } }));
      } catch (error) {
        const unavailable = lifecycleUnavailable(error);
        if (unavailable !== undefined) throw new LifecycleUnsupported(unavailable);
        throw error;
      }
    },
  };
}

/** Start of the UTC day named by a `dt=YYYY-MM-DD/` prefix segment; undefined for anything else. */
export function dayOf(segment: string): number | undefined {
  const m = /^dt=(\d{4})-(\d{2})-(\d{2})\/$/.exec(segment);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return new Date(ms).toISOString().slice(0, 10) === `${m[1]}-${m[2]}-${m[3]}` ? ms : undefined;
}

/** The hour (0–23) named by an `hour=HH/` prefix segment; undefined for anything else. */
export function hourOf(segment: string): number | undefined {
  const m = /^hour=(\d{2})\/$/.exec(segment);
  const h = m ? Number(m[1]) : NaN;
  return h >= 0 && h <= 23 ? h : undefined;
}

/** End of the hour partition of a key below `base` (`dt=…/hour=…/…`); undefined for any other key. */
export function partitionEnd(base: string, key: string): number | undefined {
  if (!key.startsWith(base)) return undefined;
  const [day, hour] = key.slice(base.length).split('/');
  const dayStart = day === undefined ? undefined : dayOf(`${day}/`);
  const h = hour === undefined ? undefined : hourOf(`${hour}/`);
  return dayStart === undefined || h === undefined ? undefined : dayStart + (h + 1) * HOUR_MS;
}

/** The ID of the lifecycle rule of one pipeline and signal (stable, so it can be found and replaced). */
export function lifecycleRuleId(loc: PipelineLocation): string {
  return `sextant:${loc.namespace}/${loc.pipeline}/${loc.signal}`;
}

/** The lifecycle rule for `loc` with cold retention `coldMs` (see the module comment for the extra day). */
export function lifecycleRule(loc: PipelineLocation, coldMs: number): LifecycleRule {
  return {
    ID: lifecycleRuleId(loc),
    Status: 'Enabled',
    Filter: { Prefix: `${pipelinePrefix(loc)}dt=` },
    Expiration: { Days: Math.ceil(coldMs / DAY_MS) + 1 },
    AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
  };
}

/**
 * The bucket's rules with ours set to `wanted` (undefined: removed), others untouched;
 * undefined when nothing changes.
 */
export function mergeLifecycle(current: LifecycleRule[], id: string, wanted: LifecycleRule | undefined): LifecycleRule[] | undefined {
  const existing = current.find((r) => r.ID === id);
  if (wanted === undefined ? existing === undefined : existing !== undefined && sameRule(existing, wanted)) return undefined;
  const others = current.filter((r) => r.ID !== id);
  return wanted === undefined ? others : [...others, wanted];
}

function sameRule(a: LifecycleRule, b: LifecycleRule): boolean {
  return (
    a.Status === b.Status &&
    a.Filter?.Prefix === b.Filter?.Prefix &&
    a.Expiration?.Days === b.Expiration?.Days &&
    a.AbortIncompleteMultipartUpload?.DaysAfterInitiation === b.AbortIncompleteMultipartUpload?.DaysAfterInitiation
  );
}

export interface ColdPassResult {
  objects: number;
  indexObjects: number;
  bytes: number;
  /** Abandoned multipart uploads aborted. */
  uploads: number;
  errors: number;
}

export interface S3RetentionTarget {
  /** The S3 sink's key prefix (layout.ts). */
  prefix: string;
  namespace: string;
  pipeline: string;
}

export class S3Retention {
  /** undefined until the first attempt; false once the lifecycle API proved unusable (501, or 403); sticky until restart. */
  private lifecycleSupported: boolean | undefined;
  private unsupportedReason = '';
  private unsupportedLogged = false;

  constructor(
    private readonly admin: BucketAdmin,
    private readonly target: S3RetentionTarget,
    private readonly metrics: RetentionMetrics,
    private readonly log: Logger,
  ) {}

  /** True/false once known whether the server supports lifecycle rules. */
  get lifecycle(): boolean | undefined {
    return this.lifecycleSupported;
  }

  /**
   * Puts (coldMs > 0) or removes (coldMs 0) this pipeline's lifecycle rule for `signal`.
   * Called every pass, so a rule another writer dropped from the bucket comes back.
   */
  async reconcileLifecycle(signal: Signal, coldMs: number): Promise<void> {
    if (this.lifecycleSupported === false) return this.noteUnsupported(coldMs);
    const loc = this.location(signal);
    const id = lifecycleRuleId(loc);
    try {
      const current = await this.admin.getLifecycle();
      this.lifecycleSupported = true;
      const next = mergeLifecycle(current, id, coldMs > 0 ? lifecycleRule(loc, coldMs) : undefined);
      if (next === undefined) return;
      await this.admin.putLifecycle(next);
      this.log.info(
        { tier: 'cold', signal, rule: id, expirationDays: coldMs > 0 ? Math.ceil(coldMs / DAY_MS) + 1 : undefined },
        coldMs > 0 ? 'retention: put bucket lifecycle rule' : 'retention: removed bucket lifecycle rule',
      );
    } catch (error) {
      if (error instanceof LifecycleUnsupported) {
        this.lifecycleSupported = false;
        this.unsupportedReason = error.message;
        this.noteUnsupported(coldMs);
        return;
      }
      this.metrics.error('cold', signal, 'lifecycle');
      this.log.error(
        { err: error, tier: 'cold', signal, rule: id },
        'retention: cannot configure the bucket lifecycle rule; retrying at the next pass',
      );
    }
  }

  /** Logs once — when a policy actually wants a rule — that the sweeper works alone. */
  private noteUnsupported(coldMs: number): void {
    if (coldMs <= 0 || this.unsupportedLogged) return;
    this.unsupportedLogged = true;
    this.log.warn(
      { tier: 'cold', reason: this.unsupportedReason },
      'retention: cannot use bucket lifecycle rules; the sweeper alone enforces cold retention',
    );
  }

  /**
   * Deletes the signal's hour partitions that ended at or before now − coldMs. coldMs 0 keeps
   * forever. `proceed` is asked before each DeleteObjects batch and abort: false (this replica
   * lost the retention role) ends the sweep there, so the new runner does not list keys this
   * one is about to delete and both count them.
   */
  async sweep(signal: Signal, coldMs: number, now = Date.now(), proceed: () => boolean = () => true): Promise<ColdPassResult> {
    const result: ColdPassResult = { objects: 0, indexObjects: 0, bytes: 0, uploads: 0, errors: 0 };
    if (coldMs <= 0) return result;
    const cutoff = now - coldMs;
    const base = pipelinePrefix(this.location(signal));
    const days = await this.attempt(result, signal, 'list', { prefix: base }, () => this.admin.listPrefixes(base));
    for (const dayPrefix of days ?? []) {
      if (!proceed()) break;
      const dayStart = dayOf(dayPrefix.slice(base.length));
      // `_journal/` and anything else that is not a day partition is left alone.
      if (dayStart === undefined || dayStart >= cutoff) continue;
      if (dayStart + DAY_MS <= cutoff) {
        await this.deletePartition(result, signal, dayPrefix, dayStart + DAY_MS, cutoff, proceed);
        continue;
      }
      // The day that contains the cutoff: hour by hour.
      const hours = await this.attempt(result, signal, 'list', { prefix: dayPrefix }, () => this.admin.listPrefixes(dayPrefix));
      for (const hourPrefix of hours ?? []) {
        const hour = hourOf(hourPrefix.slice(dayPrefix.length));
        if (hour === undefined) continue;
        const end = dayStart + (hour + 1) * HOUR_MS;
        if (end <= cutoff) await this.deletePartition(result, signal, hourPrefix, end, cutoff, proceed);
      }
    }
    await this.abortAbandonedUploads(result, signal, base, cutoff, now, proceed);
    return result;
  }

  /**
   * Uploads never show in object listings, so they are listed for the whole pipeline prefix
   * (usually none): the ones in an expired partition and older than ABANDONED_UPLOAD_MS go.
   */
  private async abortAbandonedUploads(
    result: ColdPassResult,
    signal: Signal,
    base: string,
    cutoff: number,
    now: number,
    proceed: () => boolean,
  ): Promise<void> {
    if (!proceed()) return;
    const uploads = await this.attempt(result, signal, 'list_uploads', { prefix: base }, () => this.admin.listUploads(base));
    for (const upload of uploads ?? []) {
      if (!proceed()) return;
      const end = partitionEnd(base, upload.key);
      if (end === undefined || end > cutoff || upload.initiatedMs > now - ABANDONED_UPLOAD_MS) continue;
      const done = await this.attempt(result, signal, 'abort_upload', { key: upload.key }, async () => {
        await this.admin.abortUpload(upload.key, upload.uploadId);
        return true;
      });
      if (!done) continue;
      result.uploads++;
      this.metrics.deleted('cold', signal, 'uploads', 1);
      this.log.info(
        { tier: 'cold', signal, key: upload.key, initiated: new Date(upload.initiatedMs).toISOString() },
        'retention: aborted abandoned multipart upload in an expired partition',
      );
    }
  }

  private location(signal: Signal): PipelineLocation {
    return { prefix: this.target.prefix, signal, namespace: this.target.namespace, pipeline: this.target.pipeline };
  }

  /** Deletes every key below `prefix` (a day or hour partition that ended at `endMs`). */
  private async deletePartition(
    result: ColdPassResult,
    signal: Signal,
    prefix: string,
    endMs: number,
    cutoff: number,
    proceed: () => boolean,
  ): Promise<void> {
    const listed = await this.attempt(result, signal, 'list', { prefix }, () => this.admin.listObjects(prefix));
    if (listed === undefined || listed.length === 0) return;
    // Sidecars first: a reader that finds a sidecar expects its object (object-index.ts).
    const ordered = [...listed.filter((o) => o.key.endsWith(INDEX_SUFFIX)), ...listed.filter((o) => !o.key.endsWith(INDEX_SUFFIX))];
    const done = { objects: 0, indexObjects: 0, bytes: 0 };
    for (let i = 0; i < ordered.length; i += DELETE_BATCH) {
      if (!proceed()) break;
      const batch = ordered.slice(i, i + DELETE_BATCH);
      const refused = await this.attempt(result, signal, 'delete', { prefix, keys: batch.length }, () =>
        this.admin.deleteObjects(batch.map((o) => o.key)),
      );
      if (refused === undefined) continue;
      const failed = new Set(refused.map((r) => r.key));
      if (refused.length > 0) {
        result.errors += refused.length;
        for (let k = 0; k < refused.length; k++) this.metrics.error('cold', signal, 'delete');
        this.log.error(
          { tier: 'cold', signal, prefix, refused: refused.length, first: refused[0] },
          'retention: S3 refused to delete some objects; retrying at the next pass',
        );
      }
      for (const o of batch) {
        if (failed.has(o.key)) continue;
        if (o.key.endsWith(INDEX_SUFFIX)) done.indexObjects++;
        else done.objects++;
        done.bytes += o.size;
      }
    }
    result.objects += done.objects;
    result.indexObjects += done.indexObjects;
    result.bytes += done.bytes;
    this.metrics.deleted('cold', signal, 'objects', done.objects);
    this.metrics.deleted('cold', signal, 'index_objects', done.indexObjects);
    this.metrics.deleted('cold', signal, 'bytes', done.bytes);
    if (done.objects + done.indexObjects > 0) {
      this.log.info(
        {
          tier: 'cold',
          signal,
          partition: prefix,
          newestPossible: new Date(endMs - 1).toISOString(),
          cutoff: new Date(cutoff).toISOString(),
          ...done,
        },
        'retention: deleted expired S3 partition',
      );
    }
  }

  private async attempt<T>(
    result: ColdPassResult,
    signal: Signal,
    operation: string,
    context: Record<string, unknown>,
    fn: () => Promise<T>,
  ): Promise<T | undefined> {
    try {
      return await fn();
    } catch (error) {
      result.errors++;
      this.metrics.error('cold', signal, operation);
      this.log.error(
        { err: error, tier: 'cold', signal, operation, ...context },
        `retention: S3 ${operation} failed; retrying at the next pass`,
      );
      return undefined;
    }
  }
}
