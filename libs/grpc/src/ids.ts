// The one rule for an id in a request (item, user, event id; a category or tag), so an id one
// service stores is never refused by another: lengths are counted in characters (code points),
// not UTF-16 units, as a client counts them.

// C0 and C1 control characters (and DEL).
const CONTROL = /\p{Cc}/u;
// A UTF-16 surrogate: only strings with one have fewer code points than UTF-16 units.
const SURROGATE = /[\uD800-\uDFFF]/;

/** What is wrong with an id (`must not be empty`, `must be at most N characters`, …), or undefined when it is fine. */
export function idProblem(value: string, maxLength: number): string | undefined {
  if (value.length === 0) return 'must not be empty';
  if (characterCount(value) > maxLength) return `must be at most ${maxLength} characters`;
  if (CONTROL.test(value)) return 'must not contain control characters';
  if (value.trim().length === 0) return 'must not be blank';
  return undefined;
}

/** Characters of `value` as code points: an emoji is one character, not two UTF-16 units. */
export function characterCount(value: string): number {
  // Counted one by one only when the string has a surrogate (the regular expression scans
  // natively; most ids are plain).
  if (!SURROGATE.test(value)) return value.length;
  let count = 0;
  for (const _ of value) count += 1;
  return count;
}
