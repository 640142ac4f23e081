import { readConfig } from '@orrery/config';
import { create } from '@bufbuild/protobuf';
import { CATALOG_CHANGES_FIELD, controlKeys, FORGET_COUNT_FIELD, decodeRecentEntry, EVENT_SCOPE_TAG, forgottenUserField, hashTagOf, projectionKeys, type RecentEntry } from '@orrery/projections';
import { DomainEventSchema, EventType, type DomainEvent } from '@orrery/proto';
import { interaction, itemDeleted, itemUpserted, userForgotten } from '../test/domain-events';
import { encodeCall, scriptCalls, type ScriptPart } from './apply-script';
import { emptySnapshot, pairableItems, planBatch, type EventPlan, type IncomingEvent, type Op, type PlannedEvent } from './plan';

const config = readConfig({}).projection;
const keys = projectionKeys('plan_test');
const control = controlKeys('plan_test');
const t0 = Date.UTC(2025, 5, 1, 12);

function incoming(...events: DomainEvent[]): IncomingEvent[] {
  return events.map((event) => ({ event, source: 'events/0', messageTimestampMs: t0 }));
}

function plans(events: IncomingEvent[], catalog: Record<string, string[]> = {}): EventPlan[] {
  const snapshot = { ...emptySnapshot(), catalog: new Map(Object.entries(catalog).map(([id, categories]) => [id, { categories, deleted: false }])) };
  return planBatch(events, snapshot, keys, control, config).outcomes.map((planned) => {
    if (planned.kind !== 'plan') throw new Error(planned.reason);
    return planned.plan;
  });
}

const ofKind = <K extends Op['kind']>(plan: EventPlan, kind: K) => plan.ops.filter((op): op is Extract<Op, { kind: K }> => op.kind === kind);

describe('planning an interaction', () => {
  it('when a user views an item, the user, the item and the trending rankings (overall and its categories) are updated', () => {
    const [plan] = plans(incoming(interaction({ userId: 'u1', itemId: 'shoe', occurredMs: t0 })), { shoe: ['shoes', 'sale'] });
    const user = keys.user('u1');
    const item = keys.item('shoe');
    expect(plan!.position).toEqual({ source: 'events/0', sequence: expect.any(BigInt) });
    expect(decodeRecentEntry(ofKind(plan!, 'lpushTrim')[0]!.value)).toMatchObject({ itemId: 'shoe', type: EventType.VIEW, occurredMs: t0 });
    expect(ofKind(plan!, 'hincrby').map((op) => [op.key, op.field])).toEqual([
      [user.stats, 'VIEW'],
      [item.stats, 'n'],
    ]);
    expect(ofKind(plan!, 'zlse').map((op) => [op.key, op.member])).toEqual([
      [user.affinity, 'shoes'],
      [user.affinity, 'sale'],
    ]);
    expect(ofKind(plan!, 'zlseVisible').map((op) => op.key)).toEqual([keys.trending.overall, keys.trending.category('shoes'), keys.trending.category('sale')]);
    expect(ofKind(plan!, 'pfadd')).toEqual([{ kind: 'pfadd', key: item.users, element: 'u1' }]);
  });

  it('when the catalog view lists a category of the item twice (an item stored before ingestion refused that), the interaction counts once for it', () => {
    const [plan] = plans(incoming(interaction({ userId: 'u1', itemId: 'shoe', occurredMs: t0 })), { shoe: ['shoes', 'sale', 'shoes'] });
    expect(ofKind(plan!, 'zlse').map((op) => op.member)).toEqual(['shoes', 'sale']);
    expect(ofKind(plan!, 'zlseVisible').map((op) => op.key)).toEqual([keys.trending.overall, keys.trending.category('shoes'), keys.trending.category('sale')]);
  });

  it('when a user dislikes an item, it is counted and remembered but raises no popularity, affinity or trending', () => {
    const [plan] = plans(incoming(interaction({ userId: 'u1', itemId: 'shoe', type: EventType.DISLIKE, occurredMs: t0 })), { shoe: ['shoes'] });
    expect(ofKind(plan!, 'hincrby').map((op) => op.field)).toEqual(['DISLIKE', 'n']);
    expect(ofKind(plan!, 'zlse')).toEqual([]);
    expect(ofKind(plan!, 'zlseVisible')).toEqual([]);
    expect(ofKind(plan!, 'hlse')).toEqual([]);
    expect(ofKind(plan!, 'lpushTrim')).toHaveLength(1);
  });

  it('when a user views items in one batch and session, each new one is co-visited with the earlier ones, both directions', () => {
    const batch = incoming(
      interaction({ userId: 'u1', itemId: 'a', occurredMs: t0 }),
      interaction({ userId: 'u1', itemId: 'b', occurredMs: t0 + 60_000 }),
      interaction({ userId: 'u2', itemId: 'c', occurredMs: t0 + 60_000 }),
    );
    const [first, second, other] = plans(batch);
    const coVisits = (plan: EventPlan) => ofKind(plan, 'zlse').map((op) => [op.key, op.member]);
    expect(coVisits(first!)).toEqual([]);
    expect(coVisits(second!)).toEqual([
      [keys.item('b').coVisits, 'a'],
      [keys.item('a').coVisits, 'b'],
    ]);
    expect(coVisits(other!)).toEqual([]);
  });

  it('when the same event arrives twice in one batch, both copies plan the same effect (the marker keeps one)', () => {
    const first = interaction({ userId: 'u1', itemId: 'a', occurredMs: t0 });
    const view = interaction({ userId: 'u1', itemId: 'b', occurredMs: t0 + 1_000 });
    const [, once, twice] = plans(incoming(first, view, view));
    expect(twice).toEqual(once);
  });

  it('when a redelivered batch finds only the newest of its applied events in the snapshot (the recent list keeps the newest), the new one plans as in a single pass', () => {
    // A view a minute: the new one pairs with those of the last half hour, which the snapshot holds.
    const viewed = Array.from({ length: 81 }, (_, index) => ({ itemId: `i${(index * 3) % 7}`, occurredMs: t0 + index * 60_000 }));
    const views = viewed.map(({ itemId, occurredMs }) => interaction({ userId: 'u1', itemId, occurredMs }));
    const applied = viewed.slice(0, 80).map(({ itemId, occurredMs }, index): RecentEntry => ({ sequence: views[index]!.sequence, type: EventType.VIEW, value: 0, occurredMs, itemId }));
    const snapshot = { ...emptySnapshot(), recent: new Map([['u1', applied.slice(-40).reverse()]]) };
    const redelivered = planBatch(incoming(...views), snapshot, keys, control, config).outcomes.at(-1)!;
    const singlePass = planBatch(incoming(...views), emptySnapshot(), keys, control, config).outcomes.at(-1)!;
    expect(redelivered).toEqual(singlePass);
    expect(singlePass.kind === 'plan' && ofKind(singlePass.plan, 'zlse').length).toBeGreaterThan(0);
  });
});

