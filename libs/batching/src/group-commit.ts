// Group commit: requests that arrive while the commits in flight are busy wait, and go on together
// as one commit when one finishes. An idle queue commits a request at once, so grouping adds no
// latency; under load it turns many small requests into few large commits. Used by ingestion (events
// into command) and command (appends into one Postgres transaction).
import { AsyncLocalStorage } from 'node:async_hooks';

/** A request waiting in a group commit, with what settles its caller's promise. */
export interface QueuedRequest<T, R> {
  readonly request: T;
  resolve(result: R): void;
  reject(error: unknown): void;
}

export interface GroupCommitOptions<T> {
  /** Commits running at once; requests arriving while all of them run wait and are grouped. */
  readonly maxInFlight: number;
  /** Size of a group at most (the sum of sizeOf); a larger single request goes alone. */
  readonly maxSize: number;
  readonly sizeOf: (request: T) => number;
}

/** Requests waiting to go as one commit, and how to run it in the async context its first request was queued in. */
interface WaitingGroup<T, R> {
  readonly requests: QueuedRequest<T, R>[];
  size: number;
  readonly inFirstCallerContext: <V>(run: () => V) => V;
}

const asItIs = <V>(run: () => V): V => run();

/**
 * Queues each request; while fewer than `maxInFlight` commits run, the queued requests (in arrival
 * order, up to `maxSize` together) go to `commit` as one group. `commit` settles every request of its
 * group (its own way: a result each, or a failure of some); when it throws, the requests it left
 * unsettled fail with that error.
 *
 * A group's commit runs in the async context its first request was queued in, so what it traces
 * (the call to command, the append) joins that request's trace. Without that, a group that waited
 * ran in the context of the commit before it finished in, and its spans went to another request's
 * trace, one that was not in the group. Groups are formed as requests arrive, so only a request that
 * opens a group that must wait takes a snapshot of its context (~10–20 µs each); one that goes at
 * once runs in its own context as it is.
 */
export function groupCommit<T, R>(commit: (group: readonly QueuedRequest<T, R>[]) => Promise<void>, options: GroupCommitOptions<T>): (request: T) => Promise<R> {
  // Not yet committing; while any waits, every commit slot is busy.
  const waiting: WaitingGroup<T, R>[] = [];
  let inFlight = 0;

  const dispatch = (): void => {
    while (inFlight < options.maxInFlight && waiting.length > 0) {
      const group = waiting.shift()!;
      inFlight += 1;
      group
        .inFirstCallerContext(() => commit(group.requests))
        // Settling an already settled promise does nothing: only the requests left unsettled fail.
        .catch((error: unknown) => group.requests.forEach((queued) => queued.reject(error)))
        .finally(() => {
          inFlight -= 1;
          dispatch();
        });
    }
  };

  return (request) =>
    new Promise<R>((resolve, reject) => {
      const queued = { request, resolve, reject };
      const size = options.sizeOf(request);
      const last = waiting.at(-1);
      if (last !== undefined && last.size + size <= options.maxSize) {
        last.requests.push(queued);
        last.size += size;
      } else {
        // A larger single request goes alone: nothing fits after it.
        waiting.push({ requests: [queued], size, inFirstCallerContext: inFlight < options.maxInFlight ? asItIs : AsyncLocalStorage.snapshot() });
      }
      dispatch();
    });
}

/**
 * Resolves each request of `group` with its own slice of `values` (one value per item, in the
 * group's order): `countOf(request)` values each. For a commit that sends its group's items as one.
 */
export function resolveInSlices<T, V>(group: readonly QueuedRequest<T, V[]>[], values: readonly V[], countOf: (request: T) => number): void {
  let offset = 0;
  for (const queued of group) {
    const count = countOf(queued.request);
    queued.resolve(values.slice(offset, offset + count));
    offset += count;
  }
}
