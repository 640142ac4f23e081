// Exactly-once effect under a consumer-group rebalance, against real Kafka and Redis: one group whose
// membership changes mid-stream (a second instance joins, then the first crashes — SIGKILL, so what
// it applied since its last offset commit is redelivered to the second) must end with the same
// projections as a single clean run over the same events. The first instance is the built service
// (apps/projector/dist/main.js: `npm run build` first). It applies smaller chunks than the second and
// every run keeps short recent lists, so in most runs a chunk of the redelivery holds both events the
// first applied — more of a user's than their recent list keeps — and new ones (redelivery.test.ts
// replays that case alone).
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Kafka, logLevel, Partitioners, type Admin, type Producer } from 'kafkajs';
import { readConfig, type OrreryConfig } from '@orrery/config';
import { createRedis, type RedisClient } from '@orrery/projections';
import { createLogger } from '@orrery/telemetry';
import { createTestTopic, deleteTestTopic, eventually, uniqueName } from '@orrery/testing';
import { groupLag } from '../src/rebuild';
import { startProjector, type RunningProjector } from '../src/service';
import { browsingStream, itemUpserted, publish } from './domain-events';
import { canonicalModel, deleteModel } from './redis-state';

jest.setTimeout(180_000);

/** Recent-list length of every run: far fewer than one user's events in a chunk (the default keeps 200). */
const RECENT_LIMIT = 40;
/** Chunk size of the first instance (the second applies the default 2,000). */
const FIRST_CHUNK_SIZE = 700;

const logger = createLogger('rebalance-test', 'warn');
let base: OrreryConfig;
let producer: Producer;
let admin: Admin;
let redis: RedisClient;
const prefixes: string[] = [];
const topics: string[] = [];
const running = new Set<RunningProjector>();

async function start(config: OrreryConfig): Promise<RunningProjector> {
  const projector = await startProjector(config, logger);
  running.add(projector);
  return projector;
}

const children = new Set<ChildProcess>();

/** The built projector as its own process (so it can really crash). */
function spawnProjector(config: OrreryConfig): ChildProcess {
  const child = spawn(process.execPath, [join(__dirname, '..', 'dist', 'main.js')], {
    env: { ...process.env, ORRERY_REDIS_PREFIX: config.redisPrefix, ORRERY_PROJECTOR_GROUP: config.projectorGroup, ORRERY_EVENTS_TOPIC: config.eventsTopic, ORRERY_TRACING: 'false', ORRERY_LOG_LEVEL: 'warn', ORRERY_METRICS_PORT_PROJECTOR: '0', ORRERY_RECENT_LIMIT: String(config.projection.recentLimit), ORRERY_PROJECTOR_CHUNK_SIZE: String(FIRST_CHUNK_SIZE) },
    // Port 0: a projector already running on this machine holds the default metrics port.
    stdio: 'ignore',
  });
  children.add(child);
  return child;
}

async function caughtUp(topic: string, ...groups: string[]): Promise<void> {
  await eventually(async () => (await Promise.all(groups.map((group) => groupLag(admin, topic, group)))).every((lag) => lag === 0), {
    what: `${groups.join(', ')} to commit the whole topic`,
    timeoutMs: 120_000,
  });
}

/** The interactions a canonical model counted: the sum of its items' counts. */
function interactionsCounted(model: Record<string, unknown>): number {
  return Object.entries(model).reduce((sum, [key, value]) => sum + (/^:\{i:[^}]+\}:stats$/.test(key) ? Number((value as Record<string, string>)['n']) : 0), 0);
}

beforeAll(async () => {
  const config = readConfig();
  base = { ...config, eventsTopic: await createTestTopic(4), eventsTopicPartitions: 4, tracingEnabled: false, projectionVersionPollMs: 60_000, projection: { ...config.projection, recentLimit: RECENT_LIMIT } };
  const kafka = new Kafka({ clientId: 'rebalance-test', brokers: [...base.kafkaBrokers], logLevel: logLevel.NOTHING });
  producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  admin = kafka.admin();
  await Promise.all([producer.connect(), admin.connect()]);
  redis = createRedis(base, 'rebalance-test');
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  for (const projector of running) await projector.close();
  await Promise.all([producer.disconnect(), admin.disconnect()]);
  for (const prefix of prefixes) await deleteModel(redis, prefix);
  await redis.quit();
  for (const topic of [base.eventsTopic, ...topics]) await deleteTestTopic(topic);
});

