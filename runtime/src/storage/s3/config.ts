/**
 * The `sinks.s3` section of the runtime config (the Sink resource's `spec.s3`,
 * docs/architecture.md §2a): codec, defaults (S3_DEFAULTS, used by the codec only) and validation.
 */
import * as t from 'io-ts';
import { checkedString, closed, durationMs, NonEmptyString, optional, PositiveInt, section, withDefault } from '../../common/codecs.js';
import { SecretRef } from '../../common/secrets.js';

/** The S3 minimum for every part of a multipart upload but the last. */
export const MIN_PART_BYTES = 5 * 1024 * 1024;
const MAX_PART_BYTES = 5 * 1024 * 1024 * 1024;

export const S3_DEFAULTS = {
  region: 'us-east-1',
  prefix: '',
  forcePathStyle: false,
  requestChecksumCalculation: 'WHEN_SUPPORTED' as 'WHEN_SUPPORTED' | 'WHEN_REQUIRED',
  requestTimeoutMs: 30_000,
  /** Vector's aws_s3 batch defaults are 10 MB / 300 s; records are counted too. */
  flush: { maxBytes: 16 * 1024 * 1024, maxAgeMs: 300_000, maxRecords: 500_000 },
  multipart: { thresholdBytes: 16 * 1024 * 1024, partSizeBytes: 8 * 1024 * 1024 },
};

/** A duration such as "30s" or "5m", decoded to milliseconds. */
const Duration = durationMs('duration such as 30s or 5m', '30s or 5m');

/** S3 bucket naming rules (3-63 characters: lower-case letters, digits, dots, hyphens). */
const BucketName = checkedString('bucket name', (s) =>
  /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(s) && !s.includes('..')
    ? undefined
    : `must be an S3 bucket name (3-63 characters: a-z, 0-9, ".", "-"), got ${JSON.stringify(s)}`,
);

const KeyPrefix = checkedString('key prefix', (s) =>
  /^[\x20-\x7e]*$/.test(s) && !s.split('/').some((part, i, all) => part === '..' || (part === '' && i > 0 && i < all.length - 1))
    ? undefined
    : `must be printable ASCII without "//" or ".." segments, got ${JSON.stringify(s)}`,
);

export const S3SinkConfig = closed(
  's3 sink',
  {
    bucket: BucketName,
    region: withDefault(NonEmptyString, S3_DEFAULTS.region),
    /** Key prefix under which `<signal>/<namespace>/<pipeline>/…` is written. */
    prefix: withDefault(KeyPrefix, S3_DEFAULTS.prefix),
    /** Another S3-compatible server (MinIO, s3proxy, Ceph); default AWS for the region. */
    endpoint: optional(NonEmptyString),
    /** http://endpoint/bucket/key instead of http://bucket.endpoint/key (MinIO and most others). */
    forcePathStyle: withDefault(t.boolean, S3_DEFAULTS.forcePathStyle),
    /** Static credentials (both or neither); without them the SDK's default chain (env, IRSA, instance role). */
    accessKeyId: optional(SecretRef),
    secretAccessKey: optional(SecretRef),
    /**
     * WHEN_SUPPORTED (the SDK default) sends CRC32 checksums with every upload;
     * WHEN_REQUIRED only where the API demands one — for servers that refuse them.
     */
    requestChecksumCalculation: withDefault(
      t.keyof({ WHEN_SUPPORTED: null, WHEN_REQUIRED: null }, '"WHEN_SUPPORTED" or "WHEN_REQUIRED"'),
      S3_DEFAULTS.requestChecksumCalculation,
    ),
    /** One S3 request fails (and the sink backs off) after this long. */
    requestTimeoutMs: withDefault(PositiveInt, S3_DEFAULTS.requestTimeoutMs),
    /** A partition's buffer is written as soon as one limit is reached. */
    flush: section(
      closed('flush settings', {
        /** Uncompressed NDJSON bytes. */
        maxBytes: withDefault(PositiveInt, S3_DEFAULTS.flush.maxBytes),
        /** Time since the oldest buffered record arrived. */
        maxAge: withDefault(Duration, S3_DEFAULTS.flush.maxAgeMs),
        maxRecords: withDefault(PositiveInt, S3_DEFAULTS.flush.maxRecords),
      }),
    ),
    multipart: section(
      closed(
        'multipart settings',
        {
          /** Compressed objects at least this large go up in parts. */
          thresholdBytes: withDefault(PositiveInt, S3_DEFAULTS.multipart.thresholdBytes),
          partSizeBytes: withDefault(PositiveInt, S3_DEFAULTS.multipart.partSizeBytes),
        },
        (v) =>
          v.partSizeBytes < MIN_PART_BYTES || v.partSizeBytes > MAX_PART_BYTES
            ? [
                {
                  key: 'partSizeBytes',
                  message: `must be between ${MIN_PART_BYTES} (5 MiB, the S3 minimum) and 5 GiB, got ${v.partSizeBytes}`,
                },
              ]
            : [],
      ),
    ),
  },
  (v) => [
    ...(v.endpoint !== undefined && !/^https?:\/\/[^/]+/.test(v.endpoint)
      ? [{ key: 'endpoint', message: `not an http(s) URL: ${JSON.stringify(v.endpoint)}` }]
      : []),
    ...((v.accessKeyId === undefined) !== (v.secretAccessKey === undefined)
      ? [{ message: 'set both accessKeyId and secretAccessKey, or neither' }]
      : []),
    ...(v.flush.maxAge < 1000 ? [{ key: 'flush', message: 'maxAge must be at least 1s' }] : []),
  ],
);

export type S3SinkSettings = t.TypeOf<typeof S3SinkConfig>;
