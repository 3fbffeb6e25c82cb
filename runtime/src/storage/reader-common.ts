/**
 * Pieces the OpenSearch, S3 and tiered readers share: the envelope of their page cursors and
 * the label names/values of a set of streams or series, and metric metadata grouped by family.
 */
import type { Labels, MetricMetadata } from '../model/types.js';
import type { Direction, FamilyMetadata, FamilyMetadataQuery } from './reader.js';
import { CursorError } from './sqlite/cursor.js';

/**
 * base64url of `<tag>:<f|b>:<body>`. The tag keeps one store's cursor from being read as
 * another's; the direction is checked on decoding, as a cursor only continues its own order.
 */
export function encodeTaggedCursor(tag: string, direction: Direction, body: string): string {
  return Buffer.from(`${tag}:${direction === 'forward' ? 'f' : 'b'}:${body}`).toString('base64url');
}

/** The groups of `body` (matched whole) in a cursor from encodeTaggedCursor with this tag. */
export function decodeTaggedCursor(cursor: string, tag: string, direction: Direction, body: RegExp): string[] {
  const m = new RegExp(`^${tag}:([fb]):(?:${body.source})$`).exec(Buffer.from(cursor, 'base64url').toString());
  if (!m) throw new CursorError('invalid cursor: pass the nextCursor of a previous reply unchanged');
  if ((m[1] === 'f') !== (direction === 'forward')) {
    throw new CursorError(`cursor was made for the other direction; pass direction=${m[1] === 'f' ? 'forward' : 'backward'}`);
  }
  return m.slice(2);
}

export function labelNames(sets: Labels[]): string[] {
  const names = new Set<string>();
  for (const s of sets) for (const name in s) names.add(name);
  return [...names].sort();
}

export function labelValues(name: string, sets: Labels[]): string[] {
  const values = new Set<string>();
  for (const s of sets) {
    const value = s[name];
    if (value !== undefined) values.add(value);
  }
  return [...values].sort();
}

/**
 * Stored variants (each stamped with when it was last received) of any order into
 * /api/v1/metadata's map: families in name order, each one's metadata newest first, cut to
 * `limit` families and `limitPerMetric` entries each.
 */
export function groupFamilyMetadata(rows: readonly MetricMetadata[], query: FamilyMetadataQuery): FamilyMetadata {
  const sorted = [...rows].sort((a, b) => (a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : b.timestampMs - a.timestampMs));
  const limit = query.limit ?? Infinity;
  const perMetric = query.limitPerMetric ?? Infinity;
  const out: FamilyMetadata = {};
  let families = 0;
  for (const row of sorted) {
    if (query.metric !== undefined && row.metric !== query.metric) continue;
    let list = out[row.metric];
    if (!list) {
      if (families >= limit) break;
      families++;
      list = out[row.metric] = [];
    }
    if (list.length >= perMetric) continue;
    list.push({ type: row.type, help: row.help, unit: row.unit });
  }
  return out;
}
