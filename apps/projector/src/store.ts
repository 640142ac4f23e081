// The projector's Redis adapter: reads what a batch's plan depends on, runs the apply script.
import type { ProjectionConfig } from '@orrery/config';
import { decodeRecentEntry, parseStringList, runScript, type ProjectionKeys, type RecentEntry, type RedisClient } from '@orrery/projections';
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
   * applied one after another without awaiting run in that order on the server.
   */
  apply(plan: EventPlan): Promise<ApplyOutcome>;
}

/** A ProjectionStore over one ioredis client. */
export function redisProjectionStore(redis: RedisClient, keys: ProjectionKeys, config: ProjectionConfig, scope: ScriptScope): ProjectionStore {
  return {
    async readSnapshot(events) {
      const needs = snapshotNeeds(events);
      const users = [...needs.users];
      const items = [...needs.items];
      // Deep enough for this batch's partners even when a replay finds the batch's own events (and
      // some later ones) already at the head of the list.
      const depth = (count: number): number => Math.min(config.recentLimit, config.coVisitPartners * 3 + count + 16);
      const [lists, categories] = await Promise.all([
        Promise.all(users.map(([userId, count]) => redis.lrange(keys.user(userId).recent, 0, depth(count) - 1))),
        Promise.all(items.map((itemId) => redis.hget(keys.item(itemId).catalog, 'categories'))),
      ]);
      const recent = new Map<string, RecentEntry[]>();
      users.forEach(([userId], index) => {
        recent.set(userId, (lists[index] ?? []).map(decodeRecentEntry).filter((entry): entry is RecentEntry => entry !== undefined));
      });
      const catalog = new Map<string, CatalogFacts>();
      items.forEach((itemId, index) => {
        const encoded = categories[index];
        if (encoded !== null && encoded !== undefined) catalog.set(itemId, { categories: parseStringList(encoded) });
      });
      return { recent, catalog };
    },

    apply(plan) {
      const calls = scriptCalls(plan, keys, scope, config.appliedTtlSeconds);
      const results = calls.map((call) => runScript(redis, APPLY_SCRIPT, call.keys, call.args));
      return Promise.all(results).then((applied) => {
        const count = applied.filter((result) => result === 1).length;
        return count === applied.length ? 'applied' : count === 0 ? 'duplicate' : 'completed';
      });
    },
  };
}