describe('planning catalog changes', () => {
  it('when an item is hidden, it leaves the overall ranking and those of its old and new categories, and joins the hidden set', () => {
    const event = itemUpserted({ itemId: 'shoe', categories: ['boots'], hidden: true });
    const [plan] = plans(incoming(event), { shoe: ['shoes'] });
    expect(ofKind(plan!, 'zrem').map((op) => op.key)).toEqual([keys.trending.overall, keys.trending.category('shoes'), keys.trending.category('boots')]);
    expect(ofKind(plan!, 'sadd')).toEqual([{ kind: 'sadd', key: keys.trending.hidden, member: 'shoe' }]);
    expect(plan!.position.sequence).toBe(event.sequence);
  });

  it('when a visible item changes category, it leaves the old category ranking only', () => {
    const [plan] = plans(incoming(itemUpserted({ itemId: 'shoe', categories: ['boots'] })), { shoe: ['shoes', 'boots'] });
    expect(ofKind(plan!, 'zrem').map((op) => op.key)).toEqual([keys.trending.category('shoes')]);
    expect(ofKind(plan!, 'srem')).toHaveLength(1);
  });

  it('when an item changes or is deleted, the catalog change count moves once (readers caching catalog facts drop them); an interaction leaves it', () => {
    const counted = [{ kind: 'hincrby', key: keys.trending.changes, field: CATALOG_CHANGES_FIELD, by: 1 }];
    const outcomes = planBatch(incoming(itemUpserted({ itemId: 'shoe', categories: ['boots'] }), itemDeleted('sock'), interaction({ userId: 'ann', itemId: 'shoe' })), emptySnapshot(), keys, control, config).outcomes;
    const planned = outcomes.map((outcome) => (outcome.kind === 'plan' ? outcome.plan : undefined));
    expect(ofKind(planned[0]!, 'hincrby').filter((op) => op.key === keys.trending.changes)).toEqual(counted);
    expect(ofKind(planned[1]!, 'hincrby').filter((op) => op.key === keys.trending.changes)).toEqual(counted);
    expect(planned[2]!.ops.some((op) => op.key === keys.trending.changes)).toBe(false);
  });
});

