/**
 * Secrets by reference: a config document names an env variable or a file, never the value
 * (docs/architecture.md §2a). SecretReader reads them and collects every missing one, with
 * its path, so a start-up reports them all at once.
 */
import fs from 'node:fs';
import * as t from 'io-ts';
import { checkedString, closed, NonEmptyString, optional } from './codecs.js';
import { ConfigError } from './config-error.js';

const EnvName = checkedString('environment variable name', (s) =>
  /^[A-Za-z_][A-Za-z0-9_]*$/.test(s) ? undefined : `must be an environment variable name, got ${JSON.stringify(s)}`,
);

/** A secret by reference: `{env: NAME}` or `{file: /path}` — never the value itself. */
export const SecretRef = new t.Type<{ env?: string; file?: string }, unknown, unknown>(
  'secret reference {env: NAME} or {file: PATH}',
  (u): u is { env?: string; file?: string } => typeof u === 'object' && u !== null,
  (u, c) => {
    const inner = closed('secret reference', { env: optional(EnvName), file: optional(NonEmptyString) }, (v) =>
      (v.env === undefined) === (v.file === undefined) ? [{ message: 'set exactly one of env or file' }] : [],
    );
    return inner.validate(u, c);
  },
  t.identity,
);
export type SecretRef = t.TypeOf<typeof SecretRef>;

/** Reads secrets named by the document. Every missing one is reported, with its path. */
export class SecretReader {
  readonly errors: string[] = [];
  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  read(ref: SecretRef | undefined, path: string): string | undefined {
    if (ref === undefined) return undefined;
    if (ref.env !== undefined) {
      const value = this.env[ref.env];
      if (value === undefined || value === '') this.errors.push(`${path}.env: environment variable ${ref.env} is not set`);
      return value;
    }
    try {
      return fs.readFileSync(ref.file!, 'utf8').trim();
    } catch (error) {
      this.errors.push(`${path}.file: cannot read ${ref.file}: ${(error as Error).message}`);
      return undefined;
    }
  }

  readFile(file: string | undefined, path: string): Buffer | undefined {
    if (file === undefined) return undefined;
    try {
      return fs.readFileSync(file);
    } catch (error) {
      this.errors.push(`${path}: cannot read ${file}: ${(error as Error).message}`);
      return undefined;
    }
  }

  /** Throws every collected problem at once. */
  check(source: string): void {
    if (this.errors.length > 0) throw new ConfigError(source, this.errors);
  }
}
