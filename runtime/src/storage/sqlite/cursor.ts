/** Opaque page cursors: the (timestamp, seq) position of the last entry returned. */
import type { Direction } from '../reader.js';

export interface Position {
  ts: bigint;
  seq: bigint;
}

export class CursorError extends Error {}

export function encodeCursor(direction: Direction, pos: Position): string {
  return Buffer.from(`${direction === 'forward' ? 'f' : 'b'}:${pos.ts}:${pos.seq}`).toString('base64url');
}

export function decodeCursor(cursor: string, direction: Direction): Position {
  const match = /^([fb]):(\d+):(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match) throw new CursorError('invalid cursor: pass the nextCursor of a previous reply unchanged');
  if ((match[1] === 'f') !== (direction === 'forward')) {
    throw new CursorError(`cursor was made for the other direction; pass direction=${match[1] === 'f' ? 'forward' : 'backward'}`);
  }
  return { ts: BigInt(match[2]!), seq: BigInt(match[3]!) };
}
