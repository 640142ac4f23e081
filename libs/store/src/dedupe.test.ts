import { firstOccurrences, lastOccurrences } from './dedupe';

describe('batch de-duplication', () => {
  it('when an id repeats, the first entry is kept for appends', () => {
    expect(firstOccurrences(['a', 'b', 'a', 'c', 'b'])).toEqual([0, 1, 3]);
  });

  it('when an id repeats, the last entry is kept for upserts, in input order', () => {
    expect(lastOccurrences(['a', 'b', 'a', 'c', 'b'])).toEqual([2, 3, 4]);
  });
});
