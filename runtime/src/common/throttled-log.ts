/**
 * Sums counts per key and emits at most one log line per key and interval, so a steady
 * stream of drops is explained in the log without a line per record.
 */
export class ThrottledLog {
  private readonly pending = new Map<string, { count: number; last: number }>();

  constructor(private readonly intervalMs: number) {}

  record(key: string, count: number, emit: (count: number) => void, now = Date.now()): void {
    const state = this.pending.get(key);
    if (!state) {
      this.pending.set(key, { count: 0, last: now });
      emit(count);
      return;
    }
    state.count += count;
    if (now - state.last >= this.intervalMs) {
      emit(state.count);
      state.count = 0;
      state.last = now;
    }
  }
}
