// kafkajs 2.2.4 (its last release) re-arms a timer every millisecond on every broker connection,
// whether or not a request waits: RequestQueue.scheduleCheckPendingRequests, with nothing pending and
// no throttle, calls setTimeout with a negative delay (so 1 ms), whose checkPendingRequests schedules
// it again (tulios/kafkajs#1556, #1604, #1704; fixes proposed in #1667 and #1768, never merged).
// Measured on the idle platform (`npm start`, 10 s): the command and the projector each woke ~970
// times a second and spent 33 ms of CPU a second doing it; with this fix 122–144 wake-ups and 8–13 ms
// (docs/benchmarks.md, "kafkajs' idle timer"). Under load it makes no difference the VM can show.
import { isRepairedKafkajsVersion } from './kafkajs-internals';

/** kafkajs' own period for re-checking requests that wait (requestQueue/index.js). */
const CHECK_PENDING_REQUESTS_INTERVAL_MS = 10;

/** What the replacement reads and writes of a kafkajs RequestQueue (its own fields). */
interface RequestQueueState {
  readonly pending: readonly unknown[];
  readonly throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
}

/**
 * kafkajs' scheduleCheckPendingRequests without the idle loop: a check is scheduled only when a
 * request waits (in CHECK_PENDING_REQUESTS_INTERVAL_MS, or when the broker's throttle ends) or the
 * queue is throttled. With nothing waiting and no throttle there is nothing to check: a request pushed
 * later is sent at once or schedules its own check, and each response checks the queue anyway.
 */
function scheduleCheckWhenNeeded(this: RequestQueueState): void {
  if (this.throttleCheckTimeoutId) return;
  const untilUnthrottledMs = this.throttledUntil - Date.now();
  if (this.pending.length === 0 && untilUnthrottledMs <= 0) return;
  const delayMs = untilUnthrottledMs > 0 ? untilUnthrottledMs : CHECK_PENDING_REQUESTS_INTERVAL_MS;
  this.throttleCheckTimeoutId = setTimeout(() => {
    this.throttleCheckTimeoutId = null;
    this.checkPendingRequests();
  }, delayMs);
}

/**
 * Replaces kafkajs' RequestQueue.scheduleCheckPendingRequests by scheduleCheckWhenNeeded, for every
 * kafkajs client of this process (idempotent). Only kafkajs REPAIRED_KAFKAJS_VERSION is touched: for
 * another version it returns false and changes nothing (its unit test then fails, so an upgrade is
 * checked for the bug again rather than patched blindly).
 */
export function repairIdleRequestQueues(): boolean {
  if (!isRepairedKafkajsVersion()) return false;
  const RequestQueue = require('kafkajs/src/network/requestQueue') as { prototype: { scheduleCheckPendingRequests: () => void } };
  RequestQueue.prototype.scheduleCheckPendingRequests = scheduleCheckWhenNeeded as () => void;
  return true;
}
