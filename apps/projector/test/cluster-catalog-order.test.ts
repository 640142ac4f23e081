// On a Redis Cluster the parts of one chunk are written by separate scripts on separate nodes, and two
// must not be overtaken (store.ts applyCalls). Readers drop the catalog facts they cache when the
// catalog change count moves, so the count must never move before the facts: its call goes last, and
// not at all when another call of the chunk fails. A forget deletes the user's slot, its watermarks
// included, so its tombstone must exist first: its call goes first, and the user's slot is not
// touched when it fails.
import { readConfig, type OrreryConfig } from '@orrery/config';
import { CATALOG_CHANGES_FIELD, controlKeys, createRedis, forgottenUserField, hashTagOf, projectionKeys, type RedisClient } from '@orrery/projections';
import type { DomainEvent } from '@orrery/proto';
import { uniqueName } from '@orrery/testing';
import { planBatch, type EventPlan, type IncomingEvent } from '../src/plan';
import { redisProjectionStore } from '../src/store';
import { interaction, itemUpserted, userForgotten } from './domain-events';
import { clusterUnavailableReason, startLocalRedisCluster, type LocalRedisCluster } from './redis-cluster';

jest.setTimeout(120_000);

const unavailable = clusterUnavailableReason();
if (unavailable) console.warn(`Redis Cluster tests skipped: ${unavailable}`);
const describeWithCluster = unavailable ? describe.skip : describe;

const SOURCE = 'events/0';
let cluster: LocalRedisCluster;
let config: OrreryConfig;
let redis: RedisClient;

describeWithCluster('the order of a chunk’s script calls on a Redis Cluster', () => {
  beforeAll(async () => {
    cluster = await startLocalRedisCluster();
    config = { ...readConfig(), redisUrl: cluster.url, redisCluster: true, redisPrefix: uniqueName('cluster_order') };
    redis = createRedis(config, 'cluster-order-test');
  });

  afterAll(async () => {
    await redis?.quit();
    await cluster?.stop();
  });

  /** A store in slot scope, and the plans of `events` planned against what it holds now. */
  const slotStore = () => {
    const keys = projectionKeys(config.redisPrefix);
    const control = controlKeys(config.redisPrefix);
    const store = redisProjectionStore(redis, keys, control, config.projection, 'slot', config.projectorCachedItems);
    const plansOf = async (events: DomainEvent[]): Promise<EventPlan[]> => {
      const incoming: IncomingEvent[] = events.map((event) => ({ event, source: SOURCE, messageTimestampMs: Date.now() }));
      return planBatch(incoming, await store.readSnapshot(incoming), keys, control, config.projection).outcomes.flatMap((outcome) => (outcome.kind === 'plan' ? [outcome.plan] : []));
    };
    return { keys, control, store, plansOf };
  };

  it('when an item slot fails to apply a chunk of catalog changes, the count does not move; redelivered, every change is applied and counted once', async () => {
    const { keys, store, plansOf } = slotStore();
    const count = (): Promise<string | null> => redis.hget(keys.trending.changes, CATALOG_CHANGES_FIELD);
    const hidden = (itemId: string): Promise<string | null> => redis.hget(keys.item(itemId).catalog, 'hidden');

    const listed = await plansOf([itemUpserted({ itemId: 'shoe', categories: ['boots'] }), itemUpserted({ itemId: 'sock', categories: ['socks'] })]);
    expect(await store.applyAll(listed)).toEqual(['applied', 'applied']);
    expect(await count()).toBe('2');

    const hiding = await plansOf([itemUpserted({ itemId: 'shoe', categories: ['boots'], hidden: true }), itemUpserted({ itemId: 'sock', categories: ['socks'], hidden: true })]);
    // The sock slot's script fails on its first read (its watermark hash is not a hash), having written nothing.
    const sockWatermarks = keys.applied(keys.item('sock').tag);
    await redis.set(sockWatermarks, 'not a hash');
    await expect(store.applyAll(hiding)).rejects.toThrow(/WRONGTYPE/);
    // Read after the failure through the same connections: a count call sent with the others would be answered first.
    expect(await count()).toBe('2');
    expect(await hidden('shoe')).toBe('1');
    expect(await hidden('sock')).toBe('0');

    // Redelivered once the slot is sound again: the shoe slot's part is found applied and skipped.
    await redis.del(sockWatermarks);
    expect(await store.applyAll(hiding)).toEqual(['completed', 'applied']);
    expect(await count()).toBe('4');
    expect([await hidden('shoe'), await hidden('sock')]).toEqual(['1', '1']);
    expect((await redis.smembers(keys.trending.hidden)).sort()).toEqual(['shoe', 'sock']);
  });

  it('when the tombstone slot fails to apply a forget, the user’s slot is left as it was; redelivered, both are applied', async () => {
    const { keys, control, store, plansOf } = slotStore();
    const user = keys.user('ann');
    expect(await store.applyAll(await plansOf([interaction({ userId: 'ann', itemId: 'book' })]))).toEqual(['applied']);
    expect(await redis.llen(user.recent)).toBe(1);

    const forget = await plansOf([userForgotten('ann')]);
    // The tombstone slot's script fails on its first read (its watermark hash is not a hash), having written nothing.
    const tombstoneWatermarks = keys.applied(hashTagOf(control.forgotten));
    await redis.set(tombstoneWatermarks, 'not a hash');
    await expect(store.applyAll(forget)).rejects.toThrow(/WRONGTYPE/);
    // Read through the same connections after the failure: a user-slot call sent with it would be answered first.
    expect(await redis.hget(control.forgotten, forgottenUserField('ann'))).toBeNull();
    expect(await redis.llen(user.recent)).toBe(1);
    expect(await redis.exists(keys.applied(user.tag))).toBe(1);

    await redis.del(tombstoneWatermarks);
    expect(await store.applyAll(forget)).toEqual(['applied']);
    expect(await redis.hget(control.forgotten, forgottenUserField('ann'))).not.toBeNull();
    expect(await redis.exists(user.recent, user.seen, user.stats, keys.applied(user.tag))).toBe(0);
  });
});
