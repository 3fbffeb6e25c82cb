/**
 * A query worker thread: evaluates one job at a time from JOBS, reading storage through the
 * parent thread (which owns the store and its connections), or, when the parent names a
 * thread reader (workerData, ThreadReaderSpec), through a reader of its own. The parent ends
 * the thread when a query passes its deadline, so no evaluation, however long, holds the
 * event loop that serves /healthz, ingestion and the other queries.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { LogPage, LogSelection, SampleSelection, SeriesSamples } from '../../storage/reader.js';
import { countingReader, errorData, fromErrorData, JOBS, type ErrorData, type JobKind, type JobReader } from './jobs.js';

export type ToWorker =
  | { type: 'job'; kind: JobKind; args: unknown; maxSamples: number }
  | { type: 'readDone'; id: number; value: unknown }
  | { type: 'readFailed'; id: number; error: ErrorData };

/**
 * A module the worker imports to open its own reader: it exports
 * `openThreadReader(options): JobReader` (storage/sqlite/thread-reader.ts). A synchronous
 * store read there blocks only this thread.
 */
export interface ThreadReaderSpec {
  module: string;
  options: unknown;
}

export type FromWorker =
  | { type: 'read'; id: number; method: 'selectSamples' | 'selectLogs'; selection: SampleSelection | LogSelection }
  | { type: 'done'; value: unknown }
  | { type: 'failed'; error: ErrorData };

const port = parentPort;
if (port) {
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextRead = 0;
  const read = (method: 'selectSamples' | 'selectLogs', selection: SampleSelection | LogSelection): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = nextRead++;
      pending.set(id, { resolve, reject });
      port.postMessage({ type: 'read', id, method, selection } satisfies FromWorker);
    });
  const proxy: JobReader = {
    selectSamples: (selection) => read('selectSamples', selection) as Promise<SeriesSamples[]>,
    selectLogs: (selection) => read('selectLogs', selection) as Promise<LogPage>,
  };
  const spec = (workerData as { reader?: ThreadReaderSpec } | undefined)?.reader;
  // Opened on the first job, so an open that fails is that job's error, not a dead thread.
  let own: Promise<JobReader> | undefined;
  const reader = (): Promise<JobReader> =>
    spec
      ? (own ??= import(spec.module).then((m: { openThreadReader: (o: unknown) => JobReader }) => m.openThreadReader(spec.options)))
      : Promise.resolve(proxy);

  port.on('message', (message: ToWorker) => {
    switch (message.type) {
      case 'readDone':
        pending.get(message.id)?.resolve(message.value);
        pending.delete(message.id);
        return;
      case 'readFailed':
        pending.get(message.id)?.reject(fromErrorData(message.error));
        pending.delete(message.id);
        return;
      case 'job': {
        const job = JOBS[message.kind] as (reader: JobReader, args: unknown) => Promise<unknown>;
        // A parse error throws synchronously: start from a promise so it is answered, not uncaught.
        Promise.all([reader(), message.args])
          .then(([r, args]) => job(countingReader(r, message.maxSamples), args))
          .then(
            (value) => port.postMessage({ type: 'done', value } satisfies FromWorker),
            (error: unknown) => port.postMessage({ type: 'failed', error: errorData(error) } satisfies FromWorker),
          );
        return;
      }
    }
  });
}
