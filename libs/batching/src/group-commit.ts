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

/** A queued request and a way to run code in the async context (the trace) its caller queued it in. */
interface Waiting<T, R> extends QueuedRequest<T, R> {
  readonly inCallerContext: <V>(run: () => V) => V;
}

/**
 * Queues each request; while fewer than `maxInFlight` commits run, the queued requests (in arrival
 * order, up to `maxSize` together) go to `commit` as one group. `commit` settles every request of its
 * group (its own way: a result each, or a failure of some); when it throws, the requests it left
 * unsettled fail with that error.
 *
 * A group's commit runs in the async context its first request was queued in, so what it traces
 * (the call to command, the append) joins that request's trace. Without that, a group that waited
 * ran in the context of the commit before it finished in, and its spans went to another request's
 * trace, one that was not in the group.
 */
export function groupCommit<T, R>(commit: (group: readonly QueuedRequest<T, R>[]) => Promise<void>, options: GroupCommitOptions<T>): (request: T) => Promise<R> {
  const queue: Waiting<T, R>[] = [];
  let inFlight = 0;

  const dispatch = (): void => {
    while (inFlight < options.maxInFlight && queue.length > 0) {
      const group = [queue.shift()!];
      let size = options.sizeOf(group[0]!.request);
      while (queue.length > 0 && size + options.sizeOf(queue[0]!.request) <= options.maxSize) {
        size += options.sizeOf(queue[0]!.request);
        group.push(queue.shift()!);
      }
      inFlight += 1;
      group[0]!
        .inCallerContext(() => commit(group))
        // Settling an already settled promise does nothing: only the requests left unsettled fail.
        .catch((error: unknown) => group.forEach((queued) => queued.reject(error)))
        .finally(() => {
          inFlight -= 1;
          dispatch();
        });
    }
  };

  return (request) =>
    new Promise<R>((resolve, reject) => {
      queue.push({ request, resolve, reject, inCallerContext: AsyncLocalStorage.snapshot() });
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
