// A rebuild when Redis holds no tombstone of a forgotten user yet (real Kafka and Redis): Redis lost its
// data (`orrery up` rebuilds then), or the live projector had not applied the forget when the replay read
// the user. The history the replay holds names the forget: the user's earlier events are not projected.
import { Kafka, logLevel, Partitioners, type Admin, type Producer } from 'kafkajs';
import { readConfig, type OrreryConfig } from '@orrery/config';
import { createRedis, versionPrefix, type RedisClient } from '@orrery/projections';
import { EventType, type DomainEvent } from '@orrery/proto';
import { createLogger } from '@orrery/telemetry';
import { createTestTopic, deleteTestTopic, eventually, uniqueName } from '@orrery/testing';
import { groupLag, rebuildProjections } from '../src/rebuild';
import { startProjector, type RunningProjector } from '../src/service';
import { interaction, itemUpserted, publish, userForgotten } from './domain-events';
import { canonicalModel, deleteModel } from './redis-state';

jest.setTimeout(180_000);

const logger = createLogger('rebuild-forgotten-test', 'warn');
let live: OrreryConfig;
let reference: OrreryConfig;
let producer: Producer;
let admin: Admin;
let redis: RedisClient;
let referenceProjector: RunningProjector;

beforeAll(async () => {
  const base = { ...readConfig(), eventsTopicPartitions: 2, tracingEnabled: false, projectionVersionPollMs: 100 };
  live = { ...base, eventsTopic: await createTestTopic(2), projectorGroup: uniqueName('forgotten'), redisPrefix: uniqueName('rebuild_forgotten') };
  reference = { ...base, eventsTopic: await createTestTopic(2), projectorGroup: uniqueName('reference'), redisPrefix: uniqueName('rebuild_forgotten_ref') };
  const kafka = new Kafka({ clientId: 'rebuild-forgotten-test', brokers: [...base.kafkaBrokers], logLevel: logLevel.NOTHING });
  producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  admin = kafka.admin();
  await Promise.all([producer.connect(), admin.connect()]);
  redis = createRedis(base, 'rebuild-forgotten-test');
  referenceProjector = await startProjector(reference, logger);
});

afterAll(async () => {
  await referenceProjector.close();
  await Promise.all([producer.disconnect(), admin.disconnect()]);
  await deleteModel(redis, live.redisPrefix);
  await deleteModel(redis, reference.redisPrefix);
  await redis.quit();
  await Promise.all([deleteTestTopic(live.eventsTopic), deleteTestTopic(reference.eventsTopic)]);
});

it('when Redis holds no tombstone of a user forgotten in the history, the rebuild still leaves out their events before the forget', async () => {
  const items = Array.from({ length: 6 }, (_, index) => itemUpserted({ itemId: `i${index}`, categories: [`c${index % 2}`] }));
  const types = [EventType.VIEW, EventType.CLICK, EventType.PURCHASE];
  const users = ['u0', 'u1', 'u2', 'ghost'];
  const history = Array.from({ length: 400 }, (_, n) => interaction({ userId: users[n % users.length]!, itemId: `i${(n * 5) % 6}`, type: types[n % 3]!, occurredMs: Date.now() - 3_600_000 + n * 1_000 }));
  const withoutGhost = (events: readonly DomainEvent[]): DomainEvent[] => events.filter((event) => event.payload.case !== 'interaction' || event.payload.value.userId !== 'ghost');
  const forget = userForgotten('ghost');
  // The id used again after the forget (a higher sequence) is a new user: their events are projected.
  const comeback = [interaction({ userId: 'ghost', itemId: 'i1', occurredMs: Date.now() - 60_000 })];
  const referenceCaughtUp = (): Promise<boolean> =>
    eventually(async () => (await groupLag(admin, reference.eventsTopic, reference.projectorGroup)) === 0, { what: 'the reference projector to catch up', timeoutMs: 60_000 });
  // No projector of the live deployment has run: Redis holds neither its projections nor the tombstone.
  // The reference applies the catalog before the interactions (they travel on other partitions), as the replay does.
  await publish(producer, live.eventsTopic, [...items, ...history, forget, ...comeback]);
  await publish(producer, reference.eventsTopic, items);
  await referenceCaughtUp();
  await publish(producer, reference.eventsTopic, [...withoutGhost(history), ...comeback]);
  await referenceCaughtUp();

  const result = await rebuildProjections(live, logger, { graceMs: 300 });

  expect(result).toMatchObject({ fromVersion: 0, toVersion: 1 });
  // Before, only a tombstone already in Redis made the replay skip a user's events: the forget deleted
  // the user's own keys when the replay reached it, but their item counts, popularity, co-visits and
  // trending scores stayed in the rebuilt version.
  expect(await canonicalModel(redis, versionPrefix(live.redisPrefix, 1))).toEqual(await canonicalModel(redis, reference.redisPrefix));
});
