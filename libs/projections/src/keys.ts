import { createHash } from 'node:crypto';

// The Redis key layout of the read model. Every key starts with the deployment's prefix and holds
// exactly one Redis Cluster hash tag, so the keys one Lua script touches can live in one slot:
//
//   <prefix>:{u:<user>}:recent     LIST   recent interactions, newest first (encodeRecentEntry)
//   <prefix>:{u:<user>}:seen       LIST   distinct items, most recently interacted first (a list, not a
//                                         ZSET: 500 ids stay one compact listpack, ~10x smaller)
//   <prefix>:{u:<user>}:stats      HASH   <EVENT TYPE NAME> -> count, last_active -> ms
//   <prefix>:{u:<user>}:affinity   ZSET   category -> log-space decayed affinity (decay.ts)
//   <prefix>:{u:<user>}:attrs      HASH   the user's attributes (user_upserted)
//   <prefix>:{i:<item>}:catalog    HASH   categories (JSON), tags (JSON), hidden (0/1), published_at (ms)
//   <prefix>:{i:<item>}:stats      HASH   n -> interaction count, pop -> log-space decayed popularity
//   <prefix>:{i:<item>}:users      HLL    distinct users who interacted
//   <prefix>:{i:<item>}:covis      ZSET   co-visited item -> log-space decayed co-visit weight
//   <prefix>:{trending}:all        ZSET   item -> log-space decayed popularity (visible items only)
//   <prefix>:{trending}:cat:<c>    ZSET   the same per category
//   <prefix>:{trending}:hidden     SET    hidden items (checked atomically when trending is written)
//   <prefix>:{trending}:changes    HASH   catalog -> count of catalog changes applied (item upserted or
//                                         deleted): readers that cache catalog facts drop them when it moves
//   <prefix>:{<tag>}:applied       HASH   <topic>/<partition> -> highest commit sequence from that Kafka
//                                         partition applied in the slot of <tag> (exactly-once effect);
//                                         tag `events` when whole events run as one script (event scope)
//
// A deleted item keeps only `<prefix>:{i:<item>}:catalog` = {deleted: 1} (so interactions planned after
// it count for the user only) and its id in {trending}:hidden (so it can never rank again).
//
// Projection versions (rebuild, see apps/projector/src/rebuild.ts): version 0 lives directly under the
// configured base prefix, version N under `<base>:v<N>`. Control keys, outside every version:
//
//   <base>:{control}:version     STRING the version readers and the projector use (absent: 0)
//   <base>:{control}:forgotten   HASH   sha256(user id) -> sequence of the UserForgotten event; events
//                                       of that user with a lower sequence are never projected again;
//                                       field `count`: how many forgets were applied (FORGET_COUNT_FIELD)
//   <base>:{control}:rebuild     STRING the token of the rebuild running (a lease with a TTL, renewed while
//                                       it runs): one rebuild at a time
//
// Ids are escaped (%, {, }) so an id can never end a hash tag early or make two keys collide.

/** The hash tag of the global rankings: all of them share one slot. */
export const TRENDING_TAG = 'trending';

/** The keys of one user's projections. */
export interface UserKeys {
  readonly tag: string;
  readonly recent: string;
  readonly seen: string;
  readonly stats: string;
  readonly affinity: string;
  readonly attributes: string;
}

/** The keys of one item's projections. */
export interface ItemKeys {
  readonly tag: string;
  readonly catalog: string;
  readonly stats: string;
  readonly users: string;
  readonly coVisits: string;
}

/** The keys of the global rankings. */
export interface TrendingKeys {
  readonly tag: string;
  readonly overall: string;
  readonly hidden: string;
  /** HASH: field CATALOG_CHANGES_FIELD counts the catalog changes applied. */
  readonly changes: string;
  category(category: string): string;
}

/** The field of `{trending}:changes` that counts catalog changes (item upserted or deleted). */
export const CATALOG_CHANGES_FIELD = 'catalog';

/** Every key of the read model under one prefix. */
export interface ProjectionKeys {
  readonly prefix: string;
  user(userId: string): UserKeys;
  item(itemId: string): ItemKeys;
  readonly trending: TrendingKeys;
  /** The applied-sequence watermarks of the slot of `tag` (one of the tags above, or EVENT_SCOPE_TAG). */
  applied(tag: string): string;
}

/** The tag of the one watermark hash used when whole events run as one script (a standalone Redis). */
export const EVENT_SCOPE_TAG = 'events';

/** The field of a Kafka partition in a watermark hash (`<prefix>:{<tag>}:applied`). */
export function watermarkSource(topic: string, partition: number): string {
  return `${topic}/${partition}`;
}

/** Users' (and items') key sets a ProjectionKeys keeps built at most. */
const KEYS_REMEMBERED = 50_000;

