// The projector's Redis adapter: reads what a batch's plan depends on, runs the apply script.
import type { ProjectionConfig } from '@orrery/config';
import {
  CATALOG_CHANGES_FIELD,
  coVisitLookBack,
  FORGET_COUNT_FIELD,
  decodeRecentEntry,
  forgottenUserField,
  hashTagOf,
  inOneWrite,
  parseStringList,
  runScript,
  type ControlKeys,
  type ProjectionKeys,
  type RecentEntry,
  type RedisClient,
} from '@orrery/projections';
import { projectorRecentLists } from '@orrery/metrics';
import { APPLY_SCRIPT, encodeCall, scriptCalls, type CounterCheck, type ScriptCall, type ScriptChain, type ScriptPart, type ScriptScope } from './apply-script';
import { pairableItems, snapshotNeeds, type CatalogFacts, type EventPlan, type IncomingEvent, type Snapshot, type SnapshotNeeds } from './plan';
import { CatalogFactsCache, type KeptFacts } from './catalog-facts';
import type { RecentHeads } from './recent-heads';

/** What applying a plan did: all of it, none of it (a redelivery), or the rest of a partly applied one (slot scope). */
export type ApplyOutcome = 'applied' | 'duplicate' | 'completed';

/** Reads the projector's inputs and writes its outputs in Redis. */
export interface ProjectionStore {
  /**
   * Reads the recent lists and catalog facts a batch's plan depends on (the facts of the batch's items
   * and of the items its users' lists may pair them with): one round trip, and a second one for the
   * facts not held of items named by the lists read or, after a catalog change, of every item. A user
   * whose list head `heads` holds is not read. When the forget count read differs from the one read
   * before, every head is forgotten: a user held may have been forgotten since (see snapshotInMemory).
   */
  readSnapshot(events: readonly IncomingEvent[], heads?: RecentHeads): Promise<Snapshot>;
  /**
   * Applies plans, in order, each exactly once, in one script call per slot (one in all for a
   * standalone Redis): commutative updates of the batch are merged before they reach Redis. A plan
   * that deletes watermarks must be applied alone (a batch of one). For a standalone Redis the script
   * call is sent before this returns its promise, so batches applied one after another without
   * awaiting run in that order. On a Redis Cluster a forget's tombstone call goes first and the call
   * that moves the catalog change count last (see applyCalls), so each batch must be awaited before
   * the next (apply-chunk.ts chains nothing there).
   */
  applyAll(plans: readonly EventPlan[], token?: string): Promise<ApplyOutcome[]>;
  /**
   * What the plan of `events` depends on, from memory only: the recent lists from `listOf` and the
   * catalog facts held (of the events' items and of those the lists may pair them with), with the
   * counts (catalog changes, forgets) they are current at, which the script must check. Undefined when
   * anything is not in memory, when an event is not an interaction, or on a Redis Cluster. No forgotten user is listed: `listOf` must give only lists of users whose
   * tombstone a snapshot read found absent, at the forget count returned (readSnapshot forgets every
   * head when that count moves; apply-chunk.ts keeps no head of a user it found forgotten).
   */
  snapshotInMemory(events: readonly IncomingEvent[], listOf: (userId: string) => readonly RecentEntry[] | undefined): { readonly snapshot: Snapshot; readonly counts: readonly CounterCheck[] } | undefined;
  /**
   * Applies plans of interactions (one script call, event scope) only if the call `chain.after` names
   * was applied in full and the counts `chain.counts` have not moved; otherwise, and when any of them is
   * a redelivery, writes nothing and resolves to undefined. Sent before it returns.
   */
  applyAfter(plans: readonly EventPlan[], chain: ScriptChain): Promise<ApplyOutcome[] | undefined>;
}

