// Two rebuilds of one deployment at once (real Kafka and Redis): one runs, the other is refused before
// it changes anything, and the version made live is complete.
import { Kafka, logLevel, Partitioners, type Admin, type Producer } from 'kafkajs';
import { readConfig, type OrreryConfig } from '@orrery/config';
import { controlKeys, createRedis, scanKeys, versionKeyPattern, versionPrefix, type RedisClient } from '@orrery/projections';
import { EventType, type DomainEvent } from '@orrery/proto';
import { createLogger } from '@orrery/telemetry';
import { createTestTopic, deleteTestTopic, eventually, uniqueName } from '@orrery/testing';
import { groupLag, rebuildProjections } from '../src/rebuild';
import { startProjector, type RunningProjector } from '../src/service';
import { interaction, itemUpserted, publish } from './domain-events';
import { canonicalModel, deleteModel } from './redis-state';

jest.setTimeout(180_000);

const logger = createLogger('rebuild-concurrent-test', 'warn');
let live: OrreryConfig;
let reference: OrreryConfig;
let producer: Producer;
let admin: Admin;
let redis: RedisClient;
let projector: RunningProjector;
let referenceProjector: RunningProjector;

async function phase(events: readonly DomainEvent[]): Promise<void> {
  await publish(producer, live.eventsTopic, events);
  await publish(producer, reference.eventsTopic, events);
  await eventually(async () => (await groupLag(admin, live.eventsTopic, live.projectorGroup)) === 0 && (await groupLag(admin, reference.eventsTopic, reference.projectorGroup)) === 0, {
    what: 'live and reference projectors to catch up',
    timeoutMs: 60_000,
  });
}

beforeAll(async () => {
  const base = { ...readConfig(), eventsTopicPartitions: 2, tracingEnabled: false, projectionVersionPollMs: 100 };
  live = { ...base, eventsTopic: await createTestTopic(2), projectorGroup: uniqueName('live'), redisPrefix: uniqueName('rebuild2_live') };
  reference = { ...base, eventsTopic: await createTestTopic(2), projectorGroup: uniqueName('reference'), redisPrefix: uniqueName('rebuild2_ref') };
  const kafka = new Kafka({ clientId: 'rebuild-concurrent-test', brokers: [...base.kafkaBrokers], logLevel: logLevel.NOTHING });
  producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  admin = kafka.admin();
  await Promise.all([producer.connect(), admin.connect()]);
  redis = createRedis(base, 'rebuild-concurrent-test');
  [projector, referenceProjector] = await Promise.all([startProjector(live, logger), startProjector(reference, logger)]);
  await phase(Array.from({ length: 10 }, (_, index) => itemUpserted({ itemId: `i${index}`, categories: [`c${index % 3}`] })));
  const types = [EventType.VIEW, EventType.CLICK, EventType.PURCHASE];
  await phase(Array.from({ length: 3_000 }, (_, n) => interaction({ userId: `u${(n * 7) % 40}`, itemId: `i${(n * 13) % 10}`, type: types[n % 3]!, occurredMs: Date.now() - 3_600_000 + n * 1_000 })));
});

afterAll(async () => {
  await Promise.all([projector.close(), referenceProjector.close()]);
  await Promise.all([producer.disconnect(), admin.disconnect()]);
  await deleteModel(redis, live.redisPrefix);
  await deleteModel(redis, reference.redisPrefix);
  await redis.quit();
  await Promise.all([deleteTestTopic(live.eventsTopic), deleteTestTopic(reference.eventsTopic)]);
});

it('when two rebuilds start at once, one is refused before it changes anything, and the version readers are switched to is complete', async () => {
  const referenceModel = await canonicalModel(redis, reference.redisPrefix);
  const results = await Promise.allSettled([rebuildProjections(live, logger, { graceMs: 500 }), rebuildProjections(live, logger, { graceMs: 500 })]);

  // Before the lease, both targeted version 1; the one whose switch was refused dropped it after the
  // other had made it live: the pointer named a version without a key.
  expect(await redis.get(controlKeys(live.redisPrefix).version)).toBe('1');
  expect(await canonicalModel(redis, versionPrefix(live.redisPrefix, 1))).toEqual(referenceModel);
  expect((await scanKeys(redis, versionKeyPattern(live.redisPrefix, 0))).filter((key) => !key.includes('{control}'))).toEqual([]);
  expect(await redis.exists(controlKeys(live.redisPrefix).rebuild)).toBe(0);
  const refused = results.flatMap((result) => (result.status === 'rejected' ? [String(result.reason)] : []));
  const done = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  expect(done).toEqual([expect.objectContaining({ fromVersion: 0, toVersion: 1 })]);
  // Without the lease the other failed later, in any of several ways (its offsets refused by the group
  // the first one's projector had joined, or its switch refused after it had cleared the first one's keys).
  expect(refused).toEqual([expect.stringMatching(/another rebuild is running.*version 0 stays live/)]);
});
