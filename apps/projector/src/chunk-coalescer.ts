// The projector's apply pipeline: chunks are applied one at a time, in the order they were handed
// in, and the chunks that arrive while one is being applied go to Redis together next (one snapshot
// read, one script call).
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
import { groupCommit } from '@orrery/batching';

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

/** A chunk waiting in the group commit, with what settles its caller's `started`. */
interface Submitted<T> {
  readonly entries: readonly T[];
  readonly start: { resolve(): void; reject(error: unknown): void };
}

/**
 * `apply` behind a group commit (libs/batching): one apply at a time; the chunks queued meanwhile are
 * concatenated (in arrival order, up to `maxMessages` messages per apply; a larger chunk goes alone) and
 * applied together when it finishes. Once an apply has failed, nothing queued or submitted later is
 * applied: each is refused with that failure. A later chunk may hold later messages of a partition whose
 * earlier ones failed, and applying it would move that partition's watermark past events never applied;
 * the consumer has to start again from its committed offsets, with a new pipeline.
 */
export function chunkPipeline<T>(apply: (entries: readonly T[]) => Promise<void>, maxMessages: number): ChunkPipeline<T> {
  const unsettled = new Set<Promise<void>>();
  let failure: { readonly error: unknown } | undefined;
  const applyGroup = groupCommit<Submitted<T>, void>(
    async (group) => {
      try {
        if (failure) throw failure.error;
        for (const queued of group) queued.request.start.resolve();
        await apply(group.length === 1 ? group[0]!.request.entries : group.flatMap((queued) => queued.request.entries));
      } catch (error) {
        failure ??= { error };
        // A chunk refused never started (settling a started one again does nothing).
        for (const queued of group) queued.request.start.reject(error);
        throw error;
      }
      for (const queued of group) queued.resolve();
    },
    { maxInFlight: 1, maxSize: maxMessages, sizeOf: (submitted) => submitted.entries.length },
  );

  return {
    submit(entries) {
      let start!: Submitted<T>['start'];
      const started = new Promise<void>((resolve, reject) => (start = { resolve, reject }));
      const done = applyGroup({ entries, start });
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
