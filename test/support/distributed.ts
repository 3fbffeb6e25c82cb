/**
 * What the distributed-runtime integration tests do alike against the real servers: poll
 * until a condition holds, wait for a runtime's /readyz, count (and wait for) the documents in
 * OpenSearch, and post JSON to a runtime with an API key, batch by batch.
 */
import { infraVar } from '../integration/helpers/infra-env.js';

/**
 * Probes until done(value); the last value is in the timeout message. An error thrown by the
 * probe fails the wait at once (a broken probe must not read as "not yet").
 */
export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await probe();
  while (!done(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last value ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 250));
    last = await probe();
  }
  return last;
}

export async function waitReady(url: string, timeoutMs = 30_000): Promise<void> {
  await waitFor(
    `${url}/readyz`,
    timeoutMs,
    async () => (await fetch(`${url}/readyz`)).status,
    (s) => s === 200,
  );
}

/** A request to the test OpenSearch; a string body is sent as NDJSON (_bulk), anything else as JSON. */
export async function osRequest<T>(method: string, url: string, body?: unknown): Promise<T> {
  const res = await fetch(`${infraVar('OPENSEARCH_URL')}${url}`, {
    method,
    headers: { 'content-type': body === undefined || typeof body === 'string' ? 'application/x-ndjson' : 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return (await res.json()) as T;
}

/** Documents of one signal under an index prefix, after a refresh (0 while no index exists). */
export async function countDocs(prefix: string, signal: 'logs' | 'metrics'): Promise<number> {
  await osRequest('POST', `/${prefix}-${signal}-*/_refresh?allow_no_indices=true`);
  const body = await osRequest<{ count?: number }>('GET', `/${prefix}-${signal}-*/_count?allow_no_indices=true`);
  return body.count ?? 0;
}

/** Waits until OpenSearch holds at least `atLeast` documents of the signal under the prefix; resolves with the count. */
export function waitForDocs(prefix: string, signal: 'logs' | 'metrics', atLeast: number, timeoutMs: number): Promise<number> {
  return waitFor(
    `${atLeast} ${signal} documents under ${prefix}-*`,
    timeoutMs,
    () => countDocs(prefix, signal),
    (c) => c >= atLeast,
  );
}

/** Calls send(from, to) for [first, first + count) in slices of `perRequest`, `parallel` at a time. */
export async function inParallelBatches(
  first: number,
  count: number,
  perRequest: number,
  parallel: number,
  send: (from: number, to: number) => Promise<void>,
): Promise<void> {
  const starts: number[] = [];
  for (let i = first; i < first + count; i += perRequest) starts.push(i);
  let next = 0;
  const worker = async () => {
    while (next < starts.length) {
      const from = starts[next++]!;
      await send(from, Math.min(from + perRequest, first + count));
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

/** POSTs JSON to a runtime with the API key; anything but 200 throws with the answer. */
export async function postJson(url: string, route: string, body: unknown, apiKey: string): Promise<void> {
  const res = await fetch(`${url}${route}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 200) throw new Error(`${route} answered ${res.status}: ${await res.text()}`);
}
