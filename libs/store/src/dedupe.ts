/** Indexes of the first entry of each id, in input order: later repeats of an id are dropped. */
export function firstOccurrences(ids: readonly string[]): number[] {
  const seen = new Set<string>();
  const kept: number[] = [];
  ids.forEach((id, index) => {
    if (seen.has(id)) return;
    seen.add(id);
    kept.push(index);
  });
  return kept;
}

/** Indexes of the last entry of each id, in input order: an upsert repeated in a batch takes its last value. */
export function lastOccurrences(ids: readonly string[]): number[] {
  const last = new Map<string, number>();
  ids.forEach((id, index) => last.set(id, index));
  return [...last.values()].sort((a, b) => a - b);
}
