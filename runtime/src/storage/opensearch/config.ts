/**
 * The `sinks.opensearch` section of the runtime config (the Sink resource's
 * `spec.opensearch`, docs/architecture.md §2a): codec, defaults and validation in one place.
 */
import * as t from 'io-ts';
import { checkedString, closed, NonEmptyString, optional, PositiveInt, section, withDefault } from '../../common/codecs.js';
import { SecretRef } from '../../common/secrets.js';

/**
 * What index names start with (`<prefix>-<signal>-<period>`): lower-case like every OpenSearch
 * index name, and short enough that the whole name stays far below its 255-byte limit. The
 * operator renders `<Sink indexPrefix>.<namespace>.<Pipeline name>`: none of the three may
 * hold a dot, so the dots keep two Pipelines of different namespaces from ever sharing an
 * index, a template or a read pattern.
 */
const IndexPrefix = checkedString('index prefix', (s) =>
  /^[a-z0-9]([-a-z0-9]|\.(?!\.)){0,198}[a-z0-9]$|^[a-z0-9]$/.test(s)
    ? undefined
    : `must be lower-case a-z, 0-9, "-" and single dots, start and end with a letter or digit, at most 200 characters; got ${JSON.stringify(s)}`,
);
/**
 * Size of one _bulk request when the config leaves it out; the Sink CRD's defaults and the
 * operator's rendering use the same values (through platform/index.ts).
 */
export const OPENSEARCH_BULK_DEFAULTS = { maxDocs: 5_000, maxBytes: 5 * 1024 * 1024 } as const;

export const OpenSearchSinkConfig = closed(
  'opensearch sink',
  {
    endpoints: t.array(NonEmptyString, 'list of URLs'),
    indexPrefix: IndexPrefix,
    /** One index per UTC day (default) or hour: retention deletes whole indices (storage/opensearch/retention.ts). */
    indexPartition: withDefault(t.keyof({ daily: null, hourly: null }, '"daily" or "hourly"'), 'daily'),
    username: optional(SecretRef),
    password: optional(SecretRef),
    caFile: optional(NonEmptyString),
    insecureSkipVerify: withDefault(t.boolean, false),
    /** One OpenSearch request fails (and the sink backs off, the query answers 503) after this long. */
    requestTimeoutMs: withDefault(PositiveInt, 30_000),
    bulk: section(
      closed('bulk settings', {
        maxDocs: withDefault(PositiveInt, OPENSEARCH_BULK_DEFAULTS.maxDocs),
        maxBytes: withDefault(PositiveInt, OPENSEARCH_BULK_DEFAULTS.maxBytes),
      }),
    ),
  },
  (v) => [
    ...(v.endpoints.length === 0 ? [{ key: 'endpoints', message: 'must list at least one URL' }] : []),
    ...v.endpoints
      .filter((e) => !/^https?:\/\/[^/]+/.test(e))
      .map((e) => ({ key: 'endpoints', message: `not an http(s) URL: ${JSON.stringify(e)}` })),
    ...((v.username === undefined) !== (v.password === undefined) ? [{ message: 'set both username and password, or neither' }] : []),
  ],
);

export type OpenSearchSinkSettings = t.TypeOf<typeof OpenSearchSinkConfig>;