describe('planning deletions', () => {
  it('when an item is deleted, its catalog becomes a tombstone, its own keys go, it leaves every ranking and the co-visit sets that held it', () => {
    const deleted = itemDeleted('shoe');
    const snapshot = { ...emptySnapshot(), catalog: new Map([['shoe', { categories: ['boots'], deleted: false }]]), coVisitedWith: new Map([['shoe', ['sock', 'lace']]]) };
    const [planned] = planBatch(incoming(deleted), snapshot, keys, control, config).outcomes;
    if (planned?.kind !== 'plan') throw new Error('not planned');
    const item = keys.item('shoe');
    expect(ofKind(planned.plan, 'del').map((op) => op.key)).toEqual([item.stats, item.users, item.coVisits]);
    expect(ofKind(planned.plan, 'hreplace')).toEqual([{ kind: 'hreplace', key: item.catalog, fields: [['deleted', '1']] }]);
    expect(ofKind(planned.plan, 'zrem').map((op) => op.key)).toEqual([keys.trending.overall, keys.trending.category('boots'), keys.item('sock').coVisits, keys.item('lace').coVisits]);
    expect(ofKind(planned.plan, 'sadd')).toEqual([{ kind: 'sadd', key: keys.trending.hidden, member: 'shoe' }]);
  });

  it('when an item co-visited earlier in the batch is deleted, it leaves the co-visit sets of the partners paired since its last deletion', () => {
    const events = incoming(
      interaction({ userId: 'u1', itemId: 'sock', occurredMs: t0 }),
      interaction({ userId: 'u9', itemId: 'cap', occurredMs: t0 }),
      interaction({ userId: 'u1', itemId: 'shoe', occurredMs: t0 + 1 }),
      interaction({ userId: 'u2', itemId: 'shoe', occurredMs: t0 + 2 }),
      interaction({ userId: 'u2', itemId: 'lace', occurredMs: t0 + 3 }),
      itemDeleted('shoe'),
      itemUpserted({ itemId: 'shoe' }),
      interaction({ userId: 'u3', itemId: 'shoe', occurredMs: t0 + 4 }),
      interaction({ userId: 'u3', itemId: 'belt', occurredMs: t0 + 5 }),
      itemDeleted('shoe'),
    );
    const snapshot = { ...emptySnapshot(), coVisitedWith: new Map([['shoe', ['hat']]]) };
    const deletions = planBatch(events, snapshot, keys, control, config).outcomes.filter((planned, index) => index === 5 || index === 9);
    const partnersLeft = deletions.map((planned) => {
      if (planned.kind !== 'plan') throw new Error('not planned');
      return ofKind(planned.plan, 'zrem')
        .filter((op) => op.member === 'shoe' && op.key.endsWith(':covis'))
        .map((op) => op.key)
        .sort();
    });
    expect(partnersLeft).toEqual([
      ['hat', 'lace', 'sock'].map((id) => keys.item(id).coVisits).sort(),
      ['belt', 'hat'].map((id) => keys.item(id).coVisits).sort(),
    ]);
  });

  it("when another item's deletion and an interaction with it come between, a deletion still finds every partner paired before it, in pairing order, and the deleted item pairs with none", () => {
    const events = incoming(
      interaction({ userId: 'u1', itemId: 'shoe', occurredMs: t0 }),
      interaction({ userId: 'u1', itemId: 'sock', occurredMs: t0 + 1 }),
      itemDeleted('hat'),
      interaction({ userId: 'u2', itemId: 'hat', occurredMs: t0 + 2 }),
      interaction({ userId: 'u2', itemId: 'shoe', occurredMs: t0 + 3 }),
      interaction({ userId: 'u2', itemId: 'lace', occurredMs: t0 + 4 }),
      itemDeleted('shoe'),
    );
    const outcomes = planBatch(events, emptySnapshot(), keys, control, config).outcomes;
    expect(outcomes.map((outcome) => outcome.kind)).toEqual(['plan', 'plan', 'plan', 'plan', 'plan', 'plan', 'plan']);
    const coVisitKeys = outcomes.flatMap((outcome) => (outcome.kind === 'plan' ? ofKind(outcome.plan, 'zlse') : [])).filter((op) => op.key.endsWith(':covis'));
    expect(coVisitKeys.filter((op) => op.key === keys.item('hat').coVisits || op.member === 'hat')).toEqual([]);
    const deletion = outcomes[6]!;
    if (deletion.kind !== 'plan') throw new Error('not planned');
    const coVisitsLeft = ofKind(deletion.plan, 'zrem').filter((op) => op.member === 'shoe' && op.key.endsWith(':covis'));
    expect(coVisitsLeft.map((op) => op.key)).toEqual([keys.item('sock').coVisits, keys.item('lace').coVisits]);
  });

  it('when an interaction with a deleted item is planned (in the batch or later), it counts for the user only: seen, counts, last active, never the recent list or the item', () => {
    const earlier = interaction({ userId: 'u1', itemId: 'sock', occurredMs: t0 - 1 });
    const later = interaction({ userId: 'u1', itemId: 'shoe', type: EventType.PURCHASE, occurredMs: t0 });
    const user = keys.user('u1');
    const userOnly = (planned: PlannedEvent | undefined): readonly Op[] => {
      if (planned?.kind !== 'plan') throw new Error('not planned');
      return planned.plan.ops;
    };
    const expected: Op[] = [
      { kind: 'lpushUniqueTrim', key: user.seen, value: 'shoe', keep: config.seenLimit },
      { kind: 'hincrby', key: user.stats, field: 'PURCHASE', by: 1 },
      { kind: 'hmax', key: user.stats, field: 'last_active', value: t0 },
    ];
    const inBatch = planBatch(incoming(earlier, itemDeleted('shoe'), later), emptySnapshot(), keys, control, config);
    expect(userOnly(inBatch.outcomes[2])).toEqual(expected);
    // Later interactions pair with what the recent list holds: the deleted item is not there.
    expect(inBatch.recent.get('u1')?.map((entry) => entry.itemId)).toEqual(['sock']);
    const snapshot = { ...emptySnapshot(), catalog: new Map([['shoe', { categories: ['boots'], deleted: true }]]) };
    expect(userOnly(planBatch(incoming(later), snapshot, keys, control, config).outcomes[0])).toEqual(expected);
  });

  it('when a user met an item before its deletion, their later interactions do not pair with it; it keeps its place among the partners (the next earlier item does not take it)', () => {
    // Views a minute apart, oldest first: with 3 partners, a new view pairs with the 3 newest earlier items.
    const earlier = ['sock', 'shoe', 'lace', 'hat'].map((itemId, index) => interaction({ userId: 'u1', itemId, occurredMs: t0 + index * 60_000 }));
    const history = earlier.map((event, index): RecentEntry => ({ sequence: event.sequence, type: EventType.VIEW, value: 0, occurredMs: t0 + index * 60_000, itemId: ['sock', 'shoe', 'lace', 'hat'][index]! })).reverse();
    const next = interaction({ userId: 'u1', itemId: 'belt', occurredMs: t0 + 10 * 60_000 });
    const coVisits = (planned: PlannedEvent | undefined): string[][] => {
      if (planned?.kind !== 'plan') throw new Error('not planned');
      return ofKind(planned.plan, 'zlse')
        .filter((op) => op.key.endsWith(':covis'))
        .map((op) => [op.key, op.member]);
    };
    const pairsOf = (partners: string[]): string[][] => partners.flatMap((partner) => [[keys.item('belt').coVisits, partner], [keys.item(partner).coVisits, 'belt']]);
    const planned = (catalog: ReadonlyMap<string, { categories: string[]; deleted: boolean }>) =>
      planBatch(incoming(next), { ...emptySnapshot(), recent: new Map([['u1', history]]), catalog }, keys, control, config).outcomes[0];
    expect(config.coVisitPartners).toBe(3);
    expect(coVisits(planned(new Map()))).toEqual(pairsOf(['hat', 'lace', 'shoe']));
    expect(coVisits(planned(new Map([['lace', { categories: [], deleted: true }]])))).toEqual(pairsOf(['hat', 'shoe']));
    // Deleted and listed again since: it pairs again.
    expect(coVisits(planned(new Map([['lace', { categories: [], deleted: false }]])))).toEqual(pairsOf(['hat', 'lace', 'shoe']));
  });

  it('when an item is deleted in the batch after a user met it, their interactions after the deletion do not pair with it, as when planned one by one', () => {
    const events = incoming(
      interaction({ userId: 'u1', itemId: 'shoe', occurredMs: t0 }),
      interaction({ userId: 'u1', itemId: 'sock', occurredMs: t0 + 1 }),
      itemDeleted('shoe'),
      interaction({ userId: 'u1', itemId: 'belt', occurredMs: t0 + 2 }),
    );
    const outcomes = planBatch(events, emptySnapshot(), keys, control, config).outcomes;
    const last = outcomes[3];
    if (last?.kind !== 'plan') throw new Error('not planned');
    expect(ofKind(last.plan, 'zlse').map((op) => [op.key, op.member])).toEqual([
      [keys.item('belt').coVisits, 'sock'],
      [keys.item('sock').coVisits, 'belt'],
    ]);
  });

  it('when a user is forgotten, every key of the user slot is erased (its watermarks too, so it is applied alone) and the tombstone records the sequence', () => {
    const forget = userForgotten('u1');
    const [planned] = planBatch(incoming(forget), emptySnapshot(), keys, control, config).outcomes;
    if (planned?.kind !== 'plan') throw new Error('not planned');
    const user = keys.user('u1');
    expect(planned.plan.deletesWatermarks).toBe(true);
    expect(ofKind(planned.plan, 'del').map((op) => op.key)).toEqual([user.recent, user.seen, user.stats, user.affinity, user.attributes, keys.applied(user.tag)]);
    expect(ofKind(planned.plan, 'hmax')).toEqual([{ kind: 'hmax', key: control.forgotten, field: forgottenUserField('u1'), value: Number(forget.sequence) }]);
    expect(ofKind(planned.plan, 'hincrby')).toEqual([{ kind: 'hincrby', key: control.forgotten, field: FORGET_COUNT_FIELD, by: 1 }]);
  });

  it('when a replay meets a forgotten user, their events before the forget are skipped and those after it are planned', () => {
    const before = interaction({ userId: 'u1', itemId: 'a', occurredMs: t0 });
    const forget = userForgotten('u1');
    const after = interaction({ userId: 'u1', itemId: 'b', occurredMs: t0 + 1 });
    const snapshot = { ...emptySnapshot(), forgotten: new Map([['u1', forget.sequence]]) };
    expect(planBatch(incoming(before, forget, after), snapshot, keys, control, config).outcomes.map((outcome) => outcome.kind)).toEqual(['skip', 'plan', 'plan']);
  });
});

