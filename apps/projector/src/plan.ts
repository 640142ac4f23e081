// What applying a domain event does to the read model, as plain data: a list of operations on
// Redis keys. Pure — the Redis adapter (store.ts) runs them in one Lua script per event (or per
// hash tag on a cluster), after checking the slot's applied-sequence watermark.
import { timestampMs } from '@bufbuild/protobuf/wkt';
import type { ProjectionConfig } from '@orrery/config';
import {
  CATALOG_CHANGES_FIELD,
  catalogFields,
  coVisitLookBack,
  coVisitPartners,
  DELETED_CATALOG_FIELDS,
  FORGET_COUNT_FIELD,
  forgottenUserField,
  type ControlKeys,
  encodeRecentEntry,
  eventTypeName,
  halfLifeMs,
  interactionWeight,
  logDecayedWeight,
  type ProjectionKeys,
  type RecentEntry,
} from '@orrery/projections';
import type { DomainEvent, Event, Item, User } from '@orrery/proto';

/** One write of the read model. `key` decides the hash tag (slot) the operation runs in. */
export type Op =
  /** ZSET member += weight, in log space (log-add-exp), then keep the `keep` highest. */
  | { readonly kind: 'zlse'; readonly key: string; readonly member: string; readonly logWeight: number; readonly keep: number }
  /** As zlse, unless `member` is in the SET `hiddenKey` (same hash tag): hidden items never rank. */
  | { readonly kind: 'zlseVisible'; readonly key: string; readonly hiddenKey: string; readonly member: string; readonly logWeight: number; readonly keep: number }
  /** HASH field += weight, in log space. */
  | { readonly kind: 'hlse'; readonly key: string; readonly field: string; readonly logWeight: number }
  | { readonly kind: 'hincrby'; readonly key: string; readonly field: string; readonly by: number }
  /** HASH field = max(field, value). */
  | { readonly kind: 'hmax'; readonly key: string; readonly field: string; readonly value: number }
  /** The HASH becomes exactly `fields`. */
  | { readonly kind: 'hreplace'; readonly key: string; readonly fields: readonly (readonly [string, string])[] }
  /** LPUSH, then keep the newest `keep`. */
  | { readonly kind: 'lpushTrim'; readonly key: string; readonly value: string; readonly keep: number }
  /** Moves (or adds) `value` to the head of the LIST, then keep the newest `keep`: a bounded most-recent-first set. */
  | { readonly kind: 'lpushUniqueTrim'; readonly key: string; readonly value: string; readonly keep: number }
  | { readonly kind: 'pfadd'; readonly key: string; readonly element: string }
  | { readonly kind: 'sadd'; readonly key: string; readonly member: string }
  | { readonly kind: 'srem'; readonly key: string; readonly member: string }
  | { readonly kind: 'zrem'; readonly key: string; readonly member: string }
  | { readonly kind: 'del'; readonly key: string };

/**
 * Where an event sits in the stream the projector consumes, which is what makes a redelivery a no-op.
 * The relay publishes each Kafka partition's events in increasing commit sequence, and a resend copies
 * an event with its sequence, so an event is applied in a slot exactly when its sequence is above the
 * highest one applied there from the same partition (that slot's watermark, see APPLY_SCRIPT).
 */
export interface StreamPosition {
  /** The Kafka partition it came from (watermarkSource): the watermark's field. */
  readonly source: string;
  /** The event's commit sequence (positive). */
  readonly sequence: bigint;
}

/** The effect of one domain event: its operations and its position in the stream. */
export interface EventPlan {
  readonly position: StreamPosition;
  readonly ops: readonly Op[];
  /**
   * The plan deletes the watermarks of a slot (a forgotten user's slot), so it must be applied alone:
   * an event after it in the same script call would lose its watermark with them.
   */
  readonly deletesWatermarks?: true;
}

/** The catalog facts of an item that interactions and catalog changes depend on. */
export interface CatalogFacts {
  readonly categories: readonly string[];
  /** The item was deleted (its catalog hash is the DELETED_CATALOG_FIELDS tombstone). */
  readonly deleted: boolean;
}

