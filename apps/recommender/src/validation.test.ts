import { status } from '@orrery/grpc';
import { refusal } from '@orrery/testing';
import { validatePopularRequest, validateRecommendRequest, validateSimilarItemsRequest } from './validation';

const emptyFilter = { includeCategories: [], excludeCategories: [], excludeItemIds: [] };
const request = (overrides: Partial<Parameters<typeof validateRecommendRequest>[0]> = {}) =>
  validateRecommendRequest({ userId: 'user-1', count: 5, filter: emptyFilter, context: {}, ...overrides });

describe('request validation', () => {
  it('when count is 0, ten items are asked for', () => {
    expect(request({ count: 0 }).count).toBe(10);
    expect(validatePopularRequest({ count: 0 }).count).toBe(10);
    expect(validateSimilarItemsRequest({ itemId: 'i', count: 0 }).count).toBe(10);
  });

  it('when count is negative or above 500, the request is refused naming count', () => {
    for (const count of [-1, 501, 10_000]) {
      expect(refusal(() => request({ count }))).toMatchObject({ code: status.INVALID_ARGUMENT, message: 'count: must be between 0 and 500' });
    }
    expect(request({ count: 500 }).count).toBe(500);
  });

  it('when the user id is empty, too long or has control characters, the request is refused naming user_id', () => {
    expect(refusal(() => request({ userId: '' })).message).toBe('user_id: must not be empty');
    expect(refusal(() => request({ userId: 'u'.repeat(257) })).message).toBe('user_id: must be at most 256 characters');
    expect(refusal(() => request({ userId: 'bad\nid' })).message).toBe('user_id: must not contain control characters');
    expect(request({ userId: 'u'.repeat(256) }).userId).toHaveLength(256);
  });

  it('when an id is blank, the request is refused; its length is counted in characters, as ingestion counts it', () => {
    expect(refusal(() => request({ userId: ' \u00a0' })).message).toBe('user_id: must not be blank');
    // 200 emoji: 200 characters (ingestion stores such an item), 400 UTF-16 units.
    const emoji = '\u{1F600}'.repeat(200);
    expect(request({ userId: emoji }).userId).toBe(emoji);
    expect(validateSimilarItemsRequest({ itemId: emoji, count: 1 }).itemId).toBe(emoji);
    expect(request({ filter: { ...emptyFilter, excludeItemIds: [emoji] } }).filter.excludeItemIds.has(emoji)).toBe(true);
    expect(refusal(() => validateSimilarItemsRequest({ itemId: '\u{1F600}'.repeat(257), count: 1 })).message).toBe('item_id: must be at most 256 characters');
  });

  it('when the item id of SimilarItems is empty, the request is refused naming item_id', () => {
    expect(refusal(() => validateSimilarItemsRequest({ itemId: '', count: 1 }))).toMatchObject({ code: status.INVALID_ARGUMENT, message: 'item_id: must not be empty' });
  });

  it('when a filter list is too long or has a bad entry, the request is refused naming that list', () => {
    const many = Array.from({ length: 1_001 }, (_, i) => `item-${i}`);
    expect(refusal(() => request({ filter: { ...emptyFilter, excludeItemIds: many } })).message).toMatch(/^filter\.exclude_item_ids: must have at most 1000 entries/);
    const categories = Array.from({ length: 101 }, (_, i) => `c${i}`);
    expect(refusal(() => request({ filter: { ...emptyFilter, includeCategories: categories } })).message).toMatch(/^filter\.include_categories: /);
    expect(refusal(() => request({ filter: { ...emptyFilter, excludeCategories: ['ok', ''] } })).message).toBe('filter.exclude_categories[1]: must not be empty');
  });

  it('when no filter is given, nothing is filtered out', () => {
    const query = validatePopularRequest({ count: 3 });
    expect(query.filter.includeCategories.size + query.filter.excludeCategories.size + query.filter.excludeItemIds.size).toBe(0);
  });

  it('when the context has too many entries, the request is refused naming context', () => {
    const context = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v']));
    expect(refusal(() => request({ context })).message).toMatch(/^context: must have at most 64 entries/);
    expect(request({ context: { device: 'mobile' } }).context.get('device')).toBe('mobile');
  });

  it('when a context key is empty or has a control character, the refusal names that entry', () => {
    expect(refusal(() => request({ context: { device: 'mobile', '': 'x' } })).message).toBe('context[""]: key must not be empty');
    expect(refusal(() => request({ context: { 'page\u0001': 'x' } })).message).toBe('context["page\\u0001"]: key must not contain control characters');
  });
});
