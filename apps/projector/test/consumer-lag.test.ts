// The projector's consumer lag gauge (real Kafka and Redis): it follows the group of the projection
// version written, which a rebuild changes (and whose old group it deletes).
import { Kafka, logLevel, Partitioners, type Admin, type Producer } from 'kafkajs';
import { readConfig, type OrreryConfig } from '@orrery/config';
import { kafkaConsumerLag } from '@orrery/metrics';
import { controlKeys, createRedis, projectorGroupOf, type RedisClient } from '@orrery/projections';
import { createLogger } from '@orrery/telemetry';
import { createTestTopic, deleteTestTopic, eventually, uniqueName } from '@orrery/testing';
import { sampleConsumerLag } from '../src/consumer-lag';
import { groupLag } from '../src/rebuild';
import { startProjector, type RunningProjector } from '../src/service';
import { interaction, publish } from './domain-events';
import { deleteModel } from './redis-state';

jest.setTimeout(120_000);

const logger = createLogger('consumer-lag-test', 'silent');
let config: OrreryConfig;
let producer: Producer;
let admin: Admin;
let redis: RedisClient;
let projector: RunningProjector;

beforeAll(async () => {
  const base = readConfig();
  config = { ...base, eventsTopic: await createTestTopic(1), eventsTopicPartitions: 1, tracingEnabled: false, projectionVersionPollMs: 100, healthCheckIntervalMs: 100, projectorGroup: uniqueName('lag'), redisPrefix: uniqueName('consumer_lag') };
  const kafka = new Kafka({ clientId: 'consumer-lag-test', brokers: [...base.kafkaBrokers], logLevel: logLevel.NOTHING });
  producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  admin = kafka.admin();
  await Promise.all([producer.connect(), admin.connect()]);
  redis = createRedis(base, 'consumer-lag-test');
  projector = await startProjector(config, logger);
});

afterAll(async () => {
  await projector.close();
  await Promise.all([producer.disconnect(), admin.disconnect()]);
  await deleteModel(redis, config.redisPrefix);
  await redis.quit();
  await deleteTestTopic(config.eventsTopic);
});

it('when the projection version switched and the old group was deleted, the gauge shows the lag of the new version group', async () => {
  await publish(producer, config.eventsTopic, Array.from({ length: 5 }, (_, n) => interaction({ userId: `u${n}`, itemId: 'i1' })));
  await eventually(async () => groupLag(admin, config.eventsTopic, config.projectorGroup), { accept: (lag) => lag === 0, what: 'version 0 applied' });
  // What a rebuild does: the pointer moves, the projector joins version 1's group, version 0's group is deleted.
  await redis.set(controlKeys(config.redisPrefix).version, '1');
  const group = projectorGroupOf(config.projectorGroup, 1);
  await eventually(async () => (projector.version() === 1 ? groupLag(admin, config.eventsTopic, group) : -1), { accept: (lag) => lag === 0, what: "version 1's group to catch up" });
  await admin.deleteGroups([config.projectorGroup]);

  const sampler = sampleConsumerLag(config, logger, () => projectorGroupOf(config.projectorGroup, projector.version()));
  try {
    const lagOfTopic = async (): Promise<number | undefined> => (await kafkaConsumerLag.get()).values.find(({ labels }) => labels.topic === config.eventsTopic)?.value;
    // Before, the gauge read version 0's group, deleted: the whole topic, for good.
    await eventually(lagOfTopic, { accept: (lag) => lag === 0, what: 'the gauge to show no lag', timeoutMs: 10_000 });
  } finally {
    await sampler.stop();
  }
});
