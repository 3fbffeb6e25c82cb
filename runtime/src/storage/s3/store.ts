/**
 * The few S3 operations the cold tier needs, behind a small interface (ObjectStore) so the
 * sink's commit protocol can be unit-tested against an in-memory store, and one
 * implementation on @aws-sdk/client-s3 for every S3-compatible server.
 *
 * Uploads at or above the multipart threshold go up in parts (CreateMultipartUpload,
 * UploadPart, CompleteMultipartUpload); a failed one is aborted so no orphan parts are
 * billed. Every failure is an S3UnavailableError naming the operation and key; the sink turns
 * it into the runner's backoff.
 */
import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import type { S3SinkSettings } from './config.js';
import type { SecretReader } from '../../common/secrets.js';

export type S3Operation = 'head_bucket' | 'put_object' | 'upload_part' | 'get_object' | 'list_objects' | 'delete_object';

export class S3UnavailableError extends Error {
  constructor(
    readonly operation: S3Operation,
    readonly key: string,
    override readonly cause: unknown,
  ) {
    const e = cause as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    const status = e?.$metadata?.httpStatusCode;
    // HEAD answers carry no error body, so the SDK can only say "UnknownError".
    const detail =
      operation === 'head_bucket' && status === 404
        ? 'the bucket does not exist (create it, or correct sinks.s3.bucket)'
        : operation === 'head_bucket' && status === 403
          ? 'access denied (check the credentials and the bucket policy)'
          : (e?.message ?? String(cause));
    super(`S3 ${operation} ${key}: ${e?.name ?? 'Error'}${status ? ` (HTTP ${status})` : ''}: ${detail}`);
  }
}

export interface PutResult {
  /** 0 for a single PutObject. */
  parts: number;
}

export interface ObjectStore {
  readonly bucket: string;
  /** Resolves when the bucket is reachable and exists. */
  check(): Promise<void>;
  put(key: string, body: Buffer, contentType: string): Promise<PutResult>;
  /** The object's bytes, or undefined when it does not exist. */
  get(key: string): Promise<Buffer | undefined>;
  /** Every key under the prefix (paged through). */
  list(prefix: string): Promise<string[]>;
  delete(key: string): Promise<void>;
}

export interface MultipartSettings {
  thresholdBytes: number;
  partSizeBytes: number;
}

/** An S3 client from the sink settings: endpoint, path style, credentials by reference, checksum mode, timeouts. */
export function createS3Client(settings: S3SinkSettings, secrets: SecretReader): S3Client {
  const accessKeyId = secrets.read(settings.accessKeyId, 'sinks.s3.accessKeyId');
  const secretAccessKey = secrets.read(settings.secretAccessKey, 'sinks.s3.secretAccessKey');
  const config: S3ClientConfig = {
    region: settings.region,
    forcePathStyle: settings.forcePathStyle,
    requestChecksumCalculation: settings.requestChecksumCalculation,
    responseChecksumValidation: settings.requestChecksumCalculation,
    // One retry inside the SDK; the processor's backoff owns the long waits, so an outage is
    // noticed in seconds and shows on /readyz.
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 5_000, requestTimeout: settings.requestTimeoutMs },
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    ...(accessKeyId !== undefined && secretAccessKey !== undefined ? { credentials: { accessKeyId, secretAccessKey } } : {}),
  };
  const client = new S3Client(config);
  if (settings.requestChecksumCalculation === 'WHEN_REQUIRED') useContentMd5ForDeleteObjects(client);
  return client;
}

/**
 * DeleteObjects is the one call S3 requires an integrity header on. With WHEN_REQUIRED the
 * SDK still sends a CRC32 there, which servers without flexible checksums (the reason to pick
 * WHEN_REQUIRED) refuse; Content-MD5, the original S3 header, is what they accept.
 */
function useContentMd5ForDeleteObjects(client: S3Client): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const request = args.request as { headers?: Record<string, string>; body?: unknown } | undefined;
      if (context.commandName === 'DeleteObjectsCommand' && request?.headers && typeof request.body === 'string') {
        for (const name of Object.keys(request.headers)) {
          const lower = name.toLowerCase();
          if (lower.startsWith('x-amz-checksum-') || lower === 'x-amz-sdk-checksum-algorithm') delete request.headers[name];
        }
        request.headers['content-md5'] = createHash('md5').update(request.body).digest('base64');
      }
      return next(args);
    },
    // after the checksum middleware of the same step added its header, before signing
    { step: 'build', name: 'sextantDeleteObjectsContentMd5', priority: 'low' },
  );
}

export class S3ObjectStore implements ObjectStore {
  constructor(
    private readonly client: S3Client,
    readonly bucket: string,
    private readonly multipart: MultipartSettings,
  ) {}

  async check(): Promise<void> {
    await this.call('head_bucket', this.bucket, () => this.client.send(new HeadBucketCommand({ Bucket: this.bucket })));
  }

  async put(key: string, body: Buffer, contentType: string): Promise<PutResult> {
    if (body.length < this.multipart.thresholdBytes) {
      await this.call('put_object', key, () =>
        this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType })),
      );
      return { parts: 0 };
    }
    return this.putMultipart(key, body, contentType);
  }

  private async putMultipart(key: string, body: Buffer, contentType: string): Promise<PutResult> {
    const created = await this.call('put_object', key, () =>
      this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, ContentType: contentType })),
    );
    const uploadId = created.UploadId;
    if (!uploadId) throw new S3UnavailableError('put_object', key, new Error('CreateMultipartUpload answered without an UploadId'));
    try {
      const parts: { ETag: string; PartNumber: number }[] = [];
      const size = this.multipart.partSizeBytes;
      for (let offset = 0, n = 1; offset < body.length; offset += size, n++) {
        const chunk = body.subarray(offset, Math.min(offset + size, body.length));
        const answer = await this.call('upload_part', key, () =>
          this.client.send(new UploadPartCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber: n, Body: chunk })),
        );
        parts.push({ ETag: answer.ETag ?? '', PartNumber: n });
      }
      await this.call('put_object', key, () =>
        this.client.send(
          new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }),
        ),
      );
      return { parts: parts.length };
    } catch (error) {
      // Best effort: a server that is down now cannot abort either; lifecycle rules for
      // incomplete uploads clean up what is left.
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId })).catch(() => undefined);
      throw error;
    }
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      const answer = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return Buffer.from((await answer.Body?.transformToByteArray()) ?? []);
    } catch (error) {
      const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) return undefined;
      throw new S3UnavailableError('get_object', key, error);
    }
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.call('list_objects', prefix, () =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token })),
      );
      for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  async delete(key: string): Promise<void> {
    await this.call('delete_object', key, () => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })));
  }

  private async call<T>(operation: S3Operation, key: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof S3UnavailableError) throw error;
      throw new S3UnavailableError(operation, key, error);
    }
  }
}