/** A ProjectionStore over one ioredis client. */
export function redisProjectionStore(
  redis: RedisClient,
  keys: ProjectionKeys,
  control: ControlKeys,
  config: ProjectionConfig,
  scope: ScriptScope,
  cachedItems: number,
): ProjectionStore {
  // On a Redis Cluster ('slot' scope) a catalog change's count and its item's facts are written by
  // separate scripts on separate nodes (the count's last, see applyCalls), but a snapshot reads them
  // from those nodes in no set order: a count read there says nothing of the facts read beside it, so
  // nothing is kept.
  const catalogFacts = new CatalogFactsCache(scope === 'slot' ? 0 : cachedItems);
  // The watermark hashes of the slots of the catalog change count (its call goes last) and of the
  // forget tombstones (their call goes first), see applyCalls.
  const catalogCountWatermarks = keys.applied(hashTagOf(keys.trending.changes));
  const forgetTombstoneWatermarks = keys.applied(hashTagOf(control.forgotten));
  // The forget count the heads' users were found not forgotten at (undefined: none read yet).
  let forgetsRead: string | null | undefined;
  // A failed call may have written part of a catalog change (a script is not rolled back): the facts held are read again.
  const resetFactsOnFailure = <T>(applying: Promise<T>): Promise<T> =>
    applying.catch((error: unknown) => {
      catalogFacts.reset(undefined);
      throw error;
    });
  const readFacts = (items: readonly string[]): Promise<(string | null)[][]> => Promise.all(items.map((itemId) => redis.hmget(keys.item(itemId).catalog, 'categories', 'deleted')));
  const store: ProjectionStore = {
    async readSnapshot(events, heads) {
      const needs = snapshotNeeds(events);
      const users = [...needs.users];
      const known = users.map(([userId, count]) => (count > 0 ? heads?.get(userId) : undefined));
      const kept = known.reduce((sum, head) => sum + (head === undefined ? 0 : 1), 0);
      projectorRecentLists.inc({ source: 'memory' }, kept);
      projectorRecentLists.inc({ source: 'redis' }, users.reduce((sum, [, count]) => sum + (count > 0 ? 1 : 0), 0) - kept);
      // The batch's items and those the heads held may pair them with; the lists read add theirs below.
      const items = new Set(needs.items);
      users.forEach(([userId], index) => {
        const head = known[index];
        if (head) for (const itemId of pairableOf(needs, userId, head)) items.add(itemId);
      });
      const firstItems = [...items];
      const heldFacts = firstItems.map((itemId) => catalogFacts.get(itemId));
      const unheld = firstItems.filter((_, index) => heldFacts[index] === undefined);
      const deletedItems = [...needs.deletedItems];
      // Deep enough for this batch's partners (coVisitLookBack before each) even when a replay finds
      // the batch's own events (and some later ones) already at the head of the list.
      const depth = (count: number): number => Math.min(config.recentLimit, coVisitLookBack(config.coVisitPartners, config.recentLimit) + count + 16);
      // The change count goes first: the facts read after it are at least as new (catalog-facts.ts).
      const [changeCount, forgetCount, lists, unheldFacts, forgottenAt, coVisited] = await inOneWrite(redis, () =>
        Promise.all([
          redis.hget(keys.trending.changes, CATALOG_CHANGES_FIELD),
          // Before the users' tombstones: what is read after it is at least as new.
          redis.hget(control.forgotten, FORGET_COUNT_FIELD),
          Promise.all(users.map(([userId, count], index) => (count > 0 && known[index] === undefined ? redis.lrange(keys.user(userId).recent, 0, depth(count) - 1) : Promise.resolve([])))),
          readFacts(unheld),
          users.length > 0 ? redis.hmget(control.forgotten, ...users.map(([userId]) => forgottenUserField(userId))) : Promise.resolve([]),
          Promise.all(deletedItems.map((itemId) => redis.zrange(keys.item(itemId).coVisits, 0, -1))),
        ]),
      );
      if (forgetCount !== forgetsRead) {
        // A forget was applied since (by this projector or another, of any version): a user held may
        // be one, and their earlier events must be skipped, which only a tombstone read tells.
        forgetsRead = forgetCount;
        heads?.forgetAll();
      }
      const recent = new Map<string, readonly RecentEntry[]>();
      const forgotten = new Map<string, bigint>();
      users.forEach(([userId], index) => {
        recent.set(userId, known[index] ?? (lists[index] ?? []).map(decodeRecentEntry).filter((entry): entry is RecentEntry => entry !== undefined));
        const sequence = forgottenAt[index];
        if (sequence) forgotten.set(userId, BigInt(sequence));
      });
      const catalog = new Map<string, CatalogFacts>();
      const note = (itemId: string, facts: KeptFacts): void => {
        if (facts) catalog.set(itemId, facts);
      };
      const keepRead = (itemIds: readonly string[], read: readonly (readonly (string | null)[])[]): void =>
        itemIds.forEach((itemId, index) => {
          const [categories, deleted] = read[index] ?? [];
          const facts = deleted === '1' ? { categories: [], deleted: true } : categories !== null && categories !== undefined ? { categories: parseStringList(categories), deleted: false } : null;
          catalogFacts.keep(itemId, facts);
          note(itemId, facts);
        });
      // Read again after the first round trip: the facts held, when a catalog change was applied since
      // they were read, and those of items only the lists read name.
      const readAgain: string[] = [];
      if (catalogFacts.readAt(changeCount)) {
        firstItems.forEach((itemId, index) => {
          const facts = heldFacts[index];
          if (facts !== undefined) note(itemId, facts);
        });
      } else {
        catalogFacts.reset(changeCount);
        readAgain.push(...firstItems.filter((_, index) => heldFacts[index] !== undefined));
      }
      keepRead(unheld, unheldFacts);
      users.forEach(([userId, count], index) => {
        if (count === 0 || known[index] !== undefined) return;
        for (const itemId of pairableOf(needs, userId, recent.get(userId) ?? [])) {
          if (items.has(itemId)) continue;
          items.add(itemId);
          // Held facts were read at changeCount (or dropped just now by the reset).
          const facts = catalogFacts.get(itemId);
          if (facts === undefined) readAgain.push(itemId);
          else note(itemId, facts);
        }
      });
      if (readAgain.length > 0) keepRead(readAgain, await inOneWrite(redis, () => readFacts(readAgain)));
      const coVisitedWith = new Map(deletedItems.map((itemId, index) => [itemId, coVisited[index] ?? []]));
      return { recent, catalog, forgotten, coVisitedWith };
    },

    snapshotInMemory(events, listOf) {
      const catalogCount = catalogFacts.countHeld();
      if (scope === 'slot' || catalogCount === undefined || forgetsRead === undefined) return undefined;
      if (events.some(({ event }) => event.payload.case !== 'interaction')) return undefined;
      const needs = snapshotNeeds(events);
      const recent = new Map<string, readonly RecentEntry[]>();
      const catalog = new Map<string, CatalogFacts>();
      for (const itemId of needs.items) {
        const facts = catalogFacts.get(itemId);
        if (facts === undefined) return undefined;
        if (facts) catalog.set(itemId, facts);
      }
      for (const userId of needs.users.keys()) {
        const list = listOf(userId);
        if (list === undefined) return undefined;
        recent.set(userId, list);
        // Of a partner, only a deletion changes the plan (no facts pair as live ones do): the facts of
        // the live ones, most of them, are checked held but not copied.
        for (const itemId of pairableOf(needs, userId, list)) {
          const facts = catalogFacts.get(itemId);
          if (facts === undefined) return undefined;
          if (facts?.deleted) catalog.set(itemId, facts);
        }
      }
      projectorRecentLists.inc({ source: 'memory' }, recent.size);
      const counts: CounterCheck[] = [
        { key: keys.trending.changes, field: CATALOG_CHANGES_FIELD, value: catalogCount },
        { key: control.forgotten, field: FORGET_COUNT_FIELD, value: forgetsRead },
      ];
      return { snapshot: { recent, catalog, forgotten: new Map(), coVisitedWith: new Map() }, counts };
    },

    applyAfter(plans, chain) {
      if (plans.length === 0) return Promise.resolve([]);
      const [call] = scriptCalls(plans, keys, scope, chain);
      const result = resetFactsOnFailure(runScript(redis, APPLY_SCRIPT, call!.keys, call!.args));
      // An empty array: applied in full (but for the copies left out within the chunk, as applyAll
      // counts them). A status (BEHIND, STALE) or the watermarks found: nothing written.
      const sent = new Set(call!.sent.map((part) => part.index));
      return result.then((reply) => (Array.isArray(reply) && reply.length === 0 ? plans.map((_, index): ApplyOutcome => (sent.has(index) ? 'applied' : 'duplicate')) : undefined));
    },

    applyAll(plans, token = '') {
      if (plans.length === 0) return Promise.resolve([]);
      if (plans.length > 1 && plans.some((plan) => plan.deletesWatermarks)) return Promise.reject(new Error('a plan that deletes watermarks must be applied alone'));
      const calls = scriptCalls(plans, keys, scope, { token });
      const applied = resetFactsOnFailure(applyCalls(calls));
    return applied.then((appliedParts) => {
      const applied = plans.map(() => 0);
      const parts = plans.map(() => 0);
      calls.forEach((call, callIndex) => {
        for (const part of call.parts) {
          parts[part.index] = (parts[part.index] ?? 0) + 1;
          if (appliedParts[callIndex]!.has(part)) applied[part.index] = (applied[part.index] ?? 0) + 1;
        }
      });
      // A plan with no op at all (none in slot scope) counts as applied.
      return plans.map((_, index): ApplyOutcome => {
        const count = applied[index] ?? 0;
        const of = parts[index] ?? 0;
        return count === of ? 'applied' : count === 0 ? 'duplicate' : 'completed';
      });
    });
    },
  };
  return store;

  /** The items of `userId`'s list that the batch's interactions of the user may pair with. */
  function pairableOf(needs: SnapshotNeeds, userId: string, list: readonly RecentEntry[]): string[] {
    const first = needs.firstInteractions.get(userId);
    return first === undefined ? [] : pairableItems(list, first, coVisitLookBack(config.coVisitPartners, config.recentLimit));
  }

  /**
   * Runs the calls of one batch; resolves to the parts each applied, in the order of `calls`. They go
   * concurrently, but for two calls of slot scope that others must not overtake:
   * - the call that writes a forget's tombstone (the {control} slot's) goes first, alone: the user's
   *   slot, its watermarks included, is deleted only once the tombstone exists, so a redelivered
   *   earlier event of the user is skipped (planned against the tombstone) instead of writing the
   *   user's data back;
   * - the call that moves the catalog change count (the {trending} slot's, when the batch holds a
   *   catalog change) goes last, once every other call has applied. Readers that cache catalog facts
   *   drop them when the count moves (the recommender's followCatalogChanges): a count moved before
   *   the item's facts were written would let them cache the old facts as current, and nothing would
   *   move it again.
   * When a call fails, the calls after it are not sent (the batch fails). Exactly once holds as
   * before: each call is exactly once on its own, by its slot's watermarks, whatever the others did
   * (sent one after another is one of the orders sent together allowed, and a call not sent is one
   * that failed); on redelivery the parts already applied are skipped and the rest go in the same
   * order.
   */
  async function applyCalls(calls: readonly ScriptCall[]): Promise<Set<ScriptPart>[]> {
    if (scope !== 'slot' || calls.length < 2) return Promise.all(calls.map(applyCall));
    const first = calls.findIndex(writesForgetTombstone);
    const last = calls.findIndex(movesCatalogCount);
    const applied: Set<ScriptPart>[] = [];
    const applyAt = async (indexes: readonly number[]): Promise<void> => {
      const results = await Promise.all(indexes.map((index) => applyCall(calls[index]!)));
      indexes.forEach((index, at) => (applied[index] = results[at]!));
    };
    if (first !== -1) await applyAt([first]);
    await applyAt(calls.flatMap((_, index) => (index === first || index === last ? [] : [index])));
    if (last !== -1) await applyAt([last]);
    return applied;
  }

  /** Whether the call writes a forget's tombstone (planUserForget): only the tombstone's slot's call can. */
  function writesForgetTombstone(call: ScriptCall): boolean {
    return call.watermarks === forgetTombstoneWatermarks && call.parts.some((part) => part.ops.some((op) => op.key === control.forgotten));
  }

  /** Whether the call counts a catalog change (catalogChanged in plan.ts): only the count's slot's call can. */
  function movesCatalogCount(call: ScriptCall): boolean {
    return call.watermarks === catalogCountWatermarks && call.parts.some((part) => part.ops.some((op) => op.key === keys.trending.changes));
  }

  /**
   * Runs one call; when the script finds watermarks at or past some of its parts (redeliveries), it
   * wrote nothing, and the call goes again without those parts, and without the call's token (what it
   * applies is not what a call chained to it was planned on). Resolves to the parts applied.
   */
  async function applyCall(call: ScriptCall): Promise<Set<ScriptPart>> {
    let attempt = call;
    while (attempt.sent.length > 0) {
      const found = (await runScript(redis, APPLY_SCRIPT, attempt.keys, attempt.args)) as readonly string[];
      if (found.length === 0) return new Set(attempt.sent);
      const watermarks = new Map<string, bigint>();
      for (let n = 0; n + 1 < found.length; n += 2) watermarks.set(found[n]!, BigInt(found[n + 1]!));
      attempt = encodeCall(
        attempt.watermarks,
        attempt.sent.filter(({ position }) => position.sequence > (watermarks.get(position.source) ?? -1n)),
        { token: '' },
      );
    }
    return new Set();
  }
}
