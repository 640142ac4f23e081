import { Kafka, logLevel, Partitioners, type Admin, type Producer } from 'kafkajs';
import { readConfig, type OrreryConfig } from '@orrery/config';
import { controlKeys, createRedis, decayedValue, decodeRecentEntry, EVENT_SCOPE_TAG, halfLifeMs, logAddExp, logDecayedWeight, projectionKeys, runScript, type RecentEntry, type RedisClient } from '@orrery/projections';
import { EventType, type DomainEvent } from '@orrery/proto';
import { createLogger } from '@orrery/telemetry';
import { createTestTopic, deleteTestTopic, eventually, uniqueName } from '@orrery/testing';
import { APPLY_SCRIPT, scriptCalls, type ScriptScope } from '../src/apply-script';
import { emptySnapshot, planBatch, type EventPlan } from '../src/plan';
import { startProjector, type RunningProjector } from '../src/service';
import { redisProjectionStore, type ApplyOutcome, type ProjectionStore } from '../src/store';
import { interaction, itemDeleted, itemUpserted, publish, sequence } from './domain-events';
import { canonicalModel, deleteModel, readModel } from './redis-state';

const logger = createLogger('projector-test', 'warn');
let config: OrreryConfig;
let kafka: Kafka;
let producer: Producer;
let admin: Admin;
let redis: RedisClient;
const running: RunningProjector[] = [];
const SOURCE = 'events/0';

/** Applies one plan alone. */
async function applyOne(store: ProjectionStore, plan: EventPlan): Promise<ApplyOutcome> {
  const [outcome] = await store.applyAll([plan]);
  return outcome!;
}

async function start(groupId: string): Promise<RunningProjector> {
  const projector = await startProjector({ ...config, projectorGroup: groupId }, logger);
  running.push(projector);
  return projector;
}

/** Resolves once `groupId` has committed every message of the topic (its projector applied them all). */
async function caughtUp(groupId: string): Promise<void> {
  await eventually(
    async () => {
      const ends = await admin.fetchTopicOffsets(config.eventsTopic);
      const [committed] = await admin.fetchOffsets({ groupId, topics: [config.eventsTopic] });
      return ends.every((end) => {
        const offset = committed?.partitions.find((partition) => partition.partition === end.partition)?.offset;
        return offset === end.high || (end.high === '0' && offset === '-1');
      });
    },
    { what: `${groupId} to commit the whole topic`, timeoutMs: 30_000 },
  );
}

/**
 * Two projector instances (stores) over one projection under `prefix`, and how each applies a chunk:
 * planned on its own snapshot read; resolves to each event's outcome ('plan' or the reason skipped).
 */
function twoInstances(prefix: string, scope: ScriptScope = 'event') {
  const keys = projectionKeys(prefix);
  const control = controlKeys(prefix);
  const instance = (): ProjectionStore => redisProjectionStore(redis, keys, control, config.projection, scope, config.projectorCachedItems);
  const chunk = async (store: ProjectionStore, ...events: DomainEvent[]): Promise<string[]> => {
    const incoming = events.map((event) => ({ event, source: SOURCE, messageTimestampMs: Date.now() }));
    const { outcomes } = planBatch(incoming, await store.readSnapshot(incoming), keys, control, config.projection);
    await store.applyAll(outcomes.flatMap((outcome) => (outcome.kind === 'plan' ? [outcome.plan] : [])));
    return outcomes.map((outcome) => (outcome.kind === 'plan' ? 'plan' : outcome.reason));
  };
  return { keys, mine: instance(), other: instance(), chunk };
}

beforeAll(async () => {
  const base = readConfig();
  config = { ...base, eventsTopic: await createTestTopic(2), eventsTopicPartitions: 2, redisPrefix: uniqueName('projector_test'), tracingEnabled: false };
  kafka = new Kafka({ clientId: 'projector-test', brokers: [...config.kafkaBrokers], logLevel: logLevel.NOTHING });
  producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  admin = kafka.admin();
  await Promise.all([producer.connect(), admin.connect()]);
  redis = createRedis(config, 'projector-test');
});

afterAll(async () => {
  for (const projector of running) await projector.close();
  await Promise.all([producer.disconnect(), admin.disconnect()]);
  await deleteModel(redis, config.redisPrefix);
  await redis.quit();
  await deleteTestTopic(config.eventsTopic);
});

