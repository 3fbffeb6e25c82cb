/**
 * The status an object really has, right after we wrote it. The informer cache sees our own
 * status write only when its watch event arrives; a reconcile that runs before then (a child
 * changed, the spec was edited) reads an older status, finds the same "transition" again,
 * writes the same status a second time and records a second Event. Only the operator writes
 * these statuses (the status subresource is its own), so the status it wrote last is the
 * truth until the cache shows the resourceVersion that write produced; any other
 * resourceVersion the cache shows meanwhile (an older one, or a spec edit made before our
 * write landed) still carries an older status. Once the cache caught up, the memo goes.
 */
export class StatusMemo<S> {
  private readonly written = new Map<string, { resourceVersion: string; status: S }>();

  /** The status to compare against: the one we wrote, until the cache holds the version that write produced. */
  current(key: string, cachedResourceVersion: string | undefined, cachedStatus: S | undefined): S | undefined {
    const memo = this.written.get(key);
    if (memo === undefined) return cachedStatus;
    if (memo.resourceVersion === cachedResourceVersion) {
      this.written.delete(key);
      return cachedStatus;
    }
    return memo.status;
  }

  /** Records a successful status write and the resourceVersion the API server answered with. */
  wrote(key: string, resourceVersion: string | undefined, status: S): void {
    if (resourceVersion === undefined || resourceVersion === '') this.written.delete(key);
    else this.written.set(key, { resourceVersion, status });
  }

  forget(key: string): void {
    this.written.delete(key);
  }

  get size(): number {
    return this.written.size;
  }
}
