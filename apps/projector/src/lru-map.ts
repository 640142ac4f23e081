// A Map bounded to `capacity` entries that drops the least recently used first: the recent-list heads
// and catalog facts a chunk's snapshot keeps in memory (recent-heads.ts, catalog-facts.ts).
// A Map iterates in insertion order, so an entry used is deleted and set again, and the first key is
// the least recently used.

export class LruMap<K, V> {
  private readonly entries = new Map<K, V>();

  /** @param capacity entries kept at most; 0 keeps none. */
  constructor(readonly capacity: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** The value of `key` (now the most recently used), or undefined. */
  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  /** Sets `key` as the most recently used, dropping the least recently used past the capacity. */
  set(key: K, value: V): void {
    if (this.capacity === 0) return;
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
