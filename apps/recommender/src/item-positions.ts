// Where each item is in a list being built, without a Map per list: mergeCandidates finds each of
// ~400 proposed items among the ~300 candidates it builds, for every request, and growing a fresh
// Map to that size was ~30 KB of garbage per request (a third of the merge's). Item ids get a
// number once per process, kept across requests; a list's positions are stamped with its own
// generation, so the entries of earlier lists read as absent without being cleared.

/** Item numbers kept at most; past this many distinct ids the numbering starts over (at the next list). */
export const MAX_NUMBERED_ITEMS = 1_000_000;

/** Positions of items in one list at a time (the one begun last), by item id. */
export class ItemPositions {
  private readonly numbers = new Map<string, number>();
  private generations = new Uint32Array(1_024);
  private positions = new Uint32Array(1_024);
  private generation = 0;

  constructor(private readonly maxNumbered = MAX_NUMBERED_ITEMS) {}

  /** Starts a new list: every item reads as absent until placed. */
  begin(): void {
    if (this.numbers.size > this.maxNumbered) this.numbers.clear();
    this.generation += 1;
    if (this.generation === 0xffff_ffff || this.numbers.size === 0) {
      this.generations.fill(0);
      this.generation = 1;
    }
  }

  /** The item's position in the current list, or -1 when it is not in it. */
  positionOf(itemId: string): number {
    const number = this.numbers.get(itemId);
    return number !== undefined && this.generations[number] === this.generation ? this.positions[number]! : -1;
  }

  /** Records that the item is at `position` of the current list. */
  place(itemId: string, position: number): void {
    const number = this.numberOf(itemId);
    this.generations[number] = this.generation;
    this.positions[number] = position;
  }

  private numberOf(itemId: string): number {
    let number = this.numbers.get(itemId);
    if (number === undefined) {
      number = this.numbers.size;
      this.numbers.set(itemId, number);
      if (number >= this.positions.length) this.grow();
    }
    return number;
  }

  private grow(): void {
    const generations = new Uint32Array(this.positions.length * 2);
    const positions = new Uint32Array(this.positions.length * 2);
    generations.set(this.generations);
    positions.set(this.positions);
    this.generations = generations;
    this.positions = positions;
  }
}
