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
    const text = `${JSON.stringify({ index: { _index: d.index, _id: d.id } })}\n${JSON.stringify(d.doc)}\n`;
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
