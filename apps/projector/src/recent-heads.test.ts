import type { RecentEntry } from '@orrery/projections';
import { RecentHeads } from './recent-heads';

const entry = (sequence: number, itemId = `i${sequence}`): RecentEntry => ({ sequence: BigInt(sequence), type: 1, value: 0, occurredMs: sequence * 1_000, itemId });

describe('RecentHeads', () => {
  it('keeps the newest `depth` entries of each list it is told about, and forgets a deleted list', () => {
    const heads = new RecentHeads(10, 2);
    heads.remember(new Map([['ann', [entry(3), entry(2), entry(1)]], ['bob', [entry(4)]]]), heads.generation);
    expect(heads.get('ann')?.map((kept) => kept.sequence)).toEqual([3n, 2n]);
    expect(heads.get('bob')?.map((kept) => kept.sequence)).toEqual([4n]);
    heads.remember(new Map([['ann', undefined]]), heads.generation);
    expect(heads.get('ann')).toBeUndefined();
    expect(heads.get('bob')).toBeDefined();
  });

  it('drops the least recently applied users past its capacity', () => {
    const heads = new RecentHeads(2, 3);
    heads.remember(new Map([['ann', [entry(1)]], ['bob', [entry(2)]]]), heads.generation);
    heads.remember(new Map([['ann', [entry(3), entry(1)]]]), heads.generation); // ann applied again: bob is now the oldest
    heads.remember(new Map([['cid', [entry(4)]]]), heads.generation);
    expect([...['ann', 'bob', 'cid']].filter((user) => heads.get(user) !== undefined)).toEqual(['ann', 'cid']);
    expect(heads.size).toBe(2);
  });

  it('ignores what a chunk read before a forgetting left, and keeps nothing at capacity 0', () => {
    const heads = new RecentHeads(10, 3);
    heads.remember(new Map([['ann', [entry(1)]]]), heads.generation);
    const before = heads.generation;
    heads.forgetAll();
    expect(heads.get('ann')).toBeUndefined();
    heads.remember(new Map([['bob', [entry(2)]]]), before);
    expect(heads.get('bob')).toBeUndefined();
    heads.remember(new Map([['bob', [entry(2)]]]), heads.generation);
    expect(heads.get('bob')).toBeDefined();

    const off = new RecentHeads(0, 3);
    off.remember(new Map([['ann', [entry(1)]]]), off.generation);
    expect(off.get('ann')).toBeUndefined();
  });
});
