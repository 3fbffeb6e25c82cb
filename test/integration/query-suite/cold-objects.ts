/**
 * Writes a dataset into the S3 cold tier the way the S3 sink lays it out (runtime/src/
 * storage/s3/layout.ts, records.ts, object-index.ts): per signal, one object per UTC hour
 * with its index sidecar. Optionally a second copy of one hour's records under an
 * overlapping offset range and without a sidecar — what a crashed flush can leave — so the
 * reader's deduplication and its path for unindexed objects are exercised.
 */
import { hourStartOfNs, indexKey, objectKey, type PipelineLocation } from '../../../runtime/src/storage/s3/layout.js';
import { IndexBuilder } from '../../../runtime/src/storage/s3/object-index.js';
import { encodeLogRecord, encodeObjectBody, encodeSampleRecord, type EncodedRecord } from '../../../runtime/src/storage/s3/records.js';
import type { ObjectStore } from '../../../runtime/src/storage/s3/store.js';
import type { Dataset } from './dataset.js';

export async function writeColdObjects(
  store: ObjectStore,
  where: Omit<PipelineLocation, 'signal'>,
  data: Dataset,
  options: { duplicateFirstHour?: boolean } = {},
): Promise<number> {
  let objects = 0;
  for (const signal of ['logs', 'metrics'] as const) {
    const records: EncodedRecord[] = signal === 'logs' ? data.logs.map(encodeLogRecord) : data.samples.map(encodeSampleRecord);
    const hours = new Map<number, { records: EncodedRecord[]; first: number; last: number }>();
    records.forEach((r, offset) => {
      const hour = hourStartOfNs(r.timestampNs);
      const group = hours.get(hour) ?? { records: [], first: offset, last: offset };
      group.records.push(r);
      group.last = offset;
      hours.set(hour, group);
    });
    let first = true;
    for (const [hourStartMs, group] of hours) {
      const loc = { ...where, signal, hourStartMs, partition: 0, firstOffset: BigInt(group.first), lastOffset: BigInt(group.last) };
      const key = objectKey(loc);
      const body = await encodeObjectBody(group.records.map((r) => r.line));
      const index = new IndexBuilder();
      for (const r of group.records) index.add(r);
      await store.put(key, body, 'application/x-ndjson');
      const sidecar = index.build({
        signal,
        key,
        topic: `sextant.${where.namespace}.${where.pipeline}.${signal}`,
        partition: 0,
        firstOffset: loc.firstOffset,
        lastOffset: loc.lastOffset,
        bytes: body.length,
      });
      await store.put(indexKey(key), Buffer.from(JSON.stringify(sidecar)), 'application/json');
      objects++;
      if (first && options.duplicateFirstHour) {
        const copy = objectKey({ ...loc, lastOffset: loc.lastOffset + 1n });
        await store.put(copy, body, 'application/x-ndjson');
        objects++;
      }
      first = false;
    }
  }
  return objects;
}
