/**
 * A fix for kafkajs 2.2.4 on Node 22+: its RequestQueue schedules the next check of its
 * pending requests with setTimeout(fn, throttledUntil - Date.now()), and throttledUntil is -1
 * until a broker throttles, so every broker connection calls setTimeout with about
 * -1.8e12 ms. Node treats that as 1 ms (what kafkajs relies on), but since Node 23 it also
 * prints a TimeoutNegativeWarning on stderr at the start of every runtime. kafkajs has had no
 * release since 2.2.4, so the method is replaced here with the same logic and the delay
 * clamped at 0 (the behaviour is unchanged: Node ran it after 1 ms either way). Hiding the
 * warning process-wide instead would also hide our own negative timeouts.
 *
 * Applied once, on import, before any Kafka client is created (client.ts imports it).
 */
import { createRequire } from 'node:module';

interface RequestQueueInternals {
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  pending: unknown[];
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

/** kafkajs' CHECK_PENDING_REQUESTS_INTERVAL (src/network/requestQueue/index.js). */
const CHECK_PENDING_REQUESTS_INTERVAL = 10;

const require = createRequire(import.meta.url);
/** The module kafkajs' own Connection requires (same resolved file, so the same class). */
export const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as {
  prototype: RequestQueueInternals;
};

RequestQueue.prototype.scheduleCheckPendingRequests = function (this: RequestQueueInternals) {
  if (this.throttleCheckTimeoutId) return;
  let scheduleAt = this.throttledUntil - Date.now();
  if (this.pending.length > 0) scheduleAt = scheduleAt > 0 ? scheduleAt : CHECK_PENDING_REQUESTS_INTERVAL;
  this.throttleCheckTimeoutId = setTimeout(
    () => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    },
    Math.max(scheduleAt, 0),
  );
};
