import test from 'ava';
import { bulkChunks } from './bulk.js';
import type { IndexedDoc } from './documents.js';

const doc = (i: number, message = `m${i}`): IndexedDoc => ({ index: 'p-logs-2026.11.27', id: `s-${i}`, doc: { message, n: i } });

test('each document is an action line and a source line, both valid JSON, ids and escapes kept', (t) => {
  const [chunk] = bulkChunks([doc(1, 'a "quoted"\nline'), doc(2)], 10, 1 << 20);
  const lines = chunk!.body.split('\n');
  t.is(lines.length, 5);
  t.is(lines[4], '');
  t.deepEqual(JSON.parse(lines[0]!), { index: { _index: 'p-logs-2026.11.27', _id: 's-1' } });
  t.deepEqual(JSON.parse(lines[1]!), { message: 'a "quoted"\nline', n: 1 });
  t.deepEqual(JSON.parse(lines[2]!), { index: { _index: 'p-logs-2026.11.27', _id: 's-2' } });
  t.deepEqual(chunk!.indices, [0, 1]);
});

test('chunks are bounded by count and by bytes; an oversized document goes alone; `only` selects', (t) => {
  const docs = Array.from({ length: 5 }, (_, i) => doc(i));
  t.deepEqual(
    bulkChunks(docs, 2, 1 << 20).map((c) => c.indices),
    [[0, 1], [2, 3], [4]],
  );
  const one = Buffer.byteLength(bulkChunks([docs[0]!], 1, 1 << 20)[0]!.body);
  t.deepEqual(
    bulkChunks(docs, 10, one * 2).map((c) => c.indices),
    [[0, 1], [2, 3], [4]],
  );
  t.deepEqual(
    bulkChunks([doc(0, 'x'.repeat(1000)), doc(1)], 10, 100).map((c) => c.indices),
    [[0], [1]],
  );
  t.deepEqual(
    bulkChunks(docs, 10, 1 << 20, [1, 3]).map((c) => c.indices),
    [[1, 3]],
  );
});
