// Rebuild against a topic that lost its first messages (real Kafka and Redis): refused by default,
// naming the partition and how many messages are gone, the live version untouched; rebuilt from what
// is left only when the operator allows a partial history.
import { Kafka, logLevel, Partitioners, type Admin, type Producer } from 'kafkajs';
import { readConfig, type OrreryConfig } from '@orrery/config';
import { controlKeys, createRedis, readProjectionVersion, scanKeys, versionKeyPattern, type RedisClient } from '@orrery/projections';
import { createLogger } from '@orrery/telemetry';
import { createTestTopic, deleteTestTopic, uniqueName } from '@orrery/testing';
import { rebuildProjections } from '../src/rebuild';
import { interaction, publish } from './domain-events';
import { deleteModel } from './redis-state';

jest.setTimeout(120_000);

const logger = createLogger('rebuild-history-test', 'silent');
let config: OrreryConfig;
let producer: Producer;
let admin: Admin;
let redis: RedisClient;

beforeAll(async () => {
  const base = readConfig();
  config = { ...base, eventsTopic: await createTestTopic(1), eventsTopicPartitions: 1, tracingEnabled: false, projectionVersionPollMs: 100, projectorGroup: uniqueName('history'), redisPrefix: uniqueName('rebuild_history') };
  const kafka = new Kafka({ clientId: 'rebuild-history-test', brokers: [...base.kafkaBrokers], logLevel: logLevel.NOTHING });
  producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  admin = kafka.admin();
  await Promise.all([producer.connect(), admin.connect()]);
  redis = createRedis(base, 'rebuild-history-test');
  await publish(producer, config.eventsTopic, ['u1', 'u2', 'u3', 'u4', 'u5'].map((userId) => interaction({ userId, itemId: 'i1' })));
  // What a retention of a day does to a topic older than that: the first messages are gone.
  await admin.fetchTopicMetadata({ topics: [config.eventsTopic] }); // deleteTopicRecords needs the partition leaders known
  await admin.deleteTopicRecords({ topic: config.eventsTopic, partitions: [{ partition: 0, offset: '2' }] });
});

afterAll(async () => {
  await Promise.all([producer.disconnect(), admin.disconnect()]);
  await deleteModel(redis, config.redisPrefix);
  await redis.quit();
  await deleteTestTopic(config.eventsTopic);
});

it('when a partition no longer starts at offset 0, the rebuild is refused, naming the partition and the messages gone, and the live version stays', async () => {
  await expect(rebuildProjections(config, logger, { graceMs: 300 })).rejects.toThrow(/partition 0 starts at offset 2 \(2 messages deleted\).*version 0 stays live.*retention\.ms=-1/);
  expect(await readProjectionVersion(redis, controlKeys(config.redisPrefix))).toBe(0);
  expect(await scanKeys(redis, versionKeyPattern(config.redisPrefix, 1))).toEqual([]);
});

it('when the operator allows a partial history, the rebuild replays what is left and switches', async () => {
  const result = await rebuildProjections(config, logger, { graceMs: 300, allowPartialHistory: true });
  expect(result).toMatchObject({ fromVersion: 0, toVersion: 1, replayedEvents: 3 });
  expect(await readProjectionVersion(redis, controlKeys(config.redisPrefix))).toBe(1);
});