describe('projector consumer group', () => {
  it('when a second instance joins mid-stream and the first crashes mid-stream, the projections equal those of a single clean run', async () => {
    const clean = { ...base, projectorGroup: uniqueName('clean'), redisPrefix: uniqueName('clean') };
    const shared = { ...base, projectorGroup: uniqueName('shared'), redisPrefix: uniqueName('shared') };
    prefixes.push(clean.redisPrefix, shared.redisPrefix);

    // The catalog first, applied by both before any interaction, so category lookups cannot race
    // across partitions (that order is not defined in any run).
    const categories = ['books', 'music', 'garden'];
    await publish(producer, base.eventsTopic, Array.from({ length: 30 }, (_, index) => itemUpserted({ itemId: `i${index}`, categories: [categories[index % 3]!, ...(index % 5 === 0 ? ['sale'] : [])] })));
    await start(clean);
    const first = spawnProjector(shared);
    await caughtUp(base.eventsTopic, clean.projectorGroup, shared.projectorGroup);

    const stream = browsingStream(40_000, 40, 30, 7);
    // Slice 5 is long, so the first instance is busy applying it when it is killed.
    const bounds = [0, 1_000, 2_000, 3_000, 4_000, 5_000, 37_000, 38_500, 40_000];
    let second: RunningProjector | undefined;
    for (let slice = 0; slice + 1 < bounds.length; slice += 1) {
      await publish(producer, base.eventsTopic, stream.slice(bounds[slice], bounds[slice + 1]));
      if (slice === 2) second = await start(shared); // joins while the first is mid-stream
      if (slice === 5) {
        // Crashes while applying: wait until it has applied part of this slice, then kill it.
        const progress = async (): Promise<number> => (await Promise.all(['i0', 'i1', 'i2'].map((item) => redis.hget(`${shared.redisPrefix}:{i:${item}}:stats`, 'n')))).reduce((sum, n) => sum + Number(n ?? 0), 0);
        const before = await progress();
        await eventually(progress, { accept: (now) => now > before + 30, intervalMs: 5, what: 'the first instance to apply more' });
        first.kill('SIGKILL');
      }
    }
    await caughtUp(base.eventsTopic, clean.projectorGroup, shared.projectorGroup);
    expect(second).toBeDefined();

    const [cleanModel, sharedModel] = await Promise.all([canonicalModel(redis, clean.redisPrefix), canonicalModel(redis, shared.redisPrefix)]);
    // The clean run counted every interaction once; the shared run ended with the same projections.
    expect(interactionsCounted(cleanModel)).toBe(40_000);
    expect(Object.keys(cleanModel).length).toBeGreaterThan(40 * 4 + 30 * 3);
    expect(sharedModel).toEqual(cleanModel);
  });

  it('when partitions move to another instance and come back, the first plans them from what the other applied (not from the recent lists it remembers)', async () => {
    // A topic of its own: the events of the test above are not part of this stream.
    const topic = await createTestTopic(4);
    topics.push(topic);
    const clean = { ...base, eventsTopic: topic, projectorGroup: uniqueName('clean'), redisPrefix: uniqueName('clean') };
    const shared = { ...base, eventsTopic: topic, projectorGroup: uniqueName('shared'), redisPrefix: uniqueName('shared') };
    prefixes.push(clean.redisPrefix, shared.redisPrefix);
    const members = async (): Promise<number> => (await admin.describeGroups([shared.projectorGroup])).groups[0]?.members.length ?? 0;
    const stream = browsingStream(12_000, 40, 30, 11);

    await start(clean);
    await start(shared);
    await publish(producer, topic, stream.slice(0, 4_000));
    await caughtUp(topic, clean.projectorGroup, shared.projectorGroup);
    // The second instance takes half the partitions, applies the next events of their users, and leaves.
    const second = await start(shared);
    await eventually(members, { accept: (count) => count === 2, what: 'the second instance to join the group' });
    await publish(producer, topic, stream.slice(4_000, 8_000));
    await caughtUp(topic, clean.projectorGroup, shared.projectorGroup);
    await second.close();
    running.delete(second);
    await eventually(members, { accept: (count) => count === 1, what: 'the second instance to leave the group' });
    // The first has all the partitions again; its users' recent lists moved on while it did not own them.
    await publish(producer, topic, stream.slice(8_000));
    await caughtUp(topic, clean.projectorGroup, shared.projectorGroup);

    const [cleanModel, sharedModel] = await Promise.all([canonicalModel(redis, clean.redisPrefix), canonicalModel(redis, shared.redisPrefix)]);
    expect(interactionsCounted(cleanModel)).toBe(12_000);
    expect(sharedModel).toEqual(cleanModel);
  });
});