describe('projector', () => {
  it('when a user met an item before it was deleted, their next interaction leaves no co-visit pair with it', async () => {
    // First in the file: no other group's projector applies these events meanwhile, so this one plans
    // the interaction with the user's list head it holds in memory.
    const group = uniqueName('projector');
    await start(group);
    const keys = projectionKeys(config.redisPrefix);
    const t = Date.now() - 60_000;
    await publish(producer, config.eventsTopic, [
      ...['gone-d', 'gone-p', 'gone-x'].map((itemId) => itemUpserted({ itemId, categories: ['c1'] })),
      interaction({ userId: 'gone-user', itemId: 'gone-p', occurredMs: t }),
      interaction({ userId: 'gone-user', itemId: 'gone-d', occurredMs: t + 1_000 }),
    ]);
    await caughtUp(group);
    expect(await redis.zrange(keys.item('gone-d').coVisits, 0, -1)).toEqual(['gone-p']);
    // Interactions and catalog changes travel on different partitions: the deletion is applied first.
    await publish(producer, config.eventsTopic, [itemDeleted('gone-d')]);
    await caughtUp(group);
    await publish(producer, config.eventsTopic, [interaction({ userId: 'gone-user', itemId: 'gone-x', type: EventType.CLICK, occurredMs: t + 2_000 })]);
    await caughtUp(group);

    expect(await redis.zrange(keys.item('gone-x').coVisits, 0, -1)).toEqual(['gone-p']);
    expect(await redis.zrange(keys.item('gone-p').coVisits, 0, -1)).toEqual(['gone-x']);
    expect(await redis.exists(keys.item('gone-d').coVisits)).toBe(0);
  });

  it('when the same domain event is delivered twice, counts and popularity change once', async () => {
    const group = uniqueName('projector');
    await start(group);
    const keys = projectionKeys(config.redisPrefix);
    const t = Date.now() - 60_000;
    const first = interaction({ userId: 'dup-user', itemId: 'dup-item', type: EventType.VIEW, occurredMs: t });
    const second = interaction({ userId: 'dup-user', itemId: 'dup-item', type: EventType.CLICK, occurredMs: t + 1_000 });
    await publish(producer, config.eventsTopic, [first, first, second, first]);
    await caughtUp(group);

    expect(await redis.hgetall(keys.user('dup-user').stats)).toEqual({ VIEW: '1', CLICK: '1', last_active: String(t + 1_000) });
    expect(await redis.llen(keys.user('dup-user').recent)).toBe(2);
    expect(await redis.hget(keys.item('dup-item').stats, 'n')).toBe('2');
    const halfLife = halfLifeMs(config.projection.trendingHalfLifeHours);
    const expected = logAddExp(logDecayedWeight(1, t, halfLife), logDecayedWeight(2, t + 1_000, halfLife));
    const stored = Number(await redis.hget(keys.item('dup-item').stats, 'pop'));
    expect(stored).toBeCloseTo(expected, 12);
    expect(decayedValue(stored, t + 1_000, halfLife)).toBeCloseTo(2 + 2 ** (-1_000 / halfLife), 9);
    expect(Number(await redis.zscore(keys.trending.overall, 'dup-item'))).toBeCloseTo(expected, 12);
  });

  it('when a new consumer group replays the whole topic over the same projections, nothing changes', async () => {
    await publish(producer, config.eventsTopic, [
      itemUpserted({ itemId: 'replay-a', categories: ['c1'] }),
      interaction({ userId: 'replay-user', itemId: 'replay-a' }),
      interaction({ userId: 'replay-user', itemId: 'replay-b', type: EventType.PURCHASE }),
      interaction({ userId: 'replay-other', itemId: 'replay-a', type: EventType.LIKE }),
    ]);
    const firstGroup = uniqueName('projector');
    await start(firstGroup);
    await caughtUp(firstGroup);
    const before = await readModel(redis, config.redisPrefix);
    expect(Object.keys(before).length).toBeGreaterThan(10);

    const replayGroup = uniqueName('projector-replay');
    await start(replayGroup);
    await caughtUp(replayGroup);
    expect(await readModel(redis, config.redisPrefix)).toEqual(before);
  });
});

