import { controlKeys, escapeKeyPart, hashTagOf, projectionKeys, recentListKeyPattern, unescapeKeyPart, userIdOfRecentListKey, versionOfKey, versionPrefix } from './keys';

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

describe('recent list keys', () => {
  it('give back the user id they were made of, escaped ids included', () => {
    for (const userId of ['user-7', 'a{b}c', '100%', '%7B', 'ü:{x']) {
      expect(unescapeKeyPart(escapeKeyPart(userId))).toBe(userId);
      expect(userIdOfRecentListKey('orrery:v3', projectionKeys('orrery:v3').user(userId).recent)).toBe(userId);
    }
  });

  it('are told apart from other keys, other versions and other prefixes', () => {
    const keys = projectionKeys('orrery:v3');
    expect(userIdOfRecentListKey('orrery:v3', keys.user('u1').seen)).toBeUndefined();
    expect(userIdOfRecentListKey('orrery:v3', keys.item('u1').catalog)).toBeUndefined();
    expect(userIdOfRecentListKey('orrery', keys.user('u1').recent)).toBeUndefined();
    expect(userIdOfRecentListKey('orrery:v3', 'orrery:v3:{u:}:recent')).toBeUndefined();
    expect(recentListKeyPattern('orrery:v3')).toBe('orrery:v3:{u:*}:recent');
    expect(recentListKeyPattern('a*b')).toBe('a\\*b:{u:*}:recent');
  });
});

describe('the version of a key', () => {
  it('is the version whose prefix built it; control keys and other prefixes have none', () => {
    expect(versionOfKey('orrery', projectionKeys(versionPrefix('orrery', 0)).user('u1').recent)).toBe(0);
    expect(versionOfKey('orrery', projectionKeys(versionPrefix('orrery', 12)).trending.overall)).toBe(12);
    expect(versionOfKey('orrery', projectionKeys(versionPrefix('orrery', 3)).applied('events'))).toBe(3);
    expect(versionOfKey('orrery', controlKeys('orrery').version)).toBeUndefined();
    expect(versionOfKey('orrery', controlKeys('orrery').rebuild)).toBeUndefined();
    expect(versionOfKey('orrery', projectionKeys('orrery_other').user('u1').recent)).toBeUndefined();
    expect(versionOfKey('orrery', projectionKeys('orrery:staging').user('u1').recent)).toBeUndefined();
    expect(versionOfKey('orrery', 'orrery:v0:{u:u1}:recent')).toBeUndefined();
  });
});
