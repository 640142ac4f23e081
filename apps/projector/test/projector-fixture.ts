// Test fixture: projector deployments of their own on the running Kafka and Redis (a fresh topic,
// projector group and Redis prefix each), the producer, admin and Redis client to drive and read
// them, and the projectors started on them; close() stops and removes all of it.
import { Kafka, logLevel, Partitioners, type Admin, type Producer } from 'kafkajs';
import { readConfig, type OrreryConfig } from '@orrery/config';
import { createRedis, type RedisClient } from '@orrery/projections';
import { createLogger, type Logger } from '@orrery/telemetry';
import { createTestTopic, deleteTestTopic, eventually, uniqueName } from '@orrery/testing';
import { groupLag } from '../src/rebuild';
import { startProjector, type RunningProjector } from '../src/service';
import { deleteModel } from './redis-state';

export interface ProjectorFixture {
  readonly logger: Logger;
  readonly producer: Producer;
  readonly admin: Admin;
  readonly redis: RedisClient;
  /**
   * The config of a deployment of its own: a new topic of `partitions` (default 1), a projector group
   * and a Redis prefix named after `name`, tracing off, the version pointer polled every 100 ms, then
   * `config`. close() deletes its keys and topic.
   */
  deployment(name: string, options?: { partitions?: number; config?: Partial<OrreryConfig> }): Promise<OrreryConfig>;
  /** Starts a projector of `config`; close() stops it. */
  startProjector(config: OrreryConfig): Promise<RunningProjector>;
  /** Waits until the projector group of each deployment has committed every message of its topic. */
  caughtUp(...configs: readonly OrreryConfig[]): Promise<void>;
  /** Stops the projectors, disconnects the clients, then deletes the deployments' keys and topics. */
  close(): Promise<void>;
}

/** Connects a producer, an admin and a Redis client named `<name>-test`, logging at `logLevel` (default warn). */
export async function openProjectorFixture(name: string, options: { logLevel?: 'warn' | 'silent' } = {}): Promise<ProjectorFixture> {
  const base = readConfig();
  const clientName = `${name}-test`;
  const logger = createLogger(clientName, options.logLevel ?? 'warn');
  const kafka = new Kafka({ clientId: clientName, brokers: [...base.kafkaBrokers], logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  const admin = kafka.admin();
  await Promise.all([producer.connect(), admin.connect()]);
  const redis = createRedis(base, clientName);
  const deployments: OrreryConfig[] = [];
  const projectors: RunningProjector[] = [];

  return {
    logger,
    producer,
    admin,
    redis,
    async deployment(deploymentName, { partitions = 1, config = {} } = {}) {
      const eventsTopic = await createTestTopic(partitions);
      const deployment: OrreryConfig = {
        ...base,
        eventsTopic,
        eventsTopicPartitions: partitions,
        tracingEnabled: false,
        projectionVersionPollMs: 100,
        projectorGroup: uniqueName(deploymentName),
        redisPrefix: uniqueName(deploymentName),
        ...config,
      };
      deployments.push(deployment);
      return deployment;
    },
    async startProjector(config) {
      const projector = await startProjector(config, logger);
      projectors.push(projector);
      return projector;
    },
    async caughtUp(...configs) {
      const lags = async (): Promise<number[]> => Promise.all(configs.map((config) => groupLag(admin, config.eventsTopic, config.projectorGroup)));
      await eventually(lags, {
        accept: (lag) => lag.every((messages) => messages === 0),
        what: `the projectors of ${configs.map((config) => config.projectorGroup).join(', ')} to catch up`,
        timeoutMs: 60_000,
      });
    },
    async close() {
      await Promise.all(projectors.map((projector) => projector.close()));
      await Promise.all([producer.disconnect(), admin.disconnect()]);
      for (const deployment of deployments) await deleteModel(redis, deployment.redisPrefix);
      await redis.quit();
      await Promise.all(deployments.map((deployment) => deleteTestTopic(deployment.eventsTopic)));
    },
  };
}