describe('the items of a recent list a batch may pair with', () => {
  const entry = (sequence: bigint, itemId: string): RecentEntry => ({ sequence, type: EventType.VIEW, value: 0, occurredMs: t0, itemId });
  const list = [entry(9n, 'i9'), entry(8n, 'i8'), entry(7n, 'i7'), entry(6n, 'i6'), entry(5n, 'i5')];

  it('are the look-back newest entries below the first interaction of the batch', () => {
    expect(pairableItems(list, 10n, 2)).toEqual(['i9', 'i8']);
  });

  it('on a replay (the list holds the batch’s own events), are those at or above the first interaction too', () => {
    expect(pairableItems(list, 8n, 2)).toEqual(['i9', 'i8', 'i7', 'i6']);
  });
});

describe('the recent lists a batch leaves', () => {
  it('are the snapshot heads with the new interactions on top, a copy of an applied one left out, a forgotten user deleted; a user without interactions is not listed', () => {
    const applied = interaction({ userId: 'ann', itemId: 'a', occurredMs: t0 });
    const annHead = { sequence: applied.sequence, type: EventType.VIEW, value: 0, occurredMs: t0, itemId: 'a' };
    const bobHead = { ...annHead, sequence: 1n, itemId: 'z' };
    const next = interaction({ userId: 'ann', itemId: 'b', occurredMs: t0 + 1 });
    const snapshot = { ...emptySnapshot(), recent: new Map([['ann', [annHead]], ['bob', [bobHead]], ['cid', []]]) };
    const batch = planBatch(incoming(applied, next, userForgotten('bob'), itemUpserted({ itemId: 'c' })), snapshot, keys, control, config);
    expect([...batch.recent.keys()].sort()).toEqual(['ann', 'bob']);
    expect(batch.recent.get('ann')?.map((entry) => entry.itemId)).toEqual(['b', 'a']);
    expect(batch.recent.get('bob')).toBeUndefined();
  });
});

