// The live projector following the version pointer (real Kafka and Redis): a switch whose new consumer
// fails to start (a broker hiccup at that moment) must not leave the projector applying nothing.
import { Kafka, logLevel, Partitioners, type Consumer, type ConsumerConfig, type Producer } from 'kafkajs';
import { readConfig, type OrreryConfig } from '@orrery/config';
import { controlKeys, createRedis, projectionKeys, projectorGroupOf, versionPrefix, type RedisClient } from '@orrery/projections';
import { createLogger } from '@orrery/telemetry';
import { createTestTopic, deleteTestTopic, eventually, uniqueName } from '@orrery/testing';
import { startProjector, type RunningProjector } from '../src/service';
import { interaction, publish } from './domain-events';
import { deleteModel } from './redis-state';

jest.setTimeout(120_000);

const logger = createLogger('version-switch-test', 'silent');
let config: OrreryConfig;
let producer: Producer;
let redis: RedisClient;
let projector: RunningProjector | undefined;

beforeAll(async () => {
  const base = readConfig();
  config = { ...base, eventsTopic: await createTestTopic(1), eventsTopicPartitions: 1, tracingEnabled: false, projectionVersionPollMs: 100, projectorGroup: uniqueName('switch'), redisPrefix: uniqueName('version_switch') };
  producer = new Kafka({ clientId: 'version-switch-test', brokers: [...base.kafkaBrokers], logLevel: logLevel.NOTHING }).producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  redis = createRedis(base, 'version-switch-test');
});

afterAll(async () => {
  jest.restoreAllMocks();
  await projector?.close();
  await producer.disconnect();
  await deleteModel(redis, config.redisPrefix);
  await redis.quit();
  await deleteTestTopic(config.eventsTopic);
});

it('when the consumer of the version switched to fails to start, the projector starts it again and projects that version', async () => {
  projector = await startProjector(config, logger);
  await publish(producer, config.eventsTopic, [interaction({ userId: 'before', itemId: 'i1' })]);
  await eventually(() => redis.exists(projectionKeys(versionPrefix(config.redisPrefix, 0)).user('before').recent), { accept: (found) => found === 1, what: 'version 0 projected' });

  // The first consumer of version 1's group cannot connect (the broker unreachable for a moment).
  const consumerOf = Kafka.prototype.consumer;
  let refused = 0;
  jest.spyOn(Kafka.prototype, 'consumer').mockImplementation(function (this: Kafka, options: ConsumerConfig): Consumer {
    const consumer = consumerOf.call(this, options);
    if (options.groupId === projectorGroupOf(config.projectorGroup, 1) && refused === 0) {
      refused += 1;
      consumer.connect = () => Promise.reject(new Error('broker unreachable (test)'));
    }
    return consumer;
  });
  await redis.set(controlKeys(config.redisPrefix).version, '1');
  await eventually(async () => refused, { accept: (count) => count === 1, what: "version 1's consumer to be refused once" });

  await publish(producer, config.eventsTopic, [interaction({ userId: 'after', itemId: 'i1' })]);
  // Before, the switch was not tried again: the old consumer closed, no new one, nothing applied for good.
  await eventually(() => redis.exists(projectionKeys(versionPrefix(config.redisPrefix, 1)).user('after').recent), { accept: (found) => found === 1, what: 'version 1 projected', timeoutMs: 30_000 });
  expect(projector.version()).toBe(1);
});
