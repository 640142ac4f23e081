import { escapeKeyPart, hashTagOf, projectionKeys } from './keys';

describe('key layout', () => {
  const keys = projectionKeys('orrery_test');

  it('when keys of one user are built, they all share the user hash tag', () => {
    const user = keys.user('alice');
    const tags = [user.recent, user.seen, user.stats, user.affinity, user.attributes, keys.applied(user.tag)].map(hashTagOf);
    expect(new Set(tags)).toEqual(new Set(['u:alice']));
    expect(user.recent.startsWith('orrery_test:')).toBe(true);
  });

  it('when keys of one item are built, they all share the item hash tag, distinct from a user of the same id', () => {
    const item = keys.item('alice');
    const tags = [item.catalog, item.stats, item.users, item.coVisits, keys.applied(item.tag)].map(hashTagOf);
    expect(new Set(tags)).toEqual(new Set(['i:alice']));
    expect(hashTagOf(keys.user('alice').stats)).not.toBe(hashTagOf(item.stats));
  });

  it('when global rankings are built, overall, per-category and hidden share their own tag', () => {
    const tags = [keys.trending.overall, keys.trending.category('shoes'), keys.trending.hidden].map(hashTagOf);
    expect(new Set(tags)).toEqual(new Set(['trending']));
  });

  it('when an id contains braces, it cannot end the hash tag early or collide with another id', () => {
    const tricky = keys.user('a}:recent');
    expect(hashTagOf(tricky.stats)).toBe(hashTagOf(tricky.recent));
    expect(hashTagOf(tricky.stats)).not.toBe(hashTagOf(keys.user('a').stats));
    expect(escapeKeyPart('%7D')).not.toBe(escapeKeyPart('}'));
  });

  it('when the prefix carries a brace, the layout refuses it', () => {
    expect(() => projectionKeys('bad{prefix}')).toThrow(/prefix/);
  });
});
