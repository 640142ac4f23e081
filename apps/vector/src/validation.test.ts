import { status } from '@orrery/grpc';
import { refusal } from '@orrery/testing';
import { validateSearchForUser, validateSimilarTo } from './validation';

describe('request validation', () => {
  it('when an id is empty, blank, too long or has a control character, the request is refused naming the field', () => {
    expect(refusal(() => validateSimilarTo({ itemId: '', count: 1 }))).toMatchObject({ code: status.INVALID_ARGUMENT, message: 'item_id: must not be empty' });
    expect(refusal(() => validateSimilarTo({ itemId: ' ', count: 1 })).message).toBe('item_id: must not be blank');
    expect(refusal(() => validateSimilarTo({ itemId: 'i'.repeat(257), count: 1 })).message).toBe('item_id: must be at most 256 characters');
    expect(refusal(() => validateSearchForUser({ recentItemIds: ['a', 'b\n'], count: 1, excludeItemIds: [] })).message).toBe('recent_item_ids[1]: must not contain control characters');
  });

  it('when an id is 200 emoji (200 characters, as ingestion counts them; 400 UTF-16 units), it is accepted', () => {
    const emoji = '\u{1F600}'.repeat(200);
    expect(validateSimilarTo({ itemId: emoji, count: 1 }).itemId).toBe(emoji);
    expect(validateSearchForUser({ recentItemIds: [emoji], count: 1, excludeItemIds: [emoji] }).recentItemIds).toEqual([emoji]);
  });

  it('when count is below 1 or above 2000, the request is refused naming count', () => {
    expect(refusal(() => validateSimilarTo({ itemId: 'a', count: 0 })).message).toBe('count: must be between 1 and 2000, got 0');
    expect(refusal(() => validateSimilarTo({ itemId: 'a', count: 2001 })).message).toBe('count: must be between 1 and 2000, got 2001');
  });
});
