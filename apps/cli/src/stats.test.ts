import { topReasons } from './stats';

describe('topReasons', () => {
  it('lists the three most frequent reasons, most frequent first, and nothing for none', () => {
    const counts = new Map([['timeout', 2], ['busy', 5], ['gone', 1], ['reset', 3]]);
    expect(topReasons(counts)).toBe('5× busy; 3× reset; 2× timeout');
    expect(topReasons(new Map())).toBe('');
  });
});