/** What the planner needs to know of the read model before a batch: read by store.ts in one round trip. */
export interface Snapshot {
  /** Each user's recent interactions, newest first (the head of the recent list). */
  readonly recent: ReadonlyMap<string, readonly RecentEntry[]>;
  /**
   * Catalog facts of the items the batch touches and of those its users' recent lists may pair them
   * with (pairableItems): a deleted partner pairs with nothing (planInteraction). Absent: unknown to
   * the catalog.
   */
  readonly catalog: ReadonlyMap<string, CatalogFacts>;
  /** Forgotten users among the batch's users: user id → sequence of their UserForgotten event. */
  readonly forgotten: ReadonlyMap<string, bigint>;
  /** For each item the batch deletes: the items its co-visit set holds (they hold it back). */
  readonly coVisitedWith: ReadonlyMap<string, readonly string[]>;
}

/** A snapshot of an empty read model. */
export function emptySnapshot(): Snapshot {
  return { recent: new Map(), catalog: new Map(), forgotten: new Map(), coVisitedWith: new Map() };
}

/** A decoded Kafka message of the events topic. */
export interface IncomingEvent {
  readonly event: DomainEvent;
  /** The Kafka partition of the message (watermarkSource). */
  readonly source: string;
  /** Kafka message timestamp: the time of last resort for an event that carries none. */
  readonly messageTimestampMs: number;
}

/** What one message became: a plan, or the reason it changes nothing. */
export type PlannedEvent =
  | { readonly kind: 'plan'; readonly plan: EventPlan; readonly occurredMs: number | undefined }
  /** `routine`: expected in normal operation (a forgotten user's events), not a defect of the message. */
  | { readonly kind: 'skip'; readonly reason: string; readonly routine?: boolean };

/** What a batch's plan depends on: what the snapshot must read. */
export interface SnapshotNeeds {
  /** The batch's users, each with the number of their interactions in it (0: a user change or forget only). */
  readonly users: Map<string, number>;
  /** The sequence of each user's first interaction in the batch (pairableItems). */
  readonly firstInteractions: Map<string, bigint>;
  /** The items the batch's events name. */
  readonly items: Set<string>;
  /** The items the batch deletes. */
  readonly deletedItems: Set<string>;
}

/** The users and items whose state a batch's plan depends on (what the snapshot must read). */
export function snapshotNeeds(events: readonly IncomingEvent[]): SnapshotNeeds {
  const users = new Map<string, number>();
  const firstInteractions = new Map<string, bigint>();
  const items = new Set<string>();
  const deletedItems = new Set<string>();
  for (const { event } of events) {
    switch (event.payload.case) {
      case 'interaction': {
        const { userId, itemId } = event.payload.value;
        users.set(userId, (users.get(userId) ?? 0) + 1);
        items.add(itemId);
        const first = firstInteractions.get(userId);
        // An event without a sequence is never planned (planBatch), so it pairs with nothing.
        if (event.sequence > 0n && (first === undefined || event.sequence < first)) firstInteractions.set(userId, event.sequence);
        break;
      }
      case 'userUpserted':
      case 'userForgotten':
        users.set(event.payload.value.userId, users.get(event.payload.value.userId) ?? 0);
        break;
      case 'itemUpserted':
        items.add(event.payload.value.itemId);
        break;
      case 'itemDeleted':
        items.add(event.payload.value.itemId);
        deletedItems.add(event.payload.value.itemId);
        break;
      case undefined:
        break;
      default: {
        const unknown: never = event.payload;
        void unknown;
      }
    }
  }
  return { users, firstInteractions, items, deletedItems };
}

/**
 * The items of a user's recent list (newest first) that the user's interactions of a batch may pair
 * with, the first of them at `firstSequence`: coVisitPartners passes over the entries at or above an
 * interaction's sequence (on a replay the list holds the batch's own events, and maybe later ones) and
 * then looks at `lookBack` entries at most, so the entries below `firstSequence` past the `lookBack`
 * newest are never partners. The snapshot needs their catalog facts (a deleted one pairs with nothing).
 */
export function pairableItems(listNewestFirst: readonly RecentEntry[], firstSequence: bigint, lookBack: number): string[] {
  const items: string[] = [];
  let below = 0;
  for (const entry of listNewestFirst) {
    if (entry.sequence < firstSequence && below++ >= lookBack) break;
    items.push(entry.itemId);
  }
  return items;
}

/** A batch's plans, and the recent lists they leave. */
export interface PlannedBatch {
  /** One per event, in order. */
  readonly outcomes: PlannedEvent[];
  /**
   * Each list the batch reads or deletes (the users of its interactions and of its UserForgotten
   * events), newest first, as it is once the plans are applied: the snapshot's head with the batch's
   * new interactions on top; undefined when deleted.
   */
  readonly recent: ReadonlyMap<string, readonly RecentEntry[] | undefined>;
}

