// The projector's Redis dies mid-stream (SIGKILL) and comes back from its append-only file: the
// chunks whose apply failed meanwhile are applied by a new consumer from the committed offsets, and the
// projections end equal to a clean pass over the same events on a Redis that never failed.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, Partitioners, type Admin, type Producer } from 'kafkajs';
import { readConfig, type OrreryConfig } from '@orrery/config';
import { projectorConsumerRestarts } from '@orrery/metrics';
import { createRedis, versionPrefix, type RedisClient } from '@orrery/projections';
import { createLogger } from '@orrery/telemetry';
import { createTestTopic, deleteTestTopic, eventually, freePort, uniqueName } from '@orrery/testing';
import { startProjector, type RunningProjector } from '../src/service';
import { browsingStream, publish } from './domain-events';
import { clusterUnavailableReason } from './redis-cluster';
import { canonicalModel, deleteModel } from './redis-state';

jest.setTimeout(120_000);

const unavailable = clusterUnavailableReason();
const logger = createLogger('redis-outage-test', 'error');
let config: OrreryConfig;
let kafka: Kafka;
let producer: Producer;
let admin: Admin;
const projectors: RunningProjector[] = [];
const dir = mkdtempSync(join(tmpdir(), 'orrery-redis-outage-'));
let port: number;
let server: ChildProcess | undefined;

/** A private redis-server that fsyncs every write to its append-only file before answering, so a SIGKILL loses nothing it acknowledged. */
async function startPrivateRedis(): Promise<void> {
  server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'], { stdio: 'ignore' });
  const probe = createRedis({ redisUrl: `redis://127.0.0.1:${port}`, redisCluster: false }, 'outage-probe');
  probe.on('error', () => undefined);
  try {
    await eventually(async () => (await probe.ping().catch(() => '')) === 'PONG', { what: `redis-server on ${port}`, timeoutMs: 10_000 });
  } finally {
    probe.disconnect();
  }
}

async function caughtUp(groupId: string): Promise<void> {
  await eventually(
    async () => {
      const ends = await admin.fetchTopicOffsets(config.eventsTopic);
      const [committed] = await admin.fetchOffsets({ groupId, topics: [config.eventsTopic] });
      return ends.every((end) => committed?.partitions.find((partition) => partition.partition === end.partition)?.offset === end.high);
    },
    { what: `${groupId} to commit the whole topic`, timeoutMs: 60_000 },
  );
}

const restarts = async (): Promise<number> => (await projectorConsumerRestarts.get()).values.reduce((sum, { value }) => sum + value, 0);

(unavailable ? describe.skip : describe)('projector when its Redis dies and comes back', () => {
  beforeAll(async () => {
    config = { ...readConfig(), eventsTopic: await createTestTopic(2), eventsTopicPartitions: 2, tracingEnabled: false };
    kafka = new Kafka({ clientId: 'redis-outage-test', brokers: [...config.kafkaBrokers], logLevel: logLevel.NOTHING });
    producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    admin = kafka.admin();
    await Promise.all([producer.connect(), admin.connect()]);
    port = await freePort();
    await startPrivateRedis();
  });

  afterAll(async () => {
    for (const projector of projectors) await projector.close().catch(() => undefined);
    await Promise.all([producer?.disconnect(), admin?.disconnect()]);
    server?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    if (config) await deleteTestTopic(config.eventsTopic);
  });

  it('the chunks that failed are applied once it is back, and the projections equal a clean pass', async () => {
    const events = browsingStream(400, 30, 25, 11);
    const faulty = { ...config, redisUrl: `redis://127.0.0.1:${port}`, redisPrefix: uniqueName('outage'), projectorGroup: uniqueName('outage') };
    const clean = { ...config, redisPrefix: uniqueName('outage_clean'), projectorGroup: uniqueName('outage_clean') };
    const restartsBefore = await restarts();
    const projector = await startProjector(faulty, logger);
    projectors.push(projector);

    await publish(producer, config.eventsTopic, events.slice(0, 200));
    await caughtUp(faulty.projectorGroup);
    server!.kill('SIGKILL');
    await publish(producer, config.eventsTopic, events.slice(200));
    // Long enough for ioredis to give up on the commands (3 retries) and the consumer to be replaced.
    await eventually(async () => (await restarts()) > restartsBefore, { what: 'a failed apply to replace the consumer', timeoutMs: 30_000 });
    await startPrivateRedis();
    await caughtUp(faulty.projectorGroup);

    const reference = await startProjector(clean, logger);
    projectors.push(reference);
    await caughtUp(clean.projectorGroup);
    const faultyRedis = createRedis(faulty, 'outage-check');
    const sharedRedis: RedisClient = createRedis(clean, 'outage-check');
    try {
      const survived = await canonicalModel(faultyRedis, versionPrefix(faulty.redisPrefix, projector.version()));
      const expected = await canonicalModel(sharedRedis, versionPrefix(clean.redisPrefix, reference.version()));
      expect(Object.keys(expected).length).toBeGreaterThan(100);
      expect(survived).toEqual(expected);
    } finally {
      await deleteModel(sharedRedis, clean.redisPrefix);
      faultyRedis.disconnect();
      await sharedRedis.quit();
    }
  });
});
