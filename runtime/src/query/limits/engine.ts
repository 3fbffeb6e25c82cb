/**
 * Runs queries under their limits: a deadline (queueing included), max samples and max
 * concurrency. The worker engine evaluates in worker threads and ends a thread whose query
 * passes its deadline; the in-process engine (unit tests, tools) can only reject late.
 */
import { Worker } from 'node:worker_threads';
import client from 'prom-client';
import type { Logger } from '../../common/log.js';
import { siblingModule } from '../../common/sibling-module.js';
import type { StorageReader } from '../../storage/reader.js';
import { QueryError } from '../promql/errors.js';
import type { QueryLimits } from './config.js';
import { DEFAULT_QUERY_LIMITS } from './config.js';
import { countingReader, errorData, fromErrorData, JOBS, type JobArgs, type JobKind, type JobReader, type JobResult } from './jobs.js';
import type { FromWorker, ThreadReaderSpec, ToWorker } from './worker.js';

export interface QueryEngine {
  readonly limits: QueryLimits;
  /** Evaluates a job; `timeoutMs` (the request's `timeout`) may only shorten the configured deadline. */
  run<K extends JobKind>(kind: K, args: JobArgs<K>, timeoutMs?: number): Promise<JobResult<K>>;
  close(): Promise<void>;
}

/** Prometheus' message and errorType for a query past its deadline (503). */
export function timeoutError(timeoutMs: number): QueryError {
  return new QueryError('timeout', `query timed out in expression evaluation (deadline ${timeoutMs / 1000}s)`);
}

/** Maps what an evaluation can throw besides QueryError to one: a stack overflow is a query nested too deeply. */
export function asQueryError(error: unknown): unknown {
  if (error instanceof RangeError && /call stack/i.test(error.message)) {
    return new QueryError('bad_data', 'query is nested too deeply to evaluate (maximum call stack size exceeded); simplify the expression');
  }
  return error;
}

function deadlineOf(limits: QueryLimits, timeoutMs?: number): number {
  return timeoutMs !== undefined && timeoutMs > 0 ? Math.min(timeoutMs, limits.timeoutMs) : limits.timeoutMs;
}

/** Same thread: the deadline rejects the answer but cannot stop a synchronous evaluation. */
export function inProcessEngine(reader: StorageReader, limits: QueryLimits = DEFAULT_QUERY_LIMITS): QueryEngine {
  return {
    limits,
    run(kind, args, timeoutMs) {
      const deadline = deadlineOf(limits, timeoutMs);
      const job = JOBS[kind] as (r: JobReader, a: unknown) => Promise<JobResult<typeof kind>>;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(timeoutError(deadline)), deadline);
      });
      const answer = Promise.resolve(args).then((a) => job(countingReader(reader, limits.maxSamples), a));
      return Promise.race([answer, late]).finally(() => clearTimeout(timer));
    },
    close: () => Promise.resolve(),
  };
}

interface Task {
  kind: JobKind;
  args: unknown;
  deadlineMs: number;
  resolve: (value: never) => void;
  reject: (error: unknown) => void;
  timer: NodeJS.Timeout;
  slot?: Slot;
}

interface Slot {
  worker: Worker;
  task?: Task;
}

/**
 * The worker module next to this one. Built (.js) it loads directly; run from source (tests,
 * under tsx) the thread registers tsx first, since loader hooks do not reach worker threads.
 */