/**
 * Plans a batch in order. Later events see the effects of earlier ones of the same batch (a user's
 * new interaction pairs with the one just before it, an interaction sees a category change just
 * before it), as if each were applied before the next was planned.
 */
export function planBatch(events: readonly IncomingEvent[], snapshot: Snapshot, keys: ProjectionKeys, control: ControlKeys, config: ProjectionConfig): PlannedBatch {
  const recent = new Map(snapshot.recent);
  // The users whose recent list the snapshot read (they have interactions here) or the batch deletes.
  const listed = new Set<string>();
  const catalog = new Map(snapshot.catalog);
  const isDeleted = (itemId: string): boolean => catalog.get(itemId)?.deleted === true;
  const forgotten = new Map(snapshot.forgotten);
  const outcomes: PlannedEvent[] = [];
  // Co-visit pairs written earlier in this batch (not in the snapshot yet), for a deletion later in
  // it: gathered from the interactions' plans (the item of each at its outcome's index) only when a
  // deletion needs them, as most batches have none.
  const interactionItems: (string | undefined)[] = [];
  const pairedInBatch = new Map<string, Set<string>>();
  let pairedThrough = 0;
  const pair = (a: string, b: string): void => {
    const set = pairedInBatch.get(a) ?? new Set<string>();
    set.add(b);
    pairedInBatch.set(a, set);
  };
  const pairedWith = (itemId: string): ReadonlySet<string> => {
    for (; pairedThrough < outcomes.length; pairedThrough++) {
      const item = interactionItems[pairedThrough];
      const outcome = outcomes[pairedThrough]!;
      if (item === undefined || outcome.kind !== 'plan') continue;
      const ownCoVisits = keys.item(item).coVisits;
      for (const op of outcome.plan.ops) {
        if (op.kind === 'zlse' && op.key === ownCoVisits) {
          pair(item, op.member);
          pair(op.member, item);
        }
      }
    }
    return pairedInBatch.get(itemId) ?? new Set();
  };
  // A forgotten user's events before their UserForgotten are never projected (a replay must not
  // resurrect them); events after it (the id used again) are.
  const forgottenBefore = (userId: string, sequence: bigint): boolean => {
    const forgottenAt = forgotten.get(userId);
    return forgottenAt !== undefined && sequence < forgottenAt;
  };
  const planEvent = (incoming: IncomingEvent): PlannedEvent => {
    const { event } = incoming;
    // Only the relay's commit sequence tells a redelivery from a new event.
    if (event.sequence <= 0n) return { kind: 'skip', reason: 'domain event without a commit sequence (it cannot be applied exactly once)' };
    const position: StreamPosition = { source: incoming.source, sequence: event.sequence };
    switch (event.payload.case) {
      case 'interaction': {
        const interaction = event.payload.value;
        listed.add(interaction.userId);
        const problem = interactionProblem(interaction);
        if (problem) return { kind: 'skip', reason: problem };
        if (forgottenBefore(interaction.userId, event.sequence)) return { kind: 'skip', reason: 'the user was forgotten', routine: true };
        const occurredMs = resolveOccurredMs(event, incoming.messageTimestampMs);
        const entry: RecentEntry = { sequence: event.sequence, type: interaction.type, value: interaction.value, occurredMs, itemId: interaction.itemId };
        const history = recent.get(interaction.userId) ?? [];
        const itemDeleted = isDeleted(interaction.itemId);
        const plan = planInteraction(
          { position, userId: interaction.userId, entry, history, categories: catalog.get(interaction.itemId)?.categories ?? [], itemDeleted, partnerDeleted: isDeleted },
          keys,
          config,
        );
        // Only an interaction newer than the history's newest is new to it. An older one is in the read
        // model already (a user's interactions are applied in sequence order), even when the history
        // does not hold it: on a redelivery the recent list may have dropped it (it keeps the newest
        // recentLimit) or the snapshot not read that deep. Put back at the head, it would precede newer
        // interactions and use up the co-visit look-back of the next ones.
        if (!itemDeleted && (history[0] === undefined || entry.sequence > history[0].sequence)) recent.set(interaction.userId, [entry, ...history]);
        interactionItems[outcomes.length] = interaction.itemId;
        return { kind: 'plan', plan, occurredMs };
      }
      case 'itemUpserted': {
        const item = event.payload.value;
        if (!item.itemId) return { kind: 'skip', reason: 'item_upserted without item_id' };
        const plan = planItemUpsert(position, item, catalog.get(item.itemId), keys);
        catalog.set(item.itemId, { categories: item.categories, deleted: false });
        return { kind: 'plan', plan, occurredMs: undefined };
      }
      case 'userUpserted': {
        const user = event.payload.value;
        if (!user.userId) return { kind: 'skip', reason: 'user_upserted without user_id' };
        if (forgottenBefore(user.userId, event.sequence)) return { kind: 'skip', reason: 'the user was forgotten', routine: true };
        return { kind: 'plan', plan: planUserUpsert(position, user, keys), occurredMs: undefined };
      }
      case 'itemDeleted': {
        const { itemId } = event.payload.value;
        if (!itemId) return { kind: 'skip', reason: 'item_deleted without item_id' };
        const partners = new Set([...(snapshot.coVisitedWith.get(itemId) ?? []), ...pairedWith(itemId)]);
        const plan = planItemDelete(position, itemId, catalog.get(itemId), [...partners], keys);
        pairedInBatch.delete(itemId);
        catalog.set(itemId, { categories: [], deleted: true });
        return { kind: 'plan', plan, occurredMs: undefined };
      }
      case 'userForgotten': {
        const { userId } = event.payload.value;
        if (!userId) return { kind: 'skip', reason: 'user_forgotten without user_id' };
        forgotten.set(userId, event.sequence > (forgotten.get(userId) ?? 0n) ? event.sequence : (forgotten.get(userId) ?? 0n));
        // A copy of a forget the snapshot shows applied deleted the list then; what it holds now came after.
        const appliedAt = snapshot.forgotten.get(userId);
        if (appliedAt === undefined || event.sequence > appliedAt) recent.delete(userId);
        listed.add(userId);
        return { kind: 'plan', plan: planUserForget(position, userId, keys, control), occurredMs: undefined };
      }
      case undefined:
        return { kind: 'skip', reason: 'domain event without payload' };
      default: {
        const unknown: never = event.payload;
        return { kind: 'skip', reason: `unknown payload ${String(unknown)}` };
      }
    }
  };
  for (const incoming of events) outcomes.push(planEvent(incoming));
  return { outcomes, recent: new Map([...listed].map((userId) => [userId, recent.get(userId)])) };
}