describe('the recent list a redelivered forget leaves', () => {
  it('is the snapshot list when the snapshot shows the forget applied (what the list holds came after it)', () => {
    const forget = userForgotten('ann');
    const since = { sequence: forget.sequence + 1n, type: EventType.VIEW, value: 0, occurredMs: t0, itemId: 'a' };
    const snapshot = { ...emptySnapshot(), recent: new Map([['ann', [since]]]), forgotten: new Map([['ann', forget.sequence]]) };
    expect(planBatch(incoming(forget), snapshot, keys, control, config).recent.get('ann')).toEqual([since]);
    expect(planBatch(incoming(forget), { ...snapshot, forgotten: new Map() }, keys, control, config).recent.get('ann')).toBeUndefined();
  });
});

describe('grouping a plan into scripts', () => {
  const [plan] = plans(
    incoming(interaction({ userId: 'u1', itemId: 'a', occurredMs: t0 }), interaction({ userId: 'u1', itemId: 'b', occurredMs: t0 + 1 })).slice(1),
  );

  it('when the scope is the event, one script carries every operation and the one watermark hash', () => {
    const calls = scriptCalls([plan!], keys, 'event');
    expect(calls).toHaveLength(1);
    expect(calls[0]!.keys[0]).toBe(keys.applied(EVENT_SCOPE_TAG));
  });

  it('when the scope is the slot, each script touches exactly one hash tag, its marker included', () => {
    const history = [{ sequence: 1n, type: EventType.VIEW, value: 0, occurredMs: t0, itemId: 'a' }];
    const [withPartner] = planBatch(incoming(interaction({ userId: 'u1', itemId: 'b', occurredMs: t0 + 1 })), { ...emptySnapshot(), recent: new Map([['u1', history]]), catalog: new Map([['b', { categories: ['x'], deleted: false }]]) }, keys, control, config).outcomes;
    if (withPartner?.kind !== 'plan') throw new Error('not planned');
    const calls = scriptCalls([withPartner.plan], keys, 'slot');
    const tags = calls.map((call) => new Set(call.keys.map(hashTagOf)));
    expect(tags.every((set) => set.size === 1)).toBe(true);
    expect(tags.map((set) => [...set][0]).sort()).toEqual([keys.item('a').tag, keys.item('b').tag, keys.trending.tag, keys.user('u1').tag].sort());
    expect(calls.every((call) => call.keys[0] === keys.applied(hashTagOf(call.keys[0]!)))).toBe(true);
  });
});