function newWorker(threadReader: ThreadReaderSpec | undefined): Worker {
  const workerData = { reader: threadReader };
  const url = siblingModule(import.meta.url, './worker');
  if (!url.endsWith('.ts')) return new Worker(new URL(url), { workerData });
  return new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url)}); });`, {
    eval: true,
    workerData,
  });
}

/**
 * `threadReader`: each worker opens its own reader from that module instead of asking this
 * thread to read (storage whose reads block, the embedded SQLite store); `reader` then
 * serves nothing but is kept for the engines that have no thread reader.
 */
export function workerEngine(
  reader: StorageReader,
  limits: QueryLimits,
  log: Logger,
  registry?: client.Registry,
  threadReader?: ThreadReaderSpec,
): QueryEngine {
  const stopped = new client.Counter({
    name: 'sextant_query_deadline_exceeded_total',
    help: 'Queries stopped at their deadline (answered 503 timeout), by where they were: running or queued.',
    labelNames: ['state'] as const,
    registers: registry ? [registry] : [],
  });
  const idle: Slot[] = [];
  const busy = new Set<Slot>();
  const queue: Task[] = [];
  let closed = false;

  const spawn = (): Slot => {
    const slot: Slot = { worker: newWorker(threadReader) };
    slot.worker.on('message', (message: FromWorker) => void onMessage(slot, message));
    slot.worker.on('error', (error) => finish(slot, new QueryError('internal', `query worker failed: ${error.message}`), true));
    slot.worker.on('exit', (code) => {
      if (slot.task) finish(slot, new QueryError('internal', `query worker exited with code ${code}`), true);
      drop(slot);
    });
    return slot;
  };

  const drop = (slot: Slot): void => {
    busy.delete(slot);
    const i = idle.indexOf(slot);
    if (i >= 0) idle.splice(i, 1);
  };

  const onMessage = async (slot: Slot, message: FromWorker): Promise<void> => {
    const task = slot.task;
    if (!task) return;
    switch (message.type) {
      case 'read': {
        let reply: ToWorker;
        try {
          const value =
            message.method === 'selectSamples'
              ? await reader.selectSamples(message.selection as never)
              : await reader.selectLogs(message.selection as never);
          reply = { type: 'readDone', id: message.id, value };
        } catch (error) {
          reply = { type: 'readFailed', id: message.id, error: errorData(error) };
        }
        if (slot.task === task) slot.worker.postMessage(reply);
        return;
      }
      case 'done':
        task.resolve(message.value as never);
        finish(slot, undefined, false);
        return;
      case 'failed':
        finish(slot, fromErrorData(message.error), false);
        return;
    }
  };

  /** Ends the slot's task (rejecting it when `error` is set) and frees or discards the worker. */
  const finish = (slot: Slot, error: unknown, discard: boolean): void => {
    const task = slot.task;
    slot.task = undefined;
    if (task) {
      clearTimeout(task.timer);
      if (error !== undefined) task.reject(error);
    }
    busy.delete(slot);
    if (discard) {
      drop(slot);
      void slot.worker.terminate();
    } else if (!closed) {
      slot.worker.unref();
      idle.push(slot);
    }
    pump();
  };

  const start = (slot: Slot, task: Task): void => {
    slot.task = task;
    task.slot = slot;
    busy.add(slot);
    slot.worker.ref();
    slot.worker.postMessage({ type: 'job', kind: task.kind, args: task.args, maxSamples: limits.maxSamples } satisfies ToWorker);
  };

  const pump = (): void => {
    while (queue.length > 0 && !closed) {
      const slot = idle.pop() ?? (busy.size + idle.length < limits.maxConcurrency ? spawn() : undefined);
      if (!slot) return;
      start(slot, queue.shift()!);
    }
  };

  return {
    limits,
    run<K extends JobKind>(kind: K, args: JobArgs<K>, timeoutMs?: number): Promise<JobResult<K>> {
      if (closed) return Promise.reject(new QueryError('unavailable', 'the query engine is shutting down'));
      const deadlineMs = deadlineOf(limits, timeoutMs);
      return new Promise<JobResult<K>>((resolve, reject) => {
        const task: Task = {
          kind,
          args,
          deadlineMs,
          resolve: resolve as (value: never) => void,
          reject,
          timer: setTimeout(() => {
            log.warn({ kind, deadlineMs, queued: task.slot === undefined }, 'query passed its deadline and was stopped');
            stopped.inc({ state: task.slot ? 'running' : 'queued' });
            if (task.slot) {
              finish(task.slot, timeoutError(deadlineMs), true); // ends the thread mid-evaluation
            } else {
              queue.splice(queue.indexOf(task), 1);
              reject(timeoutError(deadlineMs));
            }
          }, deadlineMs),
        };
        queue.push(task);
        pump();
      });
    },
    async close() {
      closed = true;
      for (const task of queue.splice(0)) {
        clearTimeout(task.timer);
        task.reject(new QueryError('unavailable', 'the query engine is shutting down'));
      }
      const slots = [...idle, ...busy];
      for (const slot of slots) if (slot.task) finish(slot, new QueryError('unavailable', 'the query engine is shutting down'), true);
      await Promise.all(idle.splice(0).map((slot) => slot.worker.terminate()));
    },
  };
}
