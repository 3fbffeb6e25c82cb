/**
 * Errors of the query engines, typed like Prometheus' API errors so the HTTP layers can map
 * them to `{"status":"error","errorType":…}` (Prometheus) or a plain-text 400 (Loki).
 */

/** Prometheus' errorType values that the engines produce. */
export type QueryErrorType = 'bad_data' | 'execution' | 'timeout' | 'internal' | 'unavailable';

export class QueryError extends Error {
  constructor(
    readonly type: QueryErrorType,
    message: string,
    /** True for valid syntax outside Sextant's subset (the HTTP layers report it as is). */
    readonly unsupported = false,
  ) {
    super(message);
    this.name = 'QueryError';
  }

  /** The HTTP status Prometheus uses for this errorType. */
  get status(): number {
    switch (this.type) {
      case 'bad_data':
        return 400;
      case 'execution':
        return 422;
      case 'timeout':
      case 'unavailable':
        return 503;
      case 'internal':
        return 500;
    }
  }
}

/** A construct that the official grammar accepts but Sextant's subset does not evaluate. */
export function unsupported(construct: string): QueryError {
  return new QueryError('bad_data', `unsupported: ${construct} (not in Sextant's query subset)`, true);
}

export function badData(message: string): QueryError {
  return new QueryError('bad_data', message);
}
