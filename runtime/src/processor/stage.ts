/**
 * The contract between the pipeline runner and the compiled stages. Stages work on log
 * entries only; metric samples pass through the processor untouched (docs/architecture.md §1: parse and
 * redact are about log lines, and relabelling metrics belongs to the scrape side).
 */
import type { LogEntry } from '../model/types.js';

export type StageType = 'parse' | 'redact' | 'filter' | 'drop' | 'sample' | 'labels';

export interface Stage {
  readonly type: StageType;
  /**
   * True if `apply` may modify the entry. The runner hands such stages a private copy
   * (top-level `labels` and `fields` objects copied), so the caller's entries are never
   * changed — a retried batch must process to the same result. Stages that mutate replace
   * nested field values instead of editing them, because nested objects are still shared.
   */
  readonly mutates: boolean;
  /**
   * Processes one entry in place. Returns the reason the entry is dropped (a short,
   * low-cardinality snake_case string used as a metric label), or undefined to keep it.
   * Never throws for any input entry.
   */
  apply(entry: LogEntry): string | undefined;
}
