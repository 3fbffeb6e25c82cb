/**
 * A configuration that cannot be used: every problem found, each naming its path, reported
 * at once (docs/architecture.md §7). The CLIs print it and exit 2.
 */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly errors: string[],
  ) {
    super(`invalid configuration in ${source}:\n  ${errors.join('\n  ')}`);
  }
}