/** The input of one interaction's plan. */
export interface InteractionInput {
  readonly position: StreamPosition;
  readonly userId: string;
  readonly entry: RecentEntry;
  /** The user's interactions before this one (or including it and later ones, on a replay), newest first. */
  readonly history: readonly RecentEntry[];
  /** The item's categories per the catalog view, main category first. */
  readonly categories: readonly string[];
  /**
   * The catalog view shows the item deleted: the interaction counts for the user only (planInteraction).
   * Whether it came before or after the deletion in commit order cannot be told here (catalog facts
   * and interactions travel on different partitions), and either way the item's side is what the
   * deletion removed.
   */
  readonly itemDeleted: boolean;
  /**
   * Whether the catalog view shows a partner (an item of the history) deleted: it still takes its
   * place among the partners, but pairs with nothing (planInteraction).
   */
  readonly partnerDeleted: (itemId: string) => boolean;
}

/**
 * An interaction updates the user (recent list, seen set, counts, last active, category affinity),
 * the item (count, popularity, distinct users, co-visits with the user's session), the items it is
 * co-visited with (the other direction) and the trending rankings (overall and per category). With
 * an item the catalog view shows deleted, only the user's seen set, counts and last active: the
 * item's side is what the deletion removed (writing it would bring it back), and the recent list is
 * what later interactions pair with (planBatch leaves it out of the history too).
 *
 * A partner the catalog view shows deleted (the user met it before its deletion) is dropped, not
 * replaced by the next earlier item: the pairs come out as if the interaction had been planned before
 * the deletion, which then took the item out of both sides (planItemDelete). So a co-visit list does
 * not depend on whether an interaction was read before or after a deletion (they travel on different
 * partitions), a rebuild replaying in commit order agrees with the live reading, and the trainer,
 * which knows only which items are deleted now, pairs the same way (apps/trainer history.ts).
 */
