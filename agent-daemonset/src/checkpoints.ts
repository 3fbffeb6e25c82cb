/**
 * Checkpoints: for every file being read, its identity (device, inode and the first bytes
 * of its content, which tells a reused inode or a truncated file apart) and the offset up
 * to which the ingestion has answered 2xx. Persisted atomically (write a temporary file,
 * fsync, rename), coalescing writes that arrive while one is in progress.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface Checkpoint {
  dev: string;
  ino: string;
  /** Base64 of the first bytes of the file (up to HEAD_BYTES) when it was checkpointed. */
  head: string;
  path: string;
  offset: number;
}

export const HEAD_BYTES = 64;

interface CheckpointFile {
  version: 1;
  files: Checkpoint[];
}

export function identityKey(dev: string | bigint, ino: string | bigint): string {
  return `${dev}:${ino}`;
}

/** True when two heads can be the start of the same content (one is a prefix of the other). */
export function headsAgree(a: Buffer, b: Buffer): boolean {
  const n = Math.min(a.length, b.length);
  return a.subarray(0, n).equals(b.subarray(0, n));
}

export class CheckpointStore {
  private readonly file: string;
  private writing: Promise<void> | undefined;
  private again = false;
  writes = 0;

  constructor(
    stateDir: string,
    /** Returns the checkpoints to persist, read at the moment of writing. */
    private readonly snapshot: () => Checkpoint[],
  ) {
    this.file = path.join(stateDir, 'checkpoints.json');
  }

  /** Checkpoints from the last run, keyed by identity; none when the file is missing or damaged. */
  load(): Map<string, Checkpoint> {
    const out = new Map<string, Checkpoint>();
    let doc: CheckpointFile;
    try {
      doc = JSON.parse(fs.readFileSync(this.file, 'utf8')) as CheckpointFile;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return out;
      throw new Error(`cannot read checkpoints ${this.file}: ${(error as Error).message}`);
    }
    for (const c of doc.files ?? []) {
      if (typeof c.dev === 'string' && typeof c.ino === 'string' && Number.isInteger(c.offset)) out.set(identityKey(c.dev, c.ino), c);
    }
    return out;
  }

  /** Schedules a write; resolves when a write that started after this call has finished. */
  save(): Promise<void> {
    if (this.writing) {
      this.again = true;
      return this.writing;
    }
    this.writing = this.writeLoop().finally(() => {
      this.writing = undefined;
    });
    return this.writing;
  }

  private async writeLoop(): Promise<void> {
    do {
      this.again = false;
      const body = JSON.stringify({ version: 1, files: this.snapshot() } satisfies CheckpointFile);
      const tmp = `${this.file}.tmp`;
      const handle = await fs.promises.open(tmp, 'w');
      try {
        await handle.writeFile(body);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.promises.rename(tmp, this.file);
      this.writes++;
    } while (this.again);
  }
}
