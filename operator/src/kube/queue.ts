/**
 * The work queue of one controller (client-go's workqueue semantics, docs/architecture.md §6):
 * - keys (`namespace/name`) are deduplicated: adding a key already waiting does nothing;
 * - a key is never handed to two workers at once: adding a key that is being processed marks
 *   it dirty, and done() puts it back in line;
 * - addAfter() schedules a key (the earliest schedule wins); addRateLimited() schedules it
 *   after the key's exponential backoff, forget() resets that backoff after a success;
 * - shutDown() stops handing out keys; drain() waits for the keys in flight.
 */
import { ItemBackoff, type BackoffOptions } from './backoff.js';
import { realClock, type Clock } from './clock.js';

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly waiting = new Map<string, { at: number; handle: unknown }>();
  private readonly getters: ((key: string | undefined) => void)[] = [];
  private readonly idle: (() => void)[] = [];
  private readonly backoff: ItemBackoff;
  private shuttingDown = false;

  constructor(
    readonly name: string,
    private readonly clock: Clock = realClock,
    backoff?: BackoffOptions,
  ) {
    this.backoff = new ItemBackoff(backoff);
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    const getter = this.getters.shift();
    if (getter) {
      this.dirty.delete(key);
      this.processing.add(key);
      getter(key);
    } else this.queue.push(key);
  }

  /** Adds key after ms; when the key is already scheduled, the earlier time wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = this.clock.now() + ms;
    const existing = this.waiting.get(key);
    if (existing && existing.at <= at) return;
    if (existing) this.clock.clearTimeout(existing.handle);
    const handle = this.clock.setTimeout(() => {
      this.waiting.delete(key);
      this.add(key);
    }, ms);
    this.waiting.set(key, { at, handle });
  }

  /** Schedules key after its per-key exponential backoff; returns the delay. */
  addRateLimited(key: string): number {
    const delay = this.backoff.next(key);
    this.addAfter(key, delay);
    return delay;
  }

  /** Resets key's backoff (after a successful reconcile). */
  forget(key: string): void {
    this.backoff.forget(key);
  }

  failures(key: string): number {
    return this.backoff.failuresOf(key);
  }

  /** The next key to process, or undefined once the queue is shut down. */
  get(): Promise<string | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    const key = this.queue.shift();
    if (key !== undefined) {
      this.dirty.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** Marks key as processed; if it was added meanwhile, it goes back in line. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      this.dirty.delete(key);
      this.add(key);
    }
    if (this.processing.size === 0) for (const resolve of this.idle.splice(0)) resolve();
  }

  /** Keys waiting to be processed now (the depth metric); scheduled keys are not counted. */
  len(): number {
    return this.queue.length;
  }

  scheduled(): number {
    return this.waiting.size;
  }

  inFlight(): number {
    return this.processing.size;
  }

  /** Stops handing out keys (waiting workers get undefined) and drops scheduled ones. */
  shutDown(): void {
    this.shuttingDown = true;
    for (const { handle } of this.waiting.values()) this.clock.clearTimeout(handle);
    this.waiting.clear();
    for (const getter of this.getters.splice(0)) getter(undefined);
  }

  /** Resolves when no key is being processed. */
  drain(): Promise<void> {
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }
}
