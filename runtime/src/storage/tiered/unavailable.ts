/**
 * A storage backend that cannot answer right now (connection refused, timeout, 5xx, 429).
 * `status = 503` is what the query APIs look for: they answer 503 (+ Retry-After on the
 * native API) so clients retry, instead of a 500 that reads as a bug.
 */
export class StorageUnavailableError extends Error {
  readonly status = 503;
}