export function planInteraction(input: InteractionInput, keys: ProjectionKeys, config: ProjectionConfig): EventPlan {
  const { entry, userId, categories } = input;
  const user = keys.user(userId);
  const item = keys.item(entry.itemId);
  const weight = interactionWeight(entry.type, entry.value);
  const ofUser: Op[] = [
    { kind: 'lpushUniqueTrim', key: user.seen, value: entry.itemId, keep: config.seenLimit },
    { kind: 'hincrby', key: user.stats, field: eventTypeName(entry.type), by: 1 },
    { kind: 'hmax', key: user.stats, field: 'last_active', value: entry.occurredMs },
  ];
  if (input.itemDeleted) return { position: input.position, ops: ofUser };
  const ops: Op[] = [
    { kind: 'lpushTrim', key: user.recent, value: encodeRecentEntry(entry), keep: config.recentLimit },
    ...ofUser,
    { kind: 'hincrby', key: item.stats, field: 'n', by: 1 },
    { kind: 'pfadd', key: item.users, element: userId },
  ];
  if (weight > 0) {
    const affinity = logDecayedWeight(weight, entry.occurredMs, halfLifeMs(config.affinityHalfLifeHours));
    // Once per distinct category: ingestion refuses an item listing one twice, but facts stored before it did still do.
    const distinct = categories.filter((category, index) => categories.indexOf(category) === index);
    for (const category of distinct) ops.push({ kind: 'zlse', key: user.affinity, member: category, logWeight: affinity, keep: config.affinityLimit });
    const popularity = logDecayedWeight(weight, entry.occurredMs, halfLifeMs(config.trendingHalfLifeHours));
    ops.push({ kind: 'hlse', key: item.stats, field: 'pop', logWeight: popularity });
    const rankings = [keys.trending.overall, ...distinct.map((category) => keys.trending.category(category))];
    for (const ranking of rankings) {
      ops.push({ kind: 'zlseVisible', key: ranking, hiddenKey: keys.trending.hidden, member: entry.itemId, logWeight: popularity, keep: config.trendingLimit });
    }
  }
  const partners = coVisitPartners(entry, input.history, {
    windowMs: config.coVisitWindowSeconds * 1_000,
    maxPartners: config.coVisitPartners,
    lookBack: coVisitLookBack(config.coVisitPartners, config.recentLimit),
  });
  const coVisitHalfLife = halfLifeMs(config.coVisitHalfLifeHours);
  for (const partner of partners) {
    if (input.partnerDeleted(partner.itemId)) continue;
    const logWeight = logDecayedWeight(partner.weight, entry.occurredMs, coVisitHalfLife);
    ops.push({ kind: 'zlse', key: item.coVisits, member: partner.itemId, logWeight, keep: config.coVisitLimit });
    ops.push({ kind: 'zlse', key: keys.item(partner.itemId).coVisits, member: entry.itemId, logWeight, keep: config.coVisitLimit });
  }
  return { position: input.position, ops };
}

/**
 * An item change replaces its catalog view. A hidden item leaves every trending ranking (and the
 * hidden set keeps it out, atomically with later interactions); an item leaving a category leaves
 * that category's ranking. The catalog change count moves (catalogChanged), so readers caching
 * catalog facts drop them.
 */
export function planItemUpsert(position: StreamPosition, item: Item, previous: CatalogFacts | undefined, keys: ProjectionKeys): EventPlan {
  const keysOfItem = keys.item(item.itemId);
  const ops: Op[] = [
    {
      kind: 'hreplace',
      key: keysOfItem.catalog,
      fields: catalogFields({ categories: item.categories, tags: item.tags, hidden: item.hidden, publishedAtMs: item.publishedAt ? timestampMs(item.publishedAt) : undefined }),
    },
  ];
  const previousCategories = previous?.categories ?? [];
  if (item.hidden) {
    ops.push({ kind: 'sadd', key: keys.trending.hidden, member: item.itemId });
    ops.push({ kind: 'zrem', key: keys.trending.overall, member: item.itemId });
    for (const category of new Set([...previousCategories, ...item.categories])) ops.push({ kind: 'zrem', key: keys.trending.category(category), member: item.itemId });
  } else {
    ops.push({ kind: 'srem', key: keys.trending.hidden, member: item.itemId });
    for (const category of previousCategories) {
      if (!item.categories.includes(category)) ops.push({ kind: 'zrem', key: keys.trending.category(category), member: item.itemId });
    }
  }
  ops.push(catalogChanged(keys));
  return { position, ops };
}