describe('applying plans in cluster-safe (per slot) scope', () => {
  it('when a plan is applied twice, or its remainder after a crash, each part takes effect once', async () => {
    const prefix = uniqueName('projector_slot');
    const keys = projectionKeys(prefix);
    const store = redisProjectionStore(redis, keys, controlKeys(config.redisPrefix), config.projection, 'slot', config.projectorCachedItems);
    const t = Date.now();
    const earlier = interaction({ userId: 'u', itemId: 'a', occurredMs: t });
    const later = interaction({ userId: 'u', itemId: 'b', type: EventType.ADD_TO_CART, occurredMs: t + 1_000 });
    const incoming = [earlier, later].map((event) => ({ event, source: SOURCE, messageTimestampMs: t }));
    const planned = planBatch(incoming, emptySnapshot(), keys, controlKeys(config.redisPrefix), config.projection).outcomes.map((outcome) => {
      if (outcome.kind !== 'plan') throw new Error(outcome.reason);
      return outcome.plan;
    });
    const [first, second] = planned as [(typeof planned)[number], (typeof planned)[number]];

    expect(await applyOne(store, first)).toBe('applied');
    // A crash after the first slot's script of the second event: only the user slot took effect.
    const [userPart] = scriptCalls([second], keys, 'slot');
    await runScript(redis, APPLY_SCRIPT, userPart!.keys, userPart!.args);
    expect(await applyOne(store, second)).toBe('completed');
    expect(await applyOne(store, second)).toBe('duplicate');
    expect(await applyOne(store, first)).toBe('duplicate');

    expect(await redis.hgetall(keys.user('u').stats)).toMatchObject({ VIEW: '1', ADD_TO_CART: '1' });
    expect(await redis.zrange(keys.item('a').coVisits, 0, -1)).toEqual(['b']);
    expect(await redis.zrange(keys.item('b').coVisits, 0, -1)).toEqual(['a']);
    expect(await redis.hget(keys.item('b').stats, 'n')).toBe('1');
    expect(await redis.zrevrange(keys.trending.overall, 0, -1)).toEqual(['b', 'a']);
    await deleteModel(redis, prefix);
  });

  it('when a user returns to an item, it moves to the head of the seen list instead of appearing twice', async () => {
    const prefix = uniqueName('projector_seen');
    const keys = projectionKeys(prefix);
    const store = redisProjectionStore(redis, keys, controlKeys(config.redisPrefix), config.projection, 'event', config.projectorCachedItems);
    const t = Date.now();
    const events = [
      interaction({ userId: 'u', itemId: 'a', occurredMs: t }),
      interaction({ userId: 'u', itemId: 'b', occurredMs: t + 1 }),
      interaction({ userId: 'u', itemId: 'a', type: EventType.CLICK, occurredMs: t + 2 }),
    ].map((event) => ({ event, source: SOURCE, messageTimestampMs: t }));
    for (const outcome of planBatch(events, emptySnapshot(), keys, controlKeys(config.redisPrefix), config.projection).outcomes) {
      if (outcome.kind === 'plan') await applyOne(store, outcome.plan);
    }
    expect(await redis.lrange(keys.user('u').seen, 0, -1)).toEqual(['a', 'b']);
    expect(await redis.llen(keys.user('u').recent)).toBe(3);
    await deleteModel(redis, prefix);
  });

  it('when another instance applies a catalog change, the next chunk plans with the new facts, not those this store held', async () => {
    const prefix = uniqueName('projector_catalog');
    const { keys, mine, other, chunk } = twoInstances(prefix);
    const t = Date.now();
    await chunk(other, itemUpserted({ itemId: 'shoe', categories: ['boots'] }), itemUpserted({ itemId: 'sock', categories: ['socks'] }));
    expect(await chunk(mine, interaction({ userId: 'u', itemId: 'shoe', occurredMs: t }), interaction({ userId: 'u', itemId: 'sock', occurredMs: t }))).toEqual(['plan', 'plan']);
    await chunk(other, itemDeleted('shoe'), itemUpserted({ itemId: 'sock', categories: ['wool'] }));
    expect(await chunk(mine, interaction({ userId: 'v', itemId: 'shoe', occurredMs: t + 1 }), interaction({ userId: 'v', itemId: 'sock', occurredMs: t + 1 }))).toEqual(['plan', 'plan']);
    // The deletion removed the item's stats, and the interaction since counted for the user only.
    expect(await redis.hget(keys.item('shoe').stats, 'n')).toBeNull();
    expect(await redis.hget(keys.user('v').stats, 'VIEW')).toBe('2');
    expect(await redis.zrange(keys.user('v').affinity, 0, -1)).toEqual(['wool']);
    await deleteModel(redis, prefix);
  });

  it.each(['event', 'slot'] as const)(
    'when another instance deleted an item a user met, the next chunk (the list read from Redis, %s scope) pairs their interaction with the items before it only',
    async (scope) => {
      const prefix = uniqueName(`projector_gone_${scope}`);
      const { keys, mine, other, chunk } = twoInstances(prefix, scope);
      const t = Date.now();
      await chunk(other, itemUpserted({ itemId: 'd', categories: ['c1'] }), itemUpserted({ itemId: 'p', categories: ['c1'] }));
      await chunk(mine, interaction({ userId: 'u', itemId: 'p', occurredMs: t }), interaction({ userId: 'u', itemId: 'd', occurredMs: t + 1 }));
      await chunk(other, itemDeleted('d'));
      await chunk(mine, interaction({ userId: 'u', itemId: 'x', occurredMs: t + 2 }));

      expect(await redis.zrange(keys.item('x').coVisits, 0, -1)).toEqual(['p']);
      expect(await redis.zrange(keys.item('p').coVisits, 0, -1)).toEqual(['x']);
      expect(await redis.exists(keys.item('d').coVisits)).toBe(0);
      await deleteModel(redis, prefix);
    },
  );

  it('when the catalog facts of an item a user may pair with are not held, their chunk is not planned from memory; once read, the deleted item shows deleted there', async () => {
    const prefix = uniqueName('projector_gone_memory');
    const { keys, mine, other, chunk } = twoInstances(prefix);
    const t = Date.now();
    await chunk(other, ...['d', 'p', 'x'].map((itemId) => itemUpserted({ itemId, categories: ['c1'] })));
    await chunk(mine, interaction({ userId: 'u', itemId: 'p', occurredMs: t }), interaction({ userId: 'u', itemId: 'd', occurredMs: t + 1 }));
    await chunk(other, itemDeleted('d'));
    // Another user's chunk: this store reads the moved change count, drops the facts it held and holds x's.
    await chunk(mine, interaction({ userId: 'v', itemId: 'x', occurredMs: t + 2 }));
    const list = (await redis.lrange(keys.user('u').recent, 0, -1)).map(decodeRecentEntry).filter((entry): entry is RecentEntry => entry !== undefined);
    const click = [{ event: interaction({ userId: 'u', itemId: 'x', occurredMs: t + 3 }), source: SOURCE, messageTimestampMs: t }];

    expect(mine.snapshotInMemory(click, () => list)).toBeUndefined();
    await mine.readSnapshot(click);
    expect(mine.snapshotInMemory(click, () => list)?.snapshot.catalog.get('d')).toEqual({ categories: [], deleted: true });
    await deleteModel(redis, prefix);
  });

  it('when plans are applied as one merged batch, the projections equal applying them one by one, and redelivered ones in the batch change nothing', async () => {
    const t = Date.now() - 3_600_000;
    const catalogEvents = [itemUpserted({ itemId: 'x', categories: ['c1', 'c2'] }), itemUpserted({ itemId: 'y', categories: ['c1'] }), itemUpserted({ itemId: 'z', categories: ['c2'] })];
    const users = ['u1', 'u2', 'u3'];
    const interactions = Array.from({ length: 30 }, (_, index) =>
      interaction({ userId: users[index % 3]!, itemId: ['x', 'y', 'z', 'w'][(index * 5) % 4]!, type: [EventType.VIEW, EventType.PURCHASE, EventType.RATING, EventType.CLICK][index % 4]!, value: 3.5, occurredMs: t + index * 20_000 }),
    );
    // A hide in the middle and an item deletion: order-sensitive operations among merged ones.
    const events = [...catalogEvents, ...interactions.slice(0, 15), itemUpserted({ itemId: 'y', categories: ['c1'], hidden: true }), ...interactions.slice(15, 22), itemDeleted('z'), ...interactions.slice(22)];
    // Numbered in the order they are published, as the relay numbers them.
    for (const event of events) event.sequence = sequence();
    const incoming = events.map((event) => ({ event, source: SOURCE, messageTimestampMs: t }));
    const project = async (scope: 'event' | 'slot', batched: boolean): Promise<Record<string, unknown>> => {
      const prefix = uniqueName(`projector_batch_${scope}`);
      const keys = projectionKeys(prefix);
      const control = controlKeys(prefix);
      const store = redisProjectionStore(redis, keys, control, config.projection, scope, config.projectorCachedItems);
      if (!batched) {
        // Each event planned against what the ones before it wrote, and applied alone.
        for (const one of incoming) {
          const [outcome] = planBatch([one], await store.readSnapshot([one]), keys, control, config.projection).outcomes;
          if (outcome?.kind === 'plan') expect(await applyOne(store, outcome.plan)).toBe('applied');
        }
      } else {
        const plans = planBatch(incoming, await store.readSnapshot(incoming), keys, control, config.projection).outcomes.flatMap((outcome) => (outcome.kind === 'plan' ? [outcome.plan] : []));
        const [head, tail] = [plans.slice(0, 20), plans.slice(20)];
        expect(await store.applyAll(head)).toEqual(head.map(() => 'applied'));
        // The last ten of the first batch redelivered with the rest.
        const outcomes = await store.applyAll([...head.slice(-10), ...tail]);
        expect(outcomes).toEqual([...head.slice(-10).map(() => 'duplicate'), ...tail.map(() => 'applied')]);
      }
      const model = await canonicalModel(redis, prefix);
      await deleteModel(redis, prefix);
      return model;
    };
    const oneByOne = await project('event', false);
    expect(Object.keys(oneByOne).length).toBeGreaterThan(20);
    expect(await project('event', true)).toEqual(oneByOne);
    const slotOneByOne = await project('slot', false);
    expect(await project('slot', true)).toEqual(slotOneByOne);
  }, 180_000);

  it('when the operations argument is not a MessagePack array of valid operations, the script names the problem and writes nothing, watermarks included', async () => {
    const prefix = uniqueName('projector_bad_ops');
    const keys = projectionKeys(prefix);
    const event = interaction({ userId: 'u', itemId: 'a', occurredMs: Date.now() });
    const [outcome] = planBatch([{ event, source: SOURCE, messageTimestampMs: Date.now() }], emptySnapshot(), keys, controlKeys(prefix), config.projection).outcomes;
    if (outcome?.kind !== 'plan') throw new Error('not planned');
    const [call] = scriptCalls([outcome.plan], keys, 'event');
    const [operations, ...ranges] = call!.args as [Buffer, ...string[]];
    await expect(runScript(redis, APPLY_SCRIPT, call!.keys, ['not msgpack', ...ranges])).rejects.toThrow('projection batch: the operations are not a MessagePack array');
    // A valid array cut short: the last operation lacks its operands.
    await expect(runScript(redis, APPLY_SCRIPT, call!.keys, [operations.subarray(0, operations.length - 1), ...ranges])).rejects.toThrow(/projection batch: /);
    // No sequence range, or one that runs backwards.
    await expect(runScript(redis, APPLY_SCRIPT, call!.keys, [operations, '', '0'])).rejects.toThrow('projection batch: no (source, first, last, after) quadruples after the operations and the chain');
    await expect(runScript(redis, APPLY_SCRIPT, call!.keys, [operations, '', 'x', SOURCE, '1', '1', ''])).rejects.toThrow('projection batch: no counter check count after the token');
    await expect(runScript(redis, APPLY_SCRIPT, call!.keys, [operations, '', '0', SOURCE, '9', '8', ''])).rejects.toThrow(`projection batch: bad sequence range of source ${SOURCE}`);
    // A counter check naming no key.
    await expect(runScript(redis, APPLY_SCRIPT, call!.keys, [operations, '', '1', '99', 'count', '', SOURCE, '1', '1', ''])).rejects.toThrow('projection batch: a counter check names no key');
    expect(await readModel(redis, prefix)).toEqual({});
    expect(await redis.exists(keys.applied(EVENT_SCOPE_TAG))).toBe(0);
    // The intact call still applies (the watermark was not moved by the refused ones).
    await runScript(redis, APPLY_SCRIPT, call!.keys, call!.args);
    expect(await redis.lrange(keys.user('u').seen, 0, -1)).toEqual(['a']);
    await deleteModel(redis, prefix);
  });

  it('when a chunk of the default size brings thousands of users with a history, it is applied in one script call', async () => {
    // As a busy site's fetches bring them: chunks of 2,000 views of 500 users, a handful each, so from
    // the third chunk on every view has its full count of co-visit partners. Such a merged call
    // carries well over 100,000 operands (in one MessagePack argument).
    const prefix = uniqueName('projector_big_chunk');
    const keys = projectionKeys(prefix);
    const control = controlKeys(prefix);
    const store = redisProjectionStore(redis, keys, control, config.projection, 'event', config.projectorCachedItems);
    const t = Date.now() - 600_000;
    let n = 0;
    for (let chunk = 0; chunk < 3; chunk += 1) {
      const events = Array.from({ length: config.projectorChunkSize }, () => {
        n += 1;
        return interaction({ userId: `big-u${n % 500}`, itemId: `big-i${n}`, occurredMs: t + n });
      });
      const incoming = events.map((event) => ({ event, source: SOURCE, messageTimestampMs: t }));
      const plans = planBatch(incoming, await store.readSnapshot(incoming), keys, control, config.projection).outcomes.flatMap((outcome) => (outcome.kind === 'plan' ? [outcome.plan] : []));
      expect(plans).toHaveLength(events.length);
      expect(await store.applyAll(plans)).toEqual(plans.map(() => 'applied'));
    }
    expect(await redis.hget(keys.user('big-u0').stats, 'VIEW')).toBe(String(n / 500));
    await deleteModel(redis, prefix);
  }, 120_000);
});
