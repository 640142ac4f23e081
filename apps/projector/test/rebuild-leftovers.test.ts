// A rebuild killed after its switch, before it dropped the old version (real Kafka and Redis, the built
// rebuild-main.js: `npm run build` first): the next rebuild drops what it left.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { readConfig, type OrreryConfig } from '@orrery/config';
import { controlKeys, createRedis, scanKeys, versionKeyPattern, type RedisClient } from '@orrery/projections';
import { createLogger } from '@orrery/telemetry';
import { createTestTopic, deleteTestTopic, eventually, uniqueName } from '@orrery/testing';
import { rebuildProjections } from '../src/rebuild';
import { startProjector, type RunningProjector } from '../src/service';
import { interaction, publish } from './domain-events';
import { deleteModel } from './redis-state';

jest.setTimeout(180_000);

const logger = createLogger('rebuild-leftovers-test', 'warn');
let config: OrreryConfig;
let producer: Producer;
let redis: RedisClient;
let projector: RunningProjector;

/** Keys of projection `version` (control keys aside). */
async function keysOf(version: number): Promise<string[]> {
  return (await scanKeys(redis, versionKeyPattern(config.redisPrefix, version))).filter((key) => !key.includes('{control}'));
}

beforeAll(async () => {
  const base = readConfig();
  config = { ...base, eventsTopic: await createTestTopic(1), eventsTopicPartitions: 1, tracingEnabled: false, projectionVersionPollMs: 100, projectorGroup: uniqueName('leftovers'), redisPrefix: uniqueName('rebuild_leftovers') };
  producer = new Kafka({ clientId: 'rebuild-leftovers-test', brokers: [...base.kafkaBrokers], logLevel: logLevel.NOTHING }).producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  redis = createRedis(base, 'rebuild-leftovers-test');
  projector = await startProjector(config, logger);
  await publish(producer, config.eventsTopic, Array.from({ length: 30 }, (_, n) => interaction({ userId: `u${n % 5}`, itemId: `i${n % 7}` })));
  await eventually(async () => (await keysOf(0)).length, { accept: (count) => count > 20, what: 'version 0 projected' });
});

afterAll(async () => {
  await projector.close();
  await producer.disconnect();
  await deleteModel(redis, config.redisPrefix);
  await redis.quit();
  await deleteTestTopic(config.eventsTopic);
});

it('when a rebuild was killed after its switch, the next rebuild drops the version it left behind', async () => {
  const child = spawn(process.execPath, [join(__dirname, '..', 'dist', 'rebuild-main.js'), '--grace-ms', '600000'], {
    env: {
      ...process.env,
      ORRERY_REDIS_PREFIX: config.redisPrefix,
      ORRERY_EVENTS_TOPIC: config.eventsTopic,
      ORRERY_EVENTS_TOPIC_PARTITIONS: '1',
      ORRERY_PROJECTOR_GROUP: config.projectorGroup,
      ORRERY_PROJECTION_VERSION_POLL_MS: '100',
      ORRERY_TRACING: 'false',
      ORRERY_LOG_LEVEL: 'warn',
    },
    stdio: 'ignore',
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    await eventually(() => redis.get(controlKeys(config.redisPrefix).version), { accept: (version) => version === '1', what: 'the rebuild to switch to version 1', timeoutMs: 60_000 });
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
  // Killed in its grace period: version 0 is no longer read, and nothing is left to drop it.
  expect((await keysOf(0)).length).toBeGreaterThan(20);
  await eventually(async () => projector.version(), { accept: (version) => version === 1, what: 'the live projector to follow the switch' });
  // The killed rebuild's lease expires (it is not renewed any more).
  await eventually(() => redis.exists(controlKeys(config.redisPrefix).rebuild), { accept: (found) => found === 0, what: 'the lease to expire', timeoutMs: 45_000, intervalMs: 500 });

  const result = await rebuildProjections(config, logger, { graceMs: 300 });
  expect(result).toMatchObject({ fromVersion: 1, toVersion: 2 });
  expect(await keysOf(1)).toEqual([]);
  // Before, version 0 stayed for good: each rebuild dropped only the version it switched away from.
  expect(await keysOf(0)).toEqual([]);
  expect((await keysOf(2)).length).toBeGreaterThan(20);
});
