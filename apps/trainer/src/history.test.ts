import type { Interaction, InteractionType } from '@orrery/ml';
import { categoryAffinityShare, candidatesForUser, indexEmbeddings } from './candidates';
import { snapshotHistory, type Catalog } from './history';
import { parseTrainerArgs } from './args';
import { interactionTypeOf } from './event-source';

const MINUTE = 60_000;
function event(userId: string, itemId: string, minute: number, type: InteractionType = 'VIEW'): Interaction {
  return { userId, itemId, type, value: 0, occurredAt: Date.UTC(2026, 0, 1) + minute * MINUTE };
}
const catalog: Catalog = new Map([
  ['a', { categories: ['jazz'], publishedAt: undefined, hidden: false }],
  ['b', { categories: ['jazz', 'rock'], publishedAt: undefined, hidden: false }],
  ['c', { categories: ['books'], publishedAt: undefined, hidden: false }],
  ['h', { categories: ['jazz'], publishedAt: undefined, hidden: true }],
]);

describe('snapshotHistory', () => {
  const snapshot = snapshotHistory(
    [event('u1', 'a', 0), event('u1', 'a', 1, 'CLICK'), event('u1', 'b', 2), event('u1', 'c', 5 * 1440), event('u2', 'b', 5), event('u2', 'a', 6)],
    catalog,
  );

  it('keeps each user’s distinct items newest first', () => {
    expect(snapshot.recentItems.get('u1')).toEqual(['c', 'b', 'a']);
  });

  it('counts items visited one after the other in a session as co-visited, both ways, but not across sessions', () => {
    expect(snapshot.coVisits.get('a')?.get('b')).toBe(2);
    expect(snapshot.coVisits.get('b')?.get('a')).toBe(2);
    expect(snapshot.coVisits.get('b')?.has('c')).toBe(false);
  });

  it('ranks trending items by decayed weight (a lone recent view beats an older funnel) and splits a user’s affinity over the item categories', () => {
    expect(snapshot.trendingRanking[0]).toBe('c');
    expect(snapshot.categoryAffinity.get('u1')?.get('jazz')).toBeGreaterThan(snapshot.categoryAffinity.get('u1')?.get('rock') ?? Infinity);
    expect(categoryAffinityShare(['jazz'], new Map([['jazz', 3], ['rock', 1]]))).toBe(0.75);
    expect(categoryAffinityShare(['jazz'], undefined)).toBe(0);
  });

  it('never proposes an item the user has seen or a hidden item', () => {
    const withHidden = snapshotHistory([event('u1', 'a', 0), event('u2', 'a', 0), event('u2', 'h', 1), event('u2', 'b', 2), event('u3', 'h', 3)], catalog);
    const embeddings = indexEmbeddings({
      factors: 2,
      itemIds: ['a', 'b', 'c', 'h'],
      itemVectors: new Float32Array([1, 0, Math.SQRT1_2, Math.SQRT1_2, 0, 1, 1, 0]),
      itemNorms: new Float32Array([1, 1, 1, 5]),
    });
    const proposed = candidatesForUser('u1', withHidden, embeddings, catalog).map((candidate) => candidate.itemId);
    expect(proposed).toContain('b');
    expect(proposed).not.toContain('a');
    expect(proposed).not.toContain('h');
  });
});

describe('trainer input', () => {
  it('maps stored event types to interaction types and refuses unknown ones', () => {
    expect(interactionTypeOf('add_to_cart')).toBe('ADD_TO_CART');
    expect(() => interactionTypeOf('teleport')).toThrow(/teleport/);
  });

  it('reads --every and refuses a bad value naming the flag', () => {
    expect(parseTrainerArgs([]).everyMinutes).toBeUndefined();
    expect(parseTrainerArgs(['--every', '30']).everyMinutes).toBe(30);
    expect(() => parseTrainerArgs(['--every', '-1'])).toThrow(/--every/);
    expect(() => parseTrainerArgs(['--factors', '2.5'])).toThrow(/--factors/);
  });
});
