// Rebuild against real Kafka and Redis: the replay into a new version equals a clean projection of
// the same history (minus a forgotten user, whose aggregate traces the rebuild removes), readers
// switch without a failed or empty answer, the old version is dropped and the live projector carries on.
import { Kafka, logLevel, Partitioners, type Admin, type Producer } from 'kafkajs';
import { readConfig, type OrreryConfig } from '@orrery/config';
import { createClient, type Client } from '@orrery/grpc';
import { controlKeys, createRedis, scanKeys, versionKeyPattern, versionPrefix, type RedisClient } from '@orrery/projections';
import { EventType, QueryService, type DomainEvent } from '@orrery/proto';
import { createLogger } from '@orrery/telemetry';
import { createTestTopic, deleteTestTopic, eventually, uniqueName } from '@orrery/testing';
import { startQuery, type RunningQuery } from '../../query/src/service';
import { groupLag, rebuildProjections } from '../src/rebuild';
import { startProjector, type RunningProjector } from '../src/service';
import { interaction, itemDeleted, itemUpserted, publish, userForgotten } from './domain-events';
import { canonicalModel, deleteModel } from './redis-state';

jest.setTimeout(180_000);

const logger = createLogger('rebuild-test', 'warn');
const MINUTE = 60_000;
let live: OrreryConfig;
let reference: OrreryConfig;
let producer: Producer;
let admin: Admin;
let redis: RedisClient;
let projector: RunningProjector;
let referenceProjector: RunningProjector;
let query: RunningQuery;
let client: Client<typeof QueryService>;

/** Publishes to the live topic, and (without the forgotten user's events) to the reference topic, then waits for both to be applied. */
async function phase(events: readonly DomainEvent[], referenceEvents: readonly DomainEvent[] = events): Promise<void> {
  await publish(producer, live.eventsTopic, events);
  if (referenceEvents.length > 0) await publish(producer, reference.eventsTopic, referenceEvents);
  await eventually(async () => (await groupLag(admin, live.eventsTopic, live.projectorGroup)) === 0 && (await groupLag(admin, reference.eventsTopic, reference.projectorGroup)) === 0, {
    what: 'live and reference projectors to catch up',
    timeoutMs: 60_000,
  });
}

function sessions(users: readonly string[], count: number, seed: number, items: number): DomainEvent[] {
  let state = seed;
  const next = (): number => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
  const types = [EventType.VIEW, EventType.VIEW, EventType.CLICK, EventType.PURCHASE, EventType.LIKE];
  const clock = new Map<string, number>();
  return Array.from({ length: count }, () => {
    const userId = users[Math.floor(next() * users.length)]!;
    const at = (clock.get(userId) ?? Date.now() - 2 * 24 * 60 * MINUTE) + Math.floor(next() * 20 * MINUTE);
    clock.set(userId, at);
    return interaction({ userId, itemId: `i${Math.floor(next() * items)}`, type: types[Math.floor(next() * types.length)]!, occurredMs: at });
  });
}

beforeAll(async () => {
  const base = { ...readConfig(), eventsTopicPartitions: 2, tracingEnabled: false, projectionVersionPollMs: 100, queryAddress: '127.0.0.1:0' };
  live = { ...base, eventsTopic: await createTestTopic(2), projectorGroup: uniqueName('live'), redisPrefix: uniqueName('rebuild_live') };
  reference = { ...base, eventsTopic: await createTestTopic(2), projectorGroup: uniqueName('reference'), redisPrefix: uniqueName('rebuild_ref') };
  const kafka = new Kafka({ clientId: 'rebuild-test', brokers: [...base.kafkaBrokers], logLevel: logLevel.NOTHING });
  producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  admin = kafka.admin();
  await Promise.all([producer.connect(), admin.connect()]);
  redis = createRedis(base, 'rebuild-test');
  [projector, referenceProjector, query] = await Promise.all([startProjector(live, logger), startProjector(reference, logger), startQuery(live, logger)]);
  client = createClient(QueryService, `127.0.0.1:${query.port}`);
});

afterAll(async () => {
  client.close();
  await query.close();
  await Promise.all([projector.close(), referenceProjector.close()]);
  await Promise.all([producer.disconnect(), admin.disconnect()]);
  await deleteModel(redis, live.redisPrefix);
  await deleteModel(redis, reference.redisPrefix);
  await redis.quit();
  await Promise.all([deleteTestTopic(live.eventsTopic), deleteTestTopic(reference.eventsTopic)]);
});

describe('rebuild', () => {
  it('when the projections are rebuilt, the new version equals a clean run without the forgotten user, queries answer throughout, and the old version is gone', async () => {
    const categories = ['books', 'music', 'garden'];
    await phase(Array.from({ length: 20 }, (_, index) => itemUpserted({ itemId: `i${index}`, categories: [categories[index % 3]!] })));
    const users = Array.from({ length: 12 }, (_, index) => `u${index}`);
    const history = sessions([...users, 'ghost', 'ghost'], 3_000, 11, 20);
    await phase(history, history.filter((event) => event.payload.case !== 'interaction' || event.payload.value.userId !== 'ghost'));
    const deletion = itemDeleted('i3');
    await phase([deletion]);
    const later = sessions(users, 600, 12, 20);
    await phase(later);
    await phase([userForgotten('ghost')], []);

    const referenceModel = await canonicalModel(redis, reference.redisPrefix);
    // Live still holds what the forgotten user added to item counts, popularity, co-visits and trending.
    expect(await canonicalModel(redis, live.redisPrefix)).not.toEqual(referenceModel);

    let answering = true;
    const problems: string[] = [];
    let answers = 0;
    const reads = (async () => {
      while (answering) {
        try {
          const [trending, context] = await Promise.all([client.getTrending({ count: 5 }), client.getUserContext({ userId: 'u1' })]);
          if (trending.items.length !== 5) problems.push(`trending had ${trending.items.length} items`);
          if (!context.known) problems.push('u1 unknown');
          answers += 1;
        } catch (error) {
          problems.push(String(error));
        }
      }
    })();
    const result = await rebuildProjections(live, logger);
    answering = false;
    await reads;

    expect(result).toMatchObject({ fromVersion: 0, toVersion: 1 });
    expect(result.droppedKeys).toBeGreaterThan(100); // 12 users and 20 items, 4 keys each, and the rankings
    expect(problems).toEqual([]);
    expect(answers).toBeGreaterThan(10);
    expect(await redis.get(controlKeys(live.redisPrefix).version)).toBe('1');
    expect(await canonicalModel(redis, versionPrefix(live.redisPrefix, 1))).toEqual(referenceModel);
    const leftovers = (await scanKeys(redis, versionKeyPattern(live.redisPrefix, 0))).filter((key) => !key.includes('{control}'));
    expect(leftovers).toEqual([]);

    // The live projector writes the new version from where the rebuild got to.
    await eventually(async () => projector.version(), { accept: (version) => version === 1, what: 'the live projector to switch' });
    await publish(producer, live.eventsTopic, [interaction({ userId: 'newcomer', itemId: 'i1' })]);
    const newcomer = await eventually(() => client.getUserContext({ userId: 'newcomer' }), { accept: (reply) => reply.known, what: 'newcomer in the new version' });
    expect(newcomer.seenItemIds).toEqual(['i1']);
    expect((await client.getUserContext({ userId: 'ghost' })).known).toBe(false);
  });
});
