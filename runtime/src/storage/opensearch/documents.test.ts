import test from 'ava';
import { logRecordId, sampleRecordId, seriesFingerprint, streamFingerprint } from '../../model/fingerprint.js';
import { bulkChunks } from './bulk.js';
import {
  dailyIndex,
  indexTemplates,
  logDocument,
  metadataDocument,
  nsToIso,
  partitionIndex,
  readPatterns,
  sampleDocument,
} from './documents.js';

test('daily indices per signal, by the UTC day of the record', (t) => {
  t.is(dailyIndex('team-a', 'logs', Date.UTC(2026, 10, 26, 23, 59, 59)), 'team-a-logs-2026.11.26');
  t.is(dailyIndex('team-a', 'metrics', Date.UTC(2026, 0, 2)), 'team-a-metrics-2026.01.02');
});

test('hourly indices add the UTC hour; both name forms are what retention parses', (t) => {
  t.is(partitionIndex('team-a', 'logs', Date.UTC(2026, 10, 26, 23, 59, 59), 'hourly'), 'team-a-logs-2026.11.26.23');
  t.is(partitionIndex('team-a', 'metrics', Date.UTC(2026, 0, 2, 7), 'hourly'), 'team-a-metrics-2026.01.02.07');
  t.is(partitionIndex('team-a', 'logs', Date.UTC(2026, 10, 26, 23), 'daily'), 'team-a-logs-2026.11.26');
  t.is(
    logDocument('p', { timestampNs: 1764151200123456789n, labels: {}, message: 'm', fields: {} }, 'hourly').index,
    'p-logs-2025.11.26.10',
  );
});

test('nanosecond timestamps keep all nine digits', (t) => {
  t.is(nsToIso(1764151200123456789n), '2025-11-26T10:00:00.123456789Z');
  t.is(nsToIso(1764151200000000001n), '2025-11-26T10:00:00.000000001Z');
});

test('log and sample documents carry deterministic ids from the model', (t) => {
  const entry = { timestampNs: 1764151200123456789n, labels: { service: 'api' }, message: 'm', fields: { a: 1 } };
  const doc = logDocument('p', entry);
  t.is(doc.id, logRecordId(streamFingerprint(entry.labels), entry));
  t.is(doc.index, 'p-logs-2025.11.26');
  t.like(doc.doc, { '@timestamp': '2025-11-26T10:00:00.123456789Z', message: 'm', stream: streamFingerprint(entry.labels) });
  const sample = { name: 'up', labels: { job: 'a' }, timestampMs: 1764151200123, value: NaN };
  const s = sampleDocument('p', sample);
  t.is(s.id, sampleRecordId(seriesFingerprint('up', sample.labels), sample));
  t.like(s.doc, { value: null, special: 'NaN', name: 'up' });
});

test('templates map timestamps as date_nanos, labels as keywords, fields as flat_object', (t) => {
  const [logs, metrics] = indexTemplates('p');
  t.deepEqual(logs!.body.index_patterns, ['p-logs-*']);
  const props = (logs!.body.template as { mappings: { properties: Record<string, { type: string }> } }).mappings.properties;
  t.is(props['@timestamp']!.type, 'date_nanos');
  t.is(props.fields!.type, 'flat_object');
  t.deepEqual(metrics!.body.index_patterns, ['p-metrics-*']);
});

test('metadata: one index per prefix, one document per family and variant (a resend overwrites it)', (t) => {
  const m = { metric: 'up', type: 'gauge' as const, help: 'Up.', unit: '', timestampMs: 5 };
  const doc = metadataDocument('p', m);
  t.is(doc.index, 'p-metadata');
  t.is(metadataDocument('p', { ...m, timestampMs: 9 }).id, doc.id);
  t.not(metadataDocument('p', { ...m, help: 'Other.' }).id, doc.id);
  t.not(metadataDocument('p', { ...m, type: 'counter' }).id, doc.id);
  t.deepEqual(doc.doc, { metric: 'up', type: 'gauge', help: 'Up.', unit: '', last_seen: 5 });
  const template = indexTemplates('p').find((x) => x.name === 'p-metadata')!;
  t.deepEqual(template.body.index_patterns, ['p-metadata']);
  t.false(readPatterns('p', 'metrics').some((pattern) => new RegExp(`^${pattern.replace(/\*/g, '.*')}$`).test('p-metadata')));
});

test('bulk bodies are bounded by documents and by bytes', (t) => {
  const docs = Array.from({ length: 10 }, (_, i) => ({ index: 'i', id: String(i), doc: { m: 'x'.repeat(100) } }));
  t.deepEqual(
    bulkChunks(docs, 4, 1e9).map((c) => c.indices),
    [
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ],
  );
  const oneLine = Buffer.byteLength(bulkChunks(docs.slice(0, 1), 10, 1e9)[0]!.body);
  t.deepEqual(
    bulkChunks(docs, 100, oneLine * 3).map((c) => c.indices.length),
    [3, 3, 3, 1],
  );
  t.deepEqual(
    bulkChunks(docs, 100, 1e9, [7, 2]).map((c) => c.indices),
    [[7, 2]],
  );
  t.is(bulkChunks(docs, 100, 1).length, 10, 'a document over maxBytes still goes, alone');
});

/** OpenSearch's multi-target syntax: comma-free patterns, `-` excludes what earlier ones matched. */
function selects(patterns: string[], index: string): boolean {
  const matches = (pattern: string) => new RegExp(`^${pattern.replace(/[.]/g, '\\.').replace(/\*/g, '.*')}$`).test(index);
  let selected = false;
  for (const p of patterns) {
    if (p.startsWith('-')) selected &&= !matches(p.slice(1));
    else selected ||= matches(p);
  }
  return selected;
}

test('a reader selects its own daily and hourly indices, never those of a prefix extending it', (t) => {
  const at = Date.UTC(2026, 0, 2, 7);
  const prefixes = ['s.ns.api', 's.ns.api-logs', 's.ns.api-logs-2024', 's.ns.api-metrics', 's.ns.ap'];
  for (const reader of prefixes) {
    for (const writer of prefixes) {
      for (const signal of ['logs', 'metrics'] as const) {
        for (const partition of ['daily', 'hourly'] as const) {
          const index = partitionIndex(writer, signal, at, partition);
          t.is(selects(readPatterns(reader, 'logs'), index), writer === reader && signal === 'logs', `${reader} logs ∋ ${index}`);
        }
      }
    }
  }
});

test('templates that can match one index never tie in priority, and the longer prefix wins', (t) => {
  const prefixes = ['s.ns.api', 's.ns.api-logs', 's.ns.api-logs-2024', 's.ns.api-metrics', 's.ns.b', 's.ns.apx'];
  const templates = prefixes.flatMap((prefix) => indexTemplates(prefix).map((tpl) => ({ prefix, ...tpl })));
  for (const a of templates) {
    for (const b of templates) {
      if (a === b) continue;
      const [pa, pb] = [a.body.index_patterns as string[], b.body.index_patterns as string[]].map((p) => p[0]!.slice(0, -1));
      // `x*` and `y*` can match one name exactly when one of x, y starts the other.
      if (!pa!.startsWith(pb!) && !pb!.startsWith(pa!)) continue;
      t.not(a.body.priority, b.body.priority, `${a.name} / ${b.name}`);
      if (a.prefix.length > b.prefix.length) t.true((a.body.priority as number) > (b.body.priority as number), `${a.name} beats ${b.name}`);
    }
  }
});
