// The projector's Redis adapter: reads what a batch's plan depends on, runs the apply script.
import type { ProjectionConfig } from '@orrery/config';
import {
  decodeRecentEntry,
  forgottenUserField,
  parseStringList,
  runScript,
  tagKeyPattern,
  type ControlKeys,
  type ProjectionKeys,
  type RecentEntry,
  type RedisClient,
} from '@orrery/projections';
import { APPLY_SCRIPT, scriptCalls, type ScriptScope } from './apply-script';
import { snapshotNeeds, type CatalogFacts, type EventPlan, type IncomingEvent, type Snapshot } from './plan';

/** What applying a plan did: all of it, none of it (a redelivery), or the rest of a partly applied one (slot scope). */
export type ApplyOutcome = 'applied' | 'duplicate' | 'completed';

/** Reads the projector's inputs and writes its outputs in Redis. */
export interface ProjectionStore {
  /** Reads the recent lists and catalog facts a batch's plan depends on: one round trip. */
  readSnapshot(events: readonly IncomingEvent[]): Promise<Snapshot>;
  /**
   * Applies a plan exactly once. The script calls are sent before this returns its promise, so plans
   * applied one after another without awaiting run in that order on the server (a plan with an
   * eraseTag first SCANs, so the caller must await it before sending later plans).
   */
  apply(plan: EventPlan): Promise<ApplyOutcome>;
}

/** A ProjectionStore over one ioredis client. */
export function redisProjectionStore(redis: RedisClient, keys: ProjectionKeys, control: ControlKeys, config: ProjectionConfig, scope: ScriptScope): ProjectionStore {
  return {
    async readSnapshot(events) {
      const needs = snapshotNeeds(events);
      const users = [...needs.users];
      const items = [...needs.items];
      const deletedItems = [...needs.deletedItems];
      // Deep enough for this batch's partners even when a replay finds the batch's own events (and
      // some later ones) already at the head of the list.
      const depth = (count: number): number => Math.min(config.recentLimit, config.coVisitPartners * 3 + count + 16);
      const [lists, catalogs, forgottenAt, coVisited] = await Promise.all([
        Promise.all(users.map(([userId, count]) => (count > 0 ? redis.lrange(keys.user(userId).recent, 0, depth(count) - 1) : Promise.resolve([])))),
        Promise.all(items.map((itemId) => redis.hmget(keys.item(itemId).catalog, 'categories', 'deleted'))),
        users.length > 0 ? redis.hmget(control.forgotten, ...users.map(([userId]) => forgottenUserField(userId))) : Promise.resolve([]),
        Promise.all(deletedItems.map((itemId) => redis.zrange(keys.item(itemId).coVisits, 0, -1))),
      ]);
      const recent = new Map<string, RecentEntry[]>();
      const forgotten = new Map<string, bigint>();
      users.forEach(([userId], index) => {
        recent.set(userId, (lists[index] ?? []).map(decodeRecentEntry).filter((entry): entry is RecentEntry => entry !== undefined));
        const sequence = forgottenAt[index];
        if (sequence) forgotten.set(userId, BigInt(sequence));
      });
      const catalog = new Map<string, CatalogFacts>();
      items.forEach((itemId, index) => {
        const [categories, deleted] = catalogs[index] ?? [];
        if (deleted === '1') catalog.set(itemId, { categories: [], deleted: true });
        else if (categories !== null && categories !== undefined) catalog.set(itemId, { categories: parseStringList(categories), deleted: false });
      });
      const coVisitedWith = new Map(deletedItems.map((itemId, index) => [itemId, coVisited[index] ?? []]));
      return { recent, catalog, forgotten, coVisitedWith };
    },

    apply(plan) {
      const run = (erased: readonly string[]): Promise<ApplyOutcome> => {
        const full = erased.length === 0 ? plan : { ...plan, ops: [...plan.ops, ...erased.map((key) => ({ kind: 'del' as const, key }))] };
        const calls = scriptCalls(full, keys, scope, config.appliedTtlSeconds);
        const results = calls.map((call) => runScript(redis, APPLY_SCRIPT, call.keys, call.args));
        return Promise.all(results).then((applied) => {
          const count = applied.filter((result) => result === 1).length;
          return count === applied.length ? 'applied' : count === 0 ? 'duplicate' : 'completed';
        });
      };
      if (plan.eraseTag === undefined) return run([]);
      // The erased slot's own marker of this plan (slot scope sets it in the same script) goes too.
      const ownMarker = keys.applied(plan.eraseTag, plan.appliedId);
      return scanKeys(redis, tagKeyPattern(keys.prefix, plan.eraseTag)).then((found) => run([...found.filter((key) => key !== ownMarker), ownMarker]));
    },
  };
}

/** Every key matching `pattern` (on every master of a cluster). SCAN walks the keyspace without blocking Redis. */
export async function scanKeys(redis: RedisClient, pattern: string): Promise<string[]> {
  const nodes = 'nodes' in redis && typeof redis.nodes === 'function' && 'isCluster' in redis && redis.isCluster ? redis.nodes('master') : [redis];
  const found: string[] = [];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      found.push(...batch);
    } while (cursor !== '0');
  }
  return found;
}
