// The heads of the recent lists this projector wrote itself, kept in memory so that a chunk's snapshot
// reads from Redis only the users it has not seen since its partitions were assigned.
//
// Reading a user's list head was the largest part of a chunk's cost: one LRANGE a user (~1,300 for a
// chunk of 1,400 events), each an ioredis command and a reply of up to `coVisitLookBack + count + 16`
// entries to decode. Only the projector that owns a user's partition writes that user's recent list, in
// the same script as its watermark, so what it applied is what Redis holds, as long as:
// - nothing failed: an apply that fails (Redis may hold part of it on a cluster, or none) forgets
//   every head, and so does a new consumer, which starts from the committed offsets;
// - the partitions did not move: another member may have applied events of a user while it owned the
//   partition, so every group join forgets every head as well.
// A head remembered from a chunk whose snapshot was taken before such a forgetting is dropped
// (`generation`), so a chunk still being applied across it cannot put an old head back.
//
// What is kept per user is the newest `depth` entries (the co-visit look-back). A chunk's new
// interactions pair with the look-back newest entries below them, which the in-chunk ones and this head
// provide exactly as a deeper Redis read would; an entry at or below the head's newest is a copy of
// an applied event (a relay resend), and its plan is dropped by the script's watermark check. A
// replay after a crash or a consumer replacement, which needs the deeper read to plan exactly what it
// planned the first time, always reads Redis: the heads are empty then.
import type { RecentEntry } from '@orrery/projections';
import { LruMap } from './lru-map';

export class RecentHeads {
  private readonly heads: LruMap<string, readonly RecentEntry[]>;
  private currentGeneration = 0;

  /**
   * @param capacity users kept at most (the least recently used go first); 0 turns the cache off.
   * @param depth entries kept per user: the co-visit look-back.
   */
  constructor(
    capacity: number,
    readonly depth: number,
  ) {
    this.heads = new LruMap(capacity);
  }

  /** Counts the forgettings: a head remembered under an older generation is dropped. */
  get generation(): number {
    return this.currentGeneration;
  }

  get size(): number {
    return this.heads.size;
  }

  /** The user's newest entries as applied (newest first), or undefined when Redis must be read. */
  get(userId: string): readonly RecentEntry[] | undefined {
    return this.heads.get(userId);
  }

  /**
   * After a chunk was applied: each user's list as the chunk's plan left it (newest first; undefined:
   * the list was deleted), if nothing was forgotten since `generation` (taken before its snapshot).
   */
  remember(lists: ReadonlyMap<string, readonly RecentEntry[] | undefined>, generation: number): void {
    if (generation !== this.currentGeneration) return;
    for (const [userId, list] of lists) {
      if (list === undefined) this.heads.delete(userId);
      else this.heads.set(userId, list.length > this.depth ? list.slice(0, this.depth) : list);
    }
  }

  /** Forgets every head (a failed apply, a new consumer, a group join). */
  forgetAll(): void {
    this.heads.clear();
    this.currentGeneration += 1;
  }
}
