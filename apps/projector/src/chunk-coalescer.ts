// The projector's apply pipeline: chunks are applied in the order they were handed in, the next one
// planned while Redis applies the one before (apply-chunk.ts), and the chunks that arrive meanwhile go
// to Redis together next (one snapshot read, one script call).
//
// At a steady few thousand events/s, each of a topic's partitions brings a small chunk per fetch (25–60
// messages at 5,000 events/s over 4 partitions), and a chunk's fixed costs (its snapshot round trip, its
// script call, the per-key work in Redis) then dominate what an event costs. Merging the partitions'
// concurrent chunks amortises those costs over several times the events and merges more updates per
// key, without waiting for anything an idle projector would not wait for: a chunk arriving when nothing
// is being applied goes at once. Merging is safe because a user's events all travel in one partition
// (keyed by user) in order, and each partition's messages keep their order in the merged chunk.
//
// A caller learns apart when its chunk *started* and when it is *done*, so that the consumer can fetch
// the next messages while this chunk is in Redis (see service.ts): the fetch, the decoding and the next
// chunk's queueing overlap the apply instead of following it.
import type { ChunkHandle } from './apply-chunk';

/** A chunk handed to the pipeline. */
export interface SubmittedChunk {
  /** Settles when the chunk's apply begins; rejects (with that failure) when an earlier chunk failed, and this one is never applied. */
  readonly started: Promise<void>;
  /** Settles when the chunk is applied; rejects when its apply failed or it was refused. */
  readonly done: Promise<void>;
}

export interface ChunkPipeline<T> {
  /** Queues `entries` to be applied after every chunk submitted before. */
  submit(entries: readonly T[]): SubmittedChunk;
  /** Resolves once every chunk submitted so far has settled. */
  drained(): Promise<void>;
}

/** A chunk waiting to start, with what settles its caller's promises. */
interface Queued<T> {
  readonly entries: readonly T[];
  readonly start: { resolve(): void; reject(error: unknown): void };
  readonly finish: { resolve(): void; reject(error: unknown): void };
}

/** Applies at once, at most: the one in Redis, and the next, planned meanwhile (apply-chunk.ts). */
const APPLIES_AT_ONCE = 2;

/**
 * `apply` over the chunks submitted, in order: a chunk starts once the apply before it has sent its
 * scripts (ChunkHandle.sent) and fewer than two applies are unsettled; the chunks queued meanwhile are
 * concatenated (in arrival order, up to `maxMessages` messages per apply; a larger chunk goes alone) and
 * start together. Once an apply has failed, nothing queued or submitted later is started: each is
 * refused with that failure. A later chunk may hold later messages of a partition whose earlier ones
 * failed, and applying it would move that partition's watermark past events never applied; the consumer
 * has to start again from its committed offsets, with a new pipeline. (The one apply already started
 * behind the failed one fails with it, see chunkProjector.)
 */
export function chunkPipeline<T>(apply: (entries: readonly T[]) => ChunkHandle, maxMessages: number): ChunkPipeline<T> {
  const unsettled = new Set<Promise<void>>();
  const queue: Queued<T>[] = [];
  let failure: { readonly error: unknown } | undefined;
  let applying = 0;
  let sending = false;

  const dispatch = (): void => {
    if (failure) {
      for (const queued of queue.splice(0)) {
        queued.start.reject(failure.error);
        queued.finish.reject(failure.error);
      }
      return;
    }
    if (sending || applying >= APPLIES_AT_ONCE || queue.length === 0) return;
    const group = [queue.shift()!];
    let size = group[0]!.entries.length;
    while (queue.length > 0 && size + queue[0]!.entries.length <= maxMessages) {
      size += queue[0]!.entries.length;
      group.push(queue.shift()!);
    }
    applying += 1;
    sending = true;
    for (const queued of group) queued.start.resolve();
    const handle = apply(group.length === 1 ? group[0]!.entries : group.flatMap((queued) => queued.entries));
    void handle.sent.then(() => {
      sending = false;
      dispatch();
    });
    handle.done.then(
      () => group.forEach((queued) => queued.finish.resolve()),
      (error: unknown) => {
        failure ??= { error };
        group.forEach((queued) => queued.finish.reject(error));
      },
    ).finally(() => {
      applying -= 1;
      dispatch();
    });
  };

  return {
    submit(entries) {
      let start!: Queued<T>['start'];
      let finish!: Queued<T>['finish'];
      const started = new Promise<void>((resolve, reject) => (start = { resolve, reject }));
      const done = new Promise<void>((resolve, reject) => (finish = { resolve, reject }));
      queue.push({ entries, start, finish });
      dispatch();
      // The caller may stop waiting for either (a consumer that is closing): a refusal is not an unhandled rejection.
      started.catch(() => undefined);
      const settled = done.catch(() => undefined);
      unsettled.add(settled);
      void settled.then(() => unsettled.delete(settled));
      return { started, done };
    },
    async drained() {
      while (unsettled.size > 0) await Promise.all([...unsettled]);
    },
  };
}
