import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { timestampMs } from '@bufbuild/protobuf/wkt';
import { readConfig, type OrreryConfig } from '@orrery/config';
import { createClient, status, type Client } from '@orrery/grpc';
import { createRedis, projectionKeys, redisProjectionReader, scanKeys, tagKeyPattern, type RedisClient } from '@orrery/projections';
import { EventType, QueryService } from '@orrery/proto';
import { createLogger } from '@orrery/telemetry';
import { createTestTopic, deleteTestTopic, eventually, uniqueName } from '@orrery/testing';
import { interaction, itemDeleted, itemUpserted, publish, userForgotten, userUpserted } from '../../projector/test/domain-events';
import { deleteModel } from '../../projector/test/redis-state';
import { startProjector, type RunningProjector } from '../../projector/src/service';
import { startQuery, type RunningQuery } from '../src/service';

const MINUTE = 60_000;
const logger = createLogger('query-test', 'warn');
let config: OrreryConfig;
let producer: Producer;
let redis: RedisClient;
let projector: RunningProjector;
let query: RunningQuery;
let client: Client<typeof QueryService>;

beforeAll(async () => {
  config = {
    ...readConfig(),
    eventsTopic: await createTestTopic(2),
    eventsTopicPartitions: 2,
    projectorGroup: uniqueName('projector'),
    redisPrefix: uniqueName('query_test'),
    queryAddress: '127.0.0.1:0',
    tracingEnabled: false,
  };
  producer = new Kafka({ clientId: 'query-test', brokers: [...config.kafkaBrokers], logLevel: logLevel.NOTHING }).producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  redis = createRedis(config, 'query-test');
  [projector, query] = await Promise.all([startProjector(config, logger), startQuery(config, logger)]);
  client = createClient(QueryService, `127.0.0.1:${query.port}`);
});

afterAll(async () => {
  client.close();
  await query.close();
  await projector.close();
  await producer.disconnect();
  await deleteModel(redis, config.redisPrefix);
  await redis.quit();
  await deleteTestTopic(config.eventsTopic);
});

/** Publishes catalog items and waits until query sees all of them (they may sit on another partition than later interactions). */
async function catalog(...items: Parameters<typeof itemUpserted>[0][]): Promise<void> {
  await publish(producer, config.eventsTopic, items.map(itemUpserted));
  const itemIds = items.map((item) => item.itemId);
  await eventually(() => client.getItems({ itemIds }), { accept: (reply) => reply.items.every((item) => item.exists), what: `catalog ${itemIds.join(',')}` });
}

