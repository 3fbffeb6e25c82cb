/**
 * The status an object really has, right after we wrote it. The informer cache sees our own
 * status write only when its watch event arrives; a reconcile that runs before then (a child
 * changed, a Secret was touched) would read the old status, find the same "transition" again,
 * write the same status a second time and record a second Event. So each controller keeps the
 * status it last wrote together with the resourceVersion it wrote it over: while the cache
 * still holds that resourceVersion, the written status is the truth. Once the cache moves on
 * (our write arrived, or anyone changed the object), the cache is the truth again.
 */
export class StatusMemo<S> {
  private readonly written = new Map<string, { overResourceVersion: string; status: S }>();

  /** The status to compare against: ours if the cached object is still the one we wrote over. */
  current(key: string, cachedResourceVersion: string | undefined, cachedStatus: S | undefined): S | undefined {
    const memo = this.written.get(key);
    if (memo && cachedResourceVersion !== undefined && memo.overResourceVersion === cachedResourceVersion) return memo.status;
    if (memo) this.written.delete(key);
    return cachedStatus;
  }

  /** Records a successful status write made over the cached `resourceVersion`. */
  wrote(key: string, overResourceVersion: string | undefined, status: S): void {
    if (overResourceVersion === undefined) return;
    this.written.set(key, { overResourceVersion, status });
  }

  forget(key: string): void {
    this.written.delete(key);
  }

  get size(): number {
    return this.written.size;
  }
}
