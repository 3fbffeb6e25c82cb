/** Splits documents into _bulk request bodies bounded by document count and bytes. */
import type { IndexedDoc } from './documents.js';

export interface BulkChunk {
  /** Positions of the chunk's documents in the input. */
  indices: number[];
  /** NDJSON body: an action line and a source line per document. */
  body: string;
}

export function bulkChunks(docs: readonly IndexedDoc[], maxDocs: number, maxBytes: number, only?: readonly number[]): BulkChunk[] {
  const chunks: BulkChunk[] = [];
  let indices: number[] = [];
  let lines: string[] = [];
  let bytes = 0;
  for (const i of only ?? docs.map((_, i) => i)) {
    const d = docs[i]!;
    // The action line by concatenation: two small objects per document fewer for the GC.
    const text = `{"index":{"_index":${JSON.stringify(d.index)},"_id":${JSON.stringify(d.id)}}}\n${JSON.stringify(d.doc)}\n`;
    const size = Buffer.byteLength(text);
    // A single document larger than maxBytes still goes alone (the server decides).
    if (indices.length > 0 && (indices.length >= maxDocs || bytes + size > maxBytes)) {
      chunks.push({ indices, body: lines.join('') });
      indices = [];
      lines = [];
      bytes = 0;
    }
    indices.push(i);
    lines.push(text);
    bytes += size;
  }
  if (indices.length > 0) chunks.push({ indices, body: lines.join('') });
  return chunks;
}

/**
 * The `filter_path` of our _bulk requests: each item keeps only its status and error (the
 * per-item handling needs nothing else). The full answer repeats index, id, version, shards
 * and sequence numbers for every document — about ten times the bytes, which OpenSearch
 * serialises and the client parses on the same cores as the indexing.
 */
export const BULK_FILTER_PATH = 'items.*.status,items.*.error';