describe('encoding the watermark check of a script call', () => {
  const part = (source: string, sequence: bigint): ScriptPart => ({ index: 0, position: { source, sequence }, ops: [] });

  it('when a batch holds several partitions, each source is sent with the first and last sequence of its events', () => {
    const call = encodeCall('w', [part('events/0', 5n), part('events/1', 6n), part('events/0', 9n)], { token: '' });
    expect(call.keys).toEqual(['w']);
    expect(call.args.slice(1)).toEqual(['', '0', 'events/0', '5', '9', '', 'events/1', '6', '6', '']);
    expect(call.sent).toHaveLength(3);
  });

  it('when a call is chained to an earlier one, the sources they share carry its token, and each count is checked at its key', () => {
    const counts = [
      { key: 'changes', field: 'catalog', value: '7' },
      // Nothing counted yet: the count must still be absent.
      { key: 'forgotten', field: 'count', value: null },
    ];
    const chain = { token: 'p.2', after: { token: 'p.1', sources: new Set(['events/1', 'events/2']) }, counts };
    const call = encodeCall('w', [part('events/0', 5n), part('events/1', 6n)], chain);
    expect(call.keys).toEqual(['w', 'changes', 'forgotten']);
    expect(call.args.slice(1)).toEqual(['p.2', '2', '2', 'catalog', '7', '3', 'count', '', 'events/0', '5', '5', '', 'events/1', '6', '6', 'p.1']);
  });

  it('when an event repeats an earlier sequence of its partition in the batch (a relay resend), the copy is left out', () => {
    const parts = [part('events/0', 5n), part('events/0', 7n), part('events/0', 5n), part('events/0', 7n), part('events/0', 8n)];
    const call = encodeCall('w', parts, { token: '' });
    expect(call.sent.map((sent) => sent.position.sequence)).toEqual([5n, 7n, 8n]);
    expect(call.args.slice(3)).toEqual(['events/0', '5', '8', '']);
  });
});

describe('planning an event without a commit sequence', () => {
  it('when a domain event carries no sequence, it is skipped: nothing could tell its redelivery from a new event', () => {
    const event = create(DomainEventSchema, { sequence: 0n, payload: { case: 'userForgotten', value: { userId: 'u1' } } });
    const [planned] = planBatch(incoming(event), emptySnapshot(), keys, control, config).outcomes;
    expect(planned).toMatchObject({ kind: 'skip', reason: expect.stringContaining('without a commit sequence') });
  });
});
