import { RECOMMENDED_LISTPACK_ENTRIES, sortedSetEncodingWarning } from './sorted-set-encoding';

describe('sortedSetEncodingWarning', () => {
  it('warns when co-visit sets never outgrow the listpack encoding, naming both settings', () => {
    const warning = sortedSetEncodingWarning(128, 100);
    expect(warning).toContain('zset-max-listpack-entries');
    expect(warning).toContain('ORRERY_COVISIT_LIMIT');
    expect(warning).toContain(`to ${RECOMMENDED_LISTPACK_ENTRIES}`);
    expect(sortedSetEncodingWarning(100, 100)).toBeDefined();
  });

  it('is silent when co-visit sets become skiplists', () => {
    expect(sortedSetEncodingWarning(RECOMMENDED_LISTPACK_ENTRIES, 100)).toBeUndefined();
    expect(sortedSetEncodingWarning(99, 100)).toBeUndefined();
  });
});