/** Counts a catalog change: readers that cache catalog facts (the recommender) drop them when the count moves. */
function catalogChanged(keys: ProjectionKeys): Op {
  return { kind: 'hincrby', key: keys.trending.changes, field: CATALOG_CHANGES_FIELD, by: 1 };
}

/**
 * A deleted item leaves every projection: its catalog view becomes a tombstone (interactions with it
 * planned later count for the user only, reads say it does not exist), its stats, distinct users and co-visits are
 * deleted, it leaves every trending ranking and joins the hidden set (so nothing ranks it again),
 * and it leaves the co-visit set of every item its own co-visit set held. Interactions planned after
 * it do not pair with it from a user's recent list (planInteraction). (A partner that kept it while
 * it had dropped the partner from its capped set can still list it: query filters co-visits through
 * the hidden set.) The catalog change count moves, as for an upsert.
 */
export function planItemDelete(position: StreamPosition, itemId: string, previous: CatalogFacts | undefined, coVisitedWith: readonly string[], keys: ProjectionKeys): EventPlan {
  const item = keys.item(itemId);
  const ops: Op[] = [
    { kind: 'hreplace', key: item.catalog, fields: DELETED_CATALOG_FIELDS },
    { kind: 'del', key: item.stats },
    { kind: 'del', key: item.users },
    { kind: 'del', key: item.coVisits },
    { kind: 'sadd', key: keys.trending.hidden, member: itemId },
    { kind: 'zrem', key: keys.trending.overall, member: itemId },
  ];
  for (const category of previous?.categories ?? []) ops.push({ kind: 'zrem', key: keys.trending.category(category), member: itemId });
  for (const partner of coVisitedWith) if (partner !== itemId) ops.push({ kind: 'zrem', key: keys.item(partner).coVisits, member: itemId });
  ops.push(catalogChanged(keys));
  return { position, ops };
}

/**
 * A forgotten user's keys are deleted — every key in the user's slot, the slot's watermarks included —
 * and the user's digest enters the forgotten tombstone with the event's sequence, so a replay skips
 * their earlier events (a redelivered forget deletes nothing more); the tombstone's forget count moves. What the user contributed to
 * aggregates (item counts, popularity, distinct users, co-visits, trending) stays until a rebuild,
 * which skips their events (see apps/projector/README.md).
 */
export function planUserForget(position: StreamPosition, userId: string, keys: ProjectionKeys, control: ControlKeys): EventPlan {
  const user = keys.user(userId);
  const ops: Op[] = [user.recent, user.seen, user.stats, user.affinity, user.attributes, keys.applied(user.tag)].map((key) => ({ kind: 'del', key }));
  ops.push({ kind: 'hmax', key: control.forgotten, field: forgottenUserField(userId), value: Number(position.sequence) });
  // Counted, so that a projector planning from memory notices a forget another one applied (FORGET_COUNT_FIELD).
  ops.push({ kind: 'hincrby', key: control.forgotten, field: FORGET_COUNT_FIELD, by: 1 });
  return { position, ops, deletesWatermarks: true };
}

/** A user change replaces the user's attributes. */
export function planUserUpsert(position: StreamPosition, user: User, keys: ProjectionKeys): EventPlan {
  const keysOfUser = keys.user(user.userId);
  const fields = Object.entries(user.attributes).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { position, ops: [{ kind: 'hreplace', key: keysOfUser.attributes, fields }] };
}

/**
 * When the interaction happened, for decay and sessions: its occurred_at, but never later than its
 * commit (a client clock ahead of ours must not outrank everyone); the commit time when it has
 * none; the Kafka timestamp when it has neither. Deterministic, so a replay decays the same.
 */
export function resolveOccurredMs(event: DomainEvent, messageTimestampMs: number): number {
  const occurred = event.payload.case === 'interaction' && event.payload.value.occurredAt ? timestampMs(event.payload.value.occurredAt) : undefined;
  const committed = event.committedAt ? timestampMs(event.committedAt) : undefined;
  if (occurred !== undefined && committed !== undefined) return Math.min(occurred, committed);
  return occurred ?? committed ?? messageTimestampMs;
}

function interactionProblem(event: Event): string | undefined {
  if (!event.userId) return 'interaction without user_id';
  if (!event.itemId) return 'interaction without item_id';
  return undefined;
}

