// The catalog facts (categories, deleted) of items a chunk's plan read, kept in memory while no
// catalog change is applied anywhere. Every ItemUpserted and ItemDeleted adds 1 to the `catalog` field
// of `{trending}:changes` in the script that applies it, whichever projector instance applies it, so
// the facts read while that count was N hold as long as it is still N. A chunk's snapshot reads the
// count first and, in the same round trip, the facts of the items not held; when the count moved, what
// was held is dropped and read again. What is read after the count is at least as new as that count,
// so the facts kept for N are never older than N's catalog.
//
// Reading the facts was one HMGET an item, ~1,000 for a chunk of 1,400 interactions over 2,000 items.
import { LruMap } from './lru-map';
import type { CatalogFacts } from './plan';

/** An item's facts, or null: the catalog does not know the item. */
export type KeptFacts = CatalogFacts | null;

export class CatalogFactsCache {
  private readonly facts: LruMap<string, KeptFacts>;
  /** The change count the facts were read at (null: no change counted yet; undefined: nothing kept, or not to be trusted). */
  private countRead: string | null | undefined = undefined;

  /** @param capacity items kept at most (the least recently used go first); 0 turns the cache off. */
  constructor(capacity: number) {
    this.facts = new LruMap(capacity);
  }

  /** The facts of `itemId` as of the count they were read at, or undefined when not held. */
  get(itemId: string): KeptFacts | undefined {
    return this.facts.get(itemId);
  }

  /** The change count the facts held were read at (undefined: none to be trusted). */
  countHeld(): string | null | undefined {
    return this.countRead;
  }

  /** Whether the facts held were read at `count` (the change count read just now). */
  readAt(count: string | null): boolean {
    return this.countRead === count;
  }

  /**
   * Drops every fact held: they were read at another count than `count`, which the next ones are read
   * at (undefined: none is known, after a failed write; whatever is read next is read again after it).
   */
  reset(count: string | null | undefined): void {
    this.facts.clear();
    this.countRead = count;
  }

  /** Keeps facts read after the count `readAt` last confirmed (or `reset` set). */
  keep(itemId: string, facts: KeptFacts): void {
    this.facts.set(itemId, facts);
  }
}
