import { status } from '@orrery/grpc';
import { refusal } from '@orrery/testing';
import { countOrDefault, optionalCategory, requireId, requireIds } from './validation';

describe('request validation', () => {
  it('when an id is empty or oversized, the error is INVALID_ARGUMENT naming the field', () => {
    expect(() => requireId('user_id', '')).toThrow('user_id: must not be empty');
    expect(() => requireId('user_id', 'x'.repeat(257))).toThrow('user_id: must be at most 256 characters');
    expect(() => requireIds('item_ids', ['a', ''])).toThrow('item_ids[1]: must not be empty');
    expect(() => requireIds('item_ids', new Array<string>(1001).fill('a'))).toThrow('item_ids: must hold at most 1000 ids');
    expect(() => optionalCategory('category', 'c'.repeat(300))).toThrow('category:');
    expect(refusal(() => requireId('user_id', ''))).toMatchObject({ code: status.INVALID_ARGUMENT, message: 'user_id: must not be empty' });
  });

  it('when an id is blank or has a control character it is refused; its length is counted in characters, as ingestion counts it', () => {
    expect(() => requireId('user_id', '  ')).toThrow('user_id: must not be blank');
    expect(() => requireIds('item_ids', ['a', 'b\u0000'])).toThrow('item_ids[1]: must not contain control characters');
    expect(() => optionalCategory('category', '\t')).toThrow('category: must not contain control characters');
    expect(optionalCategory('category', '')).toBe('');
    // 200 emoji: 200 characters (ingestion stores such an item), 400 UTF-16 units.
    const emoji = '\u{1F600}'.repeat(200);
    expect(requireIds('item_ids', [emoji])).toEqual([emoji]);
    expect(() => requireId('user_id', '\u{1F600}'.repeat(257))).toThrow('user_id: must be at most 256 characters');
  });

  it('when a count is 0 it takes the default; negative or above 1000 is refused', () => {
    expect(countOrDefault('count', 0, 50)).toBe(50);
    expect(countOrDefault('count', 1000, 50)).toBe(1000);
    expect(() => countOrDefault('count', -1, 50)).toThrow('count: must be between 0 and 1000');
    expect(() => countOrDefault('recent_limit', 1001, 20)).toThrow('recent_limit: must be between 0 and 1000');
  });
});