describe('query over the projections', () => {
  it('when a user interacts with a few items, the user context shows them newest first, their ids as seen, counts and category affinity', async () => {
    await catalog({ itemId: 'book-1', categories: ['books'] }, { itemId: 'book-2', categories: ['books', 'sci-fi'] }, { itemId: 'lamp-1', categories: ['home'] });
    const t = Date.now() - 10 * MINUTE;
    await publish(producer, config.eventsTopic, [
      interaction({ userId: 'alice', itemId: 'book-1', type: EventType.VIEW, occurredMs: t }),
      interaction({ userId: 'alice', itemId: 'book-2', type: EventType.CLICK, occurredMs: t + MINUTE }),
      interaction({ userId: 'alice', itemId: 'lamp-1', type: EventType.PURCHASE, occurredMs: t + 2 * MINUTE }),
    ]);
    const context = await eventually(() => client.getUserContext({ userId: 'alice' }), { accept: (reply) => reply.recent.length === 3, what: 'alice context' });

    expect(context.known).toBe(true);
    expect(context.recent.map((entry) => [entry.itemId, entry.type, entry.occurredAt && timestampMs(entry.occurredAt)])).toEqual([
      ['lamp-1', EventType.PURCHASE, t + 2 * MINUTE],
      ['book-2', EventType.CLICK, t + MINUTE],
      ['book-1', EventType.VIEW, t],
    ]);
    expect(context.seenItemIds).toEqual(['lamp-1', 'book-2', 'book-1']);
    expect(context.eventCounts).toEqual({ VIEW: 1n, CLICK: 1n, PURCHASE: 1n });
    expect(Object.keys(context.categoryAffinity).sort()).toEqual(['books', 'home', 'sci-fi']);
    // PURCHASE (8) outweighs VIEW + CLICK (1 + 2) of books, a few minutes of decay aside.
    expect(context.categoryAffinity.home).toBeGreaterThan(context.categoryAffinity.books!);
    expect(context.categoryAffinity.books).toBeGreaterThan(context.categoryAffinity['sci-fi']!);

    const limited = await client.getUserContext({ userId: 'alice', recentLimit: 1 });
    expect(limited.recent.map((entry) => entry.itemId)).toEqual(['lamp-1']);
  });

  it('when a user views items in one session, each is co-visited with the others but not with items of another session', async () => {
    const t = Date.now() - 5 * 60 * MINUTE;
    await publish(producer, config.eventsTopic, [
      interaction({ userId: 'bob', itemId: 'tent', occurredMs: t }),
      interaction({ userId: 'bob', itemId: 'stove', occurredMs: t + MINUTE }),
      interaction({ userId: 'bob', itemId: 'lantern', type: EventType.ADD_TO_CART, occurredMs: t + 2 * MINUTE }),
      // Two hours later: a new session.
      interaction({ userId: 'bob', itemId: 'sofa', occurredMs: t + 122 * MINUTE }),
    ]);
    await eventually(() => client.getUserContext({ userId: 'bob' }), { accept: (reply) => reply.recent.length === 4, what: 'bob context' });

    const ofTent = await client.getCoVisited({ itemIds: ['tent'] });
    expect(ofTent.items.map((item) => [item.itemId, item.sourceItemId])).toEqual([
      ['lantern', 'tent'],
      ['stove', 'tent'],
    ]);
    expect(ofTent.items[0]!.score).toBeGreaterThan(ofTent.items[1]!.score);

    const ofTwo = await client.getCoVisited({ itemIds: ['tent', 'stove'], countPerItem: 5 });
    expect(ofTwo.items.map((item) => item.itemId)).toEqual(['lantern']);
    // Co-visited with both sources equally (one pair each, at the same time): the scores add up.
    expect(ofTwo.items[0]!.score).toBeCloseTo(2 * ofTent.items[0]!.score, 5);
    expect(['tent', 'stove']).toContain(ofTwo.items[0]!.sourceItemId);

    expect((await client.getCoVisited({ itemIds: ['sofa'] })).items).toEqual([]);
  });

  it('when items are interacted with, trending ranks the most interacted first, overall and in their category', async () => {
    await catalog({ itemId: 'hot', categories: ['gadgets'] }, { itemId: 'warm', categories: ['gadgets'] }, { itemId: 'cold', categories: ['gadgets'] });
    const views = (itemId: string, users: number) => Array.from({ length: users }, (_, index) => interaction({ userId: `fan-${index}`, itemId, type: EventType.CLICK }));
    await publish(producer, config.eventsTopic, [...views('cold', 1), ...views('warm', 3), ...views('hot', 6)]);
    // The fans' clicks travel in several partitions, applied in any order between them: wait until all
    // ten are, so that no intermediate ranking (hot 4, warm 3) is taken for the final one.
    await eventually(() => client.getItems({ itemIds: ['hot', 'warm', 'cold'] }), {
      accept: (reply) => reply.items.map((item) => item.interactions).join() === '6,3,1',
      what: 'every click applied',
    });
    const ranked = await client.getTrending({ category: 'gadgets' });
    expect(ranked.items.map((item) => item.itemId)).toEqual(['hot', 'warm', 'cold']);
    expect(ranked.items[0]!.score).toBeGreaterThan(11.9); // 6 clicks of weight 2, barely decayed

    const overall = await client.getTrending({ count: 1000 });
    const position = (itemId: string) => overall.items.findIndex((item) => item.itemId === itemId);
    expect(position('hot')).toBeLessThan(position('warm'));
    expect(position('warm')).toBeLessThan(position('cold'));

    const [hot, ghost, warm] = (await client.getItems({ itemIds: ['hot', 'ghost', 'warm'] })).items;
    expect([hot!.itemId, ghost!.itemId, warm!.itemId]).toEqual(['hot', 'ghost', 'warm']);
    expect(hot).toMatchObject({ exists: true, categories: ['gadgets'], hidden: false, interactions: 6n });
    expect(hot!.popularity).toBeCloseTo(ranked.items[0]!.score, 3);
    expect(ghost).toMatchObject({ exists: false, popularity: 0, interactions: 0n });
  });

  it('when a catalog change is applied, the catalog change token (what the recommender drops cached catalog facts by) moves; an interaction leaves it', async () => {
    const reader = redisProjectionReader(redis, () => projectionKeys(config.redisPrefix), config.projection);
    await catalog({ itemId: 'lamp', categories: ['home'] });
    const before = await reader.catalogChanges();
    await publish(producer, config.eventsTopic, [interaction({ userId: 'shopper', itemId: 'lamp', type: EventType.VIEW })]);
    await eventually(() => client.getItems({ itemIds: ['lamp'] }), { accept: (reply) => reply.items[0]!.interactions === 1n, what: 'lamp viewed' });
    expect(await reader.catalogChanges()).toBe(before);
    await catalog({ itemId: 'lamp', categories: ['home'], hidden: true });
    await eventually(() => client.getItems({ itemIds: ['lamp'] }), { accept: (reply) => reply.items[0]!.hidden, what: 'lamp hidden' });
    expect(await reader.catalogChanges()).not.toBe(before);
  });

  it('when an item is hidden, it leaves trending and later interactions do not bring it back', async () => {
    await catalog({ itemId: 'scandal', categories: ['news'] }, { itemId: 'story', categories: ['news'] });
    await publish(producer, config.eventsTopic, [interaction({ userId: 'reader', itemId: 'scandal', type: EventType.PURCHASE })]);
    await eventually(() => client.getTrending({ category: 'news' }), { accept: (reply) => reply.items.some((item) => item.itemId === 'scandal'), what: 'scandal trending' });

    await catalog({ itemId: 'scandal', categories: ['news'], hidden: true });
    await eventually(() => client.getItems({ itemIds: ['scandal'] }), { accept: (reply) => reply.items[0]!.hidden, what: 'scandal hidden' });
    // Same user, so the same partition: once 'story' ranks, the later 'scandal' purchases were applied too.
    await publish(producer, config.eventsTopic, [
      interaction({ userId: 'reader', itemId: 'scandal', type: EventType.PURCHASE }),
      interaction({ userId: 'reader', itemId: 'scandal', type: EventType.PURCHASE }),
      interaction({ userId: 'reader', itemId: 'story', type: EventType.VIEW }),
    ]);
    const news = await eventually(() => client.getTrending({ category: 'news' }), { accept: (reply) => reply.items.some((item) => item.itemId === 'story'), what: 'story trending' });
    expect(news.items.map((item) => item.itemId)).toEqual(['story']);
    expect((await client.getTrending({ count: 1000 })).items.map((item) => item.itemId)).not.toContain('scandal');
    expect((await client.getItems({ itemIds: ['scandal'] })).items[0]!.interactions).toBe(3n);
  });

  it('when an item is deleted, it leaves trending, co-visits (both directions) and the catalog view, and later interactions do not bring it back', async () => {
    await catalog({ itemId: 'doomed', categories: ['tools'] }, { itemId: 'hammer', categories: ['tools'] }, { itemId: 'nail', categories: ['tools'] });
    const t = Date.now() - 10 * MINUTE;
    await publish(producer, config.eventsTopic, [
      interaction({ userId: 'builder', itemId: 'hammer', occurredMs: t }),
      interaction({ userId: 'builder', itemId: 'doomed', type: EventType.PURCHASE, occurredMs: t + MINUTE }),
      interaction({ userId: 'builder', itemId: 'nail', occurredMs: t + 2 * MINUTE }),
    ]);
    await eventually(() => client.getCoVisited({ itemIds: ['hammer'] }), { accept: (reply) => reply.items.length === 2, what: 'hammer co-visits' });
    expect((await client.getTrending({ category: 'tools' })).items.map((item) => item.itemId)).toContain('doomed');

    await publish(producer, config.eventsTopic, [itemDeleted('doomed')]);
    await eventually(() => client.getItems({ itemIds: ['doomed'] }), { accept: (reply) => !reply.items[0]!.exists, what: 'doomed deleted' });
    expect((await client.getItems({ itemIds: ['doomed'] })).items[0]).toMatchObject({ exists: false, deleted: true, interactions: 0n, uniqueUsers: 0n, popularity: 0 });
    expect((await client.getCoVisited({ itemIds: ['doomed'] })).items).toEqual([]);
    expect((await client.getCoVisited({ itemIds: ['hammer'] })).items.map((item) => item.itemId)).toEqual(['nail']);
    expect((await client.getCoVisited({ itemIds: ['nail'] })).items.map((item) => item.itemId)).toEqual(['hammer']);
    const keys = projectionKeys(config.redisPrefix);
    expect(await redis.zscore(keys.item('hammer').coVisits, 'doomed')).toBeNull();
    expect((await client.getTrending({ category: 'tools' })).items.map((item) => item.itemId)).not.toContain('doomed');

    // The same user's later interactions: with the deleted item (counted for the user only) and one pairing with it from the recent list.
    await publish(producer, config.eventsTopic, [
      interaction({ userId: 'builder', itemId: 'doomed', type: EventType.PURCHASE, occurredMs: t + 3 * MINUTE }),
      interaction({ userId: 'builder', itemId: 'saw', occurredMs: t + 4 * MINUTE }),
    ]);
    await eventually(() => client.getUserContext({ userId: 'builder' }), { accept: (reply) => reply.seenItemIds[0] === 'saw', what: 'builder saw' });
    expect((await client.getUserContext({ userId: 'builder' })).eventCounts).toEqual({ VIEW: 3n, PURCHASE: 2n });
    expect((await client.getItems({ itemIds: ['doomed'] })).items[0]).toMatchObject({ exists: false, interactions: 0n });
    expect((await client.getCoVisited({ itemIds: ['saw'], countPerItem: 10 })).items.map((item) => item.itemId).sort()).toEqual(['hammer', 'nail']);
    expect((await client.getTrending({ count: 1000 })).items.map((item) => item.itemId)).not.toContain('doomed');
  });

  it('when a user is forgotten, no key of theirs remains and query answers as for a stranger', async () => {
    await catalog({ itemId: 'diary', categories: ['private'] });
    await publish(producer, config.eventsTopic, [
      userUpserted('carol', { country: 'NO' }),
      interaction({ userId: 'carol', itemId: 'diary', type: EventType.PURCHASE }),
      interaction({ userId: 'carol', itemId: 'pen' }),
    ]);
    await eventually(() => client.getUserContext({ userId: 'carol' }), { accept: (reply) => reply.recent.length === 2, what: 'carol context' });
    const carolSlot = tagKeyPattern(config.redisPrefix, projectionKeys(config.redisPrefix).user('carol').tag);
    const scanSlot = (): Promise<string[]> => scanKeys(redis, carolSlot);
    expect((await scanSlot()).length).toBeGreaterThan(0);

    await publish(producer, config.eventsTopic, [userForgotten('carol')]);
    await eventually(() => client.getUserContext({ userId: 'carol' }), { accept: (reply) => !reply.known, what: 'carol forgotten' });
    expect(await scanSlot()).toEqual([]);
    expect(await client.getUserContext({ userId: 'carol' })).toMatchObject({ known: false, recent: [], seenItemIds: [], categoryAffinity: {}, eventCounts: {} });

    // The id used again later is a new user.
    await publish(producer, config.eventsTopic, [interaction({ userId: 'carol', itemId: 'novel' })]);
    const again = await eventually(() => client.getUserContext({ userId: 'carol' }), { accept: (reply) => reply.known, what: 'carol again' });
    expect(again.seenItemIds).toEqual(['novel']);
  });

  it('when features are asked for, the user has a last-active time, items their distinct users and tags, and seen checks answer per item', async () => {
    await catalog({ itemId: 'kettle', categories: ['kitchen'], tags: ['steel', 'electric'] });
    const t = Date.now() - 3 * MINUTE;
    await publish(producer, config.eventsTopic, [
      interaction({ userId: 'dora', itemId: 'kettle', occurredMs: t - MINUTE }),
      interaction({ userId: 'dora', itemId: 'kettle', type: EventType.PURCHASE, occurredMs: t }),
      interaction({ userId: 'eve', itemId: 'kettle', occurredMs: t }),
    ]);
    const [kettle] = (await eventually(() => client.getItems({ itemIds: ['kettle'] }), { accept: (reply) => reply.items[0]!.interactions === 3n, what: 'kettle counted' })).items;
    expect(kettle).toMatchObject({ exists: true, deleted: false, uniqueUsers: 2n, tags: ['steel', 'electric'] });
    const dora = await client.getUserContext({ userId: 'dora' });
    expect(dora.lastActive && timestampMs(dora.lastActive)).toBe(t);
    expect((await client.getUserContext({ userId: 'nobody' })).lastActive).toBeUndefined();
    expect((await client.checkSeen({ userId: 'dora', itemIds: ['kettle', 'toaster', 'kettle'] })).seen).toEqual([true, false, true]);
    expect((await client.checkSeen({ userId: 'nobody', itemIds: ['kettle'] })).seen).toEqual([false]);
    await expect(client.checkSeen({ userId: 'dora', itemIds: ['kettle', ''] })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: 'item_ids[1]: must not be empty' });
  });

  it('when a user or item is unknown, the answers are empty, not errors', async () => {
    const nobody = await client.getUserContext({ userId: 'nobody' });
    expect(nobody).toMatchObject({ userId: 'nobody', known: false, recent: [], seenItemIds: [], categoryAffinity: {}, eventCounts: {} });
    expect((await client.getCoVisited({ itemIds: ['nothing'] })).items).toEqual([]);
    expect((await client.getCoVisited({ itemIds: [] })).items).toEqual([]);
    expect((await client.getTrending({ category: 'no-such-category' })).items).toEqual([]);
    expect((await client.getItems({ itemIds: ['ghost'] })).items).toMatchObject([{ itemId: 'ghost', exists: false }]);
  });

  it('when ids or counts are bad, the call fails with INVALID_ARGUMENT naming the field', async () => {
    const cases: [Promise<unknown>, string][] = [
      [client.getUserContext({ userId: '' }), 'user_id: must not be empty'],
      [client.getUserContext({ userId: 'u'.repeat(257) }), 'user_id: must be at most 256 characters'],
      [client.getUserContext({ userId: 'alice', recentLimit: -1 }), 'recent_limit: must be between 0 and 1000'],
      [client.getCoVisited({ itemIds: ['tent', ''] }), 'item_ids[1]: must not be empty'],
      [client.getCoVisited({ itemIds: ['tent'], countPerItem: 1001 }), 'count_per_item: must be between 0 and 1000'],
      [client.getTrending({ count: -5 }), 'count: must be between 0 and 1000'],
      [client.getItems({ itemIds: [''] }), 'item_ids[0]: must not be empty'],
    ];
    for (const [call, details] of cases) {
      await expect(call).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details });
    }
  });
});
