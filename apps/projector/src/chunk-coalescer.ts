// Group commit for the projector: the chunks that partitions hand in while an apply is running wait
// for it, then go to Redis as ONE chunk (one snapshot read, one script call).
//
// At a steady few thousand events/s, each of a topic's partitions brings a small chunk per fetch (25–60
// messages at 5,000 events/s over 4 partitions), and a chunk's fixed costs (its snapshot round trip, its
// script call, the per-key work in Redis) then dominate what an event costs. Merging the partitions'
// concurrent chunks amortises those costs over several times the events and merges more updates per
// key, without waiting for anything an idle projector would not wait for: a chunk arriving when nothing
// is being applied goes at once. Merging is safe because a user's events all travel in one partition
// (keyed by user) in order, and each partition's messages keep their order in the merged chunk.
import { groupCommit } from '@orrery/batching';
import type { PartitionMessage } from './apply-chunk';

/**
 * `apply` with concurrent calls merged: one apply in flight at a time; the calls made meanwhile are
 * concatenated (in arrival order, up to `maxMessages` messages per apply; a larger call goes alone)
 * and applied together when it finishes. Each caller's promise settles with the apply its messages
 * were in: a failed apply fails every caller whose messages it held (none of them may resolve its
 * offsets; each partition is redelivered from its last commit, and the watermarks make that safe).
 */
export function coalescedChunks(
  apply: (entries: readonly PartitionMessage[]) => Promise<void>,
  maxMessages: number,
): (entries: readonly PartitionMessage[]) => Promise<void> {
  return groupCommit<readonly PartitionMessage[], void>(
    async (group) => {
      await apply(group.length === 1 ? group[0]!.request : group.flatMap((queued) => queued.request));
      for (const queued of group) queued.resolve();
    },
    { maxInFlight: 1, maxSize: maxMessages, sizeOf: (entries) => entries.length },
  );
}