/** Builds the key layout under `prefix` (which must not contain a hash tag of its own). */
export function projectionKeys(prefix: string): ProjectionKeys {
  if (!prefix || /[{}]/.test(prefix)) throw new Error(`redis prefix "${prefix}" must be non-empty and contain no { or }`);
  const under = (tag: string): string => `${prefix}:{${tag}}`;
  // The same id gives the same key strings (a projector batch names one user's or item's keys dozens
  // of times; equal string objects hash once in every Map they key). Bounded: cleared when full.
  const users = new Map<string, UserKeys>();
  const items = new Map<string, ItemKeys>();
  const categories = new Map<string, string>();
  const remembered = <T>(cache: Map<string, T>, id: string, build: () => T): T => {
    let found = cache.get(id);
    if (found === undefined) {
      if (cache.size >= KEYS_REMEMBERED) cache.clear();
      found = build();
      cache.set(id, found);
    }
    return found;
  };
  return {
    prefix,
    user: (userId) =>
      remembered(users, userId, () => {
        const tag = `u:${escapeKeyPart(userId)}`;
        const base = under(tag);
        return { tag, recent: `${base}:recent`, seen: `${base}:seen`, stats: `${base}:stats`, affinity: `${base}:affinity`, attributes: `${base}:attrs` };
      }),
    item: (itemId) =>
      remembered(items, itemId, () => {
        const tag = `i:${escapeKeyPart(itemId)}`;
        const base = under(tag);
        return { tag, catalog: `${base}:catalog`, stats: `${base}:stats`, users: `${base}:users`, coVisits: `${base}:covis` };
      }),
    trending: {
      tag: TRENDING_TAG,
      overall: `${under(TRENDING_TAG)}:all`,
      hidden: `${under(TRENDING_TAG)}:hidden`,
      changes: `${under(TRENDING_TAG)}:changes`,
      category: (category) => remembered(categories, category, () => `${under(TRENDING_TAG)}:cat:${escapeKeyPart(category)}`),
    },
    applied: (tag) => `${under(tag)}:applied`,
  };
}

/** The control keys of a deployment (outside every projection version). */
export interface ControlKeys {
  readonly base: string;
  /** STRING: the current projection version (absent means 0). */
  readonly version: string;
  /** HASH: sha256(user id) → sequence of the user's UserForgotten event. */
  readonly forgotten: string;
  /** STRING: the token of the rebuild running (a lease that expires unless renewed); absent when none runs. */
  readonly rebuild: string;
}

/** The control keys under the configured base prefix. */
export function controlKeys(base: string): ControlKeys {
  projectionKeys(base);
  return { base, version: `${base}:{control}:version`, forgotten: `${base}:{control}:forgotten`, rebuild: `${base}:{control}:rebuild` };
}

/** The key prefix of projection `version` under `base`: version 0 is the base itself (the layout before versions existed). */
export function versionPrefix(base: string, version: number): string {
  if (!Number.isInteger(version) || version < 0) throw new Error(`projection version must be a non-negative integer, got ${version}`);
  return version === 0 ? base : `${base}:v${version}`;
}

/** The SCAN pattern of every key of projection `version` (never a control key or another version's key). */
export function versionKeyPattern(base: string, version: number): string {
  return `${globEscape(versionPrefix(base, version))}:{*`;
}

/** The SCAN pattern of every key under `base`: every version's keys and the control keys (versionOfKey tells them apart). */
export function allVersionsKeyPattern(base: string): string {
  return `${globEscape(base)}:*`;
}

/** The projection version a key under `base` belongs to (`<base>:{…` is 0, `<base>:v<N>:{…` is N); undefined for a control key or any other key. */
export function versionOfKey(base: string, key: string): number | undefined {
  if (!key.startsWith(`${base}:`)) return undefined;
  const rest = key.slice(base.length + 1);
  if (rest.startsWith('{')) return rest.startsWith('{control}') ? undefined : 0;
  const match = /^v([1-9][0-9]*):\{/.exec(rest);
  return match ? Number(match[1]) : undefined;
}

/** SCAN pattern of every key in one hash tag's slot under `prefix` (e.g. a user's keys and markers). */
export function tagKeyPattern(prefix: string, tag: string): string {
  return `${globEscape(prefix)}:{${globEscape(tag)}}:*`;
}

/** SCAN pattern of every user's recent list under `prefix` (one projection version). */
export function recentListKeyPattern(prefix: string): string {
  return `${globEscape(prefix)}:{u:*}:recent`;
}

/** The user id of a recent list key under `prefix` (as projectionKeys names it); undefined for any other key. */
export function userIdOfRecentListKey(prefix: string, key: string): string | undefined {
  const head = `${prefix}:{u:`;
  const tail = '}:recent';
  if (key.length <= head.length + tail.length || !key.startsWith(head) || !key.endsWith(tail)) return undefined;
  const escaped = key.slice(head.length, key.length - tail.length);
  return escaped.includes('}') ? undefined : unescapeKeyPart(escaped);
}

/**
 * The field of the forgotten-users hash counting the forgets applied (by any projector, of any
 * version): a projector that plans from memory checks it has not moved (apps/projector/src/apply-chunk.ts).
 * Not a digest (those are 64 hex digits), so it cannot collide with a user's field.
 */
export const FORGET_COUNT_FIELD = 'count';

/** The forgotten-users field of a user id: a digest, so the tombstone does not keep the id itself. */
export function forgottenUserField(userId: string): string {
  return createHash('sha256').update(userId).digest('hex');
}

function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, (character) => `\\${character}`);
}

/** Escapes an id for use inside a key: no braces (hash tags) and an unambiguous inverse. */
export function escapeKeyPart(id: string): string {
  return id.replace(/[%{}]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The id escapeKeyPart escaped. */
export function unescapeKeyPart(part: string): string {
  return part.replace(/%(25|7B|7D)/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** The hash tag Redis Cluster slots `key` by (the text inside the first non-empty {…}), or the key itself. */
export function hashTagOf(key: string): string {
  const open = key.indexOf('{');
  if (open < 0) return key;
  const close = key.indexOf('}', open + 1);
  if (close < 0 || close === open + 1) return key;
  return key.slice(open + 1, close);
}
