// The Redis read model shared by projector (writes), and query and recommender (reads): key layout, the decay and
// weight arithmetic, co-visitation pairing, the recent-list entry format and the Redis client.
export { catalogFields, DELETED_CATALOG_FIELDS, parseCatalogView, parseStringList, type CatalogView } from './catalog';
export { coVisitLookBack, coVisitPartners, type CoVisitOptions, type CoVisitPartner } from './covisit';
export { decayedValue, DECAY_EPOCH_MS, halfLifeMs, logAddExp, logDecayedWeight } from './decay';
export {
  allVersionsKeyPattern,
  CATALOG_CHANGES_FIELD,
  FORGET_COUNT_FIELD,
  controlKeys,
  escapeKeyPart,
  EVENT_SCOPE_TAG,
  forgottenUserField,
  hashTagOf,
  projectionKeys,
  recentListKeyPattern,
  tagKeyPattern,
  unescapeKeyPart,
  userIdOfRecentListKey,
  TRENDING_TAG,
  versionKeyPattern,
  versionOfKey,
  versionPrefix,
  watermarkSource,
  type ControlKeys,
  type ItemKeys,
  type ProjectionKeys,
  type TrendingKeys,
  type UserKeys,
} from './keys';
export { mergeCoVisits, mergeCoVisitsAs, type CoVisit, type MergedCoVisit } from './merge-co-visits';
export {
  followProjections,
  redisProjectionReader,
  type FollowedReader,
  type ItemProjection,
  type ProjectionReader,
  type RankedItem,
  type UserProjection,
} from './reader';
export { decodeRecentEntry, encodeRecentEntry, type RecentEntry } from './recent';
export { createRedis, inOneWrite, luaScript, runScript, scanKeys, unlinkKeys, type LuaScript, type RedisClient } from './redis';
export { EVENT_TYPE_NAMES, eventTypeName, interactionWeight, MAX_RATING_WEIGHT } from './weights';

export { parseProjectionVersion, projectorGroupOf, readProjectionVersion, watchForChanges, watchProjectionVersion } from './versions';
