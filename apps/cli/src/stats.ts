/** The three most frequent reasons, most frequent first, as `N× reason; …` ('' for none). */
export function topReasons(counts: ReadonlyMap<string, number>): string {
  return [...counts].sort(([, a], [, b]) => b - a).slice(0, 3).map(([reason, count]) => `${count}× ${reason}`).join('; ');
}
