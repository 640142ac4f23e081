import { readConfig } from '@orrery/config';
import type { Interaction, InteractionType } from '@orrery/ml';
import { categoryAffinityShare } from '@orrery/ml';
import { candidateFeatures, candidatesForUser, indexEmbeddings, userFeatureInputs } from './candidates';
import { interactionTypeOf } from './event-source';
import { snapshotHistory, type Catalog } from './history';

const MINUTE = 60_000;
const DAY = 1_440;
const projection = readConfig({}).projection;
function event(userId: string, itemId: string, minute: number, type: InteractionType = 'VIEW'): Interaction {
  return { userId, itemId, type, value: 0, occurredAt: Date.UTC(2026, 0, 1) + minute * MINUTE };
}
const catalog: Catalog = new Map([
  ['a', { categories: ['jazz'], publishedAt: undefined, hidden: false }],
  ['b', { categories: ['jazz', 'rock'], publishedAt: undefined, hidden: false }],
  ['c', { categories: ['books'], publishedAt: undefined, hidden: false }],
  ['d', { categories: ['books'], publishedAt: undefined, hidden: false }],
  ['h', { categories: ['jazz'], publishedAt: undefined, hidden: true }],
]);

describe('snapshotHistory (the projector’s view of a log)', () => {
  const snapshot = snapshotHistory(
    [event('u1', 'a', 0), event('u1', 'a', 1, 'CLICK'), event('u1', 'b', 2), event('u1', 'c', 10 * DAY), event('u2', 'b', 5), event('u2', 'a', 6)],
    catalog,
    projection,
  );

  it('keeps each user’s distinct items newest first', () => {
    expect(snapshot.recentItems.get('u1')).toEqual(['c', 'b', 'a']);
    expect(snapshot.seenItems.get('u1')).toEqual(new Set(['a', 'b', 'c']));
  });

  it('co-visits items met within the session window, both ways, and not across sessions', () => {
    const neighboursOf = (itemId: string) => new Map(snapshot.coVisits.get(itemId) ?? []);
    expect(neighboursOf('a').get('b')).toBeGreaterThan(0);
    expect(neighboursOf('b').get('a')).toBe(neighboursOf('a').get('b'));
    expect(neighboursOf('b').has('c')).toBe(false);
  });

  it('co-visits a deleted item with nothing, as the projector leaves it: it keeps its place among the partners (the next earlier item does not take it)', () => {
    const views = ['a', 'b', 'gone', 'c', 'x'].map((itemId, minute) => event('u3', itemId, minute));
    const neighboursOf = (deleted: ReadonlySet<string>, itemId: string) => (snapshotHistory(views, catalog, projection, deleted).coVisits.get(itemId) ?? []).map(([id]) => id).sort();
    expect(projection.coVisitPartners).toBe(3);
    expect(neighboursOf(new Set(), 'x')).toEqual(['b', 'c', 'gone']);
    expect(neighboursOf(new Set(['gone']), 'x')).toEqual(['b', 'c']);
    expect(neighboursOf(new Set(['gone']), 'gone')).toEqual([]);
    expect(neighboursOf(new Set(['gone']), 'c')).toEqual(['a', 'b', 'x']);
  });

  it('ranks trending items by decayed weight (a lone recent view beats an older funnel) and counts interactions', () => {
    expect(snapshot.trending[0]).toBe('c');
    expect(snapshot.interactions.get('a')).toBe(3);
    expect(snapshot.categoryAffinity.get('u1')?.get('jazz')).toBeGreaterThan(snapshot.categoryAffinity.get('u1')?.get('rock') ?? Infinity);
    expect(categoryAffinityShare(['jazz'], new Map([['jazz', 3], ['rock', 1]]), 4)).toBe(0.75);
    expect(categoryAffinityShare(['jazz'], undefined, 0)).toBe(0);
  });
});

describe('candidatesForUser (the recommender’s candidates)', () => {
  const snapshot = snapshotHistory(
    [event('u1', 'a', 0), event('u2', 'a', 0), event('u2', 'h', 1), event('u2', 'b', 2), event('u3', 'h', 3), event('u3', 'd', 4)],
    catalog,
    projection,
  );
  const embeddings = indexEmbeddings({
    factors: 2,
    itemIds: ['a', 'b', 'c', 'd', 'h'],
    itemVectors: new Float32Array([1, 0, Math.SQRT1_2, Math.SQRT1_2, 0, 1, 0, 1, 1, 0]),
    itemNorms: new Float32Array([1, 2, 1, 1, 5]),
  });

  it('never proposes a seen or hidden item, and scores ANN, co-visit and trending sources', () => {
    const candidates = candidatesForUser('u1', snapshot, embeddings, catalog);
    const ids = candidates.map((candidate) => candidate.itemId);
    expect(ids).toContain('b');
    expect(ids).not.toContain('a');
    expect(ids).not.toContain('h');
    const b = candidates.find((candidate) => candidate.itemId === 'b');
    if (!b) throw new Error('b missing');
    const features = candidateFeatures(b, userFeatureInputs('u1', snapshot, catalog), snapshot, catalog);
    expect(features.ann_score).toBeCloseTo(Math.SQRT1_2 * 2, 5);
    expect(features.covisit_score).toBeGreaterThan(0);
    expect(features.source_count).toBe(3);
    expect(features.is_recent_category).toBe(1);
    expect(features.category_affinity).toBe(1); // u1's only affinity is jazz, one of b's categories
  });
});

describe('trainer input', () => {
  it('maps stored event types to interaction types and refuses unknown ones', () => {
    expect(interactionTypeOf('add_to_cart')).toBe('ADD_TO_CART');
    expect(() => interactionTypeOf('teleport')).toThrow(/teleport/);
  });
});
