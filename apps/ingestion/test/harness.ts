// Test harness: command + ingestion in-process on a fresh database, topic and endpoints.
import { rmSync } from 'node:fs';
import { Client } from 'pg';
import { pino } from 'pino';
import { readConfig, type OrreryConfig } from '@orrery/config';
import { createClient, type Client as GrpcClient } from '@orrery/grpc';
import { CatalogService, IngestService } from '@orrery/proto';
import { createRedis, unlinkKeys, type RedisClient } from '@orrery/projections';
import { createTestDatabase, createTestTopic, deleteTestTopic, dropTestDatabase, uniqueName } from '@orrery/testing';
import { readRelayPosition, readUnpublished } from '@orrery/store';
import { startCommand, type RunningCommand } from '../../command/src/service';
import { collectTopic, type TopicCollector } from '../../command/test/kafka-collector';
import { startProjector } from '../../projector/src/service';
import { startIngestion, type RunningIngestion } from '../src/service';

/** A silent logger for services under test. */
export const silentLogger = pino({ level: 'silent' });

/** A write side (ingestion → command → Postgres → relay → Kafka) of one test file. */
export interface WriteSide {
  readonly config: OrreryConfig;
  readonly ingest: GrpcClient<typeof IngestService>;
  readonly catalog: GrpcClient<typeof CatalogService>;
  readonly db: Client;
  readonly topic: TopicCollector;
  readonly ingestion: RunningIngestion;
  /** The running command service (replaced by restartCommand). */
  command: RunningCommand;
  /** The last commit_sequence value allocated: unchanged means nothing was written (no fact, no outbox row). */
  lastSequence(): Promise<string>;
  /** Count of rows in a table. */
  count(table: 'events' | 'items' | 'users' | 'deleted_items', where?: string, params?: unknown[]): Promise<number>;
  /** Committed facts the relay has not published yet (of one Kafka key, when given). */
  unpublished(key?: string): Promise<number>;
  /** A fresh ipc:// endpoint, removed by stop(). */
  ipc(name: string): string;
  stop(): Promise<void>;
}

/**
 * Starts command and ingestion on a new database and topic; `overrides` adjust the configuration.
 * The topic is created (and collected) on `topicBrokers`, by default the configured brokers — a test
 * may point command elsewhere (an unreachable port) and the topic stays where it can be read.
 */
export async function startWriteSide(overrides: Partial<OrreryConfig> = {}, topicBrokers: readonly string[] = readConfig().kafkaBrokers): Promise<WriteSide> {
  const endpoints: string[] = [];
  const ipc = (name: string): string => {
    const endpoint = `ipc:///tmp/${uniqueName(name)}`;
    endpoints.push(endpoint);
    return endpoint;
  };
  // A given postgresUrl (e.g. a private server) is used as is; otherwise a fresh database of the shared one.
  const ownDatabase = overrides.postgresUrl === undefined;
  const topicConfig = { ...readConfig(), kafkaBrokers: topicBrokers };
  const [postgresUrl, eventsTopic] = await Promise.all([overrides.postgresUrl ?? createTestDatabase(), createTestTopic(2, topicConfig)]);
  const config: OrreryConfig = {
    ...readConfig(),
    postgresUrl,
    eventsTopic,
    eventsTopicPartitions: 2,
    ingestAddress: '127.0.0.1:0',
    ingestZmqEndpoint: ipc('orrery-ingest'),
    commandZmqEndpoint: ipc('orrery-command'),
    outboxPollIntervalMs: 200,
    ...overrides,
  };
  const command = await startCommand(config, silentLogger);
  const ingestion = await startIngestion(config, silentLogger);
  const address = `127.0.0.1:${ingestion.port}`;
  const db = new Client({ connectionString: postgresUrl });
  // A test may crash the server under this connection; without a listener that would crash the run.
  db.on('error', () => undefined);
  await db.connect();
  const topic = await collectTopic(eventsTopic, topicBrokers);
  const side: WriteSide = {
    config,
    ingest: createClient(IngestService, address, { timeoutMs: 20_000 }),
    catalog: createClient(CatalogService, address, { timeoutMs: 20_000 }),
    db,
    topic,
    ingestion,
    command,
    ipc,
    lastSequence: async () => (await db.query<{ last_value: string }>('SELECT last_value FROM commit_sequence')).rows[0]!.last_value,
    count: async (table, where = 'true', params = []) => Number((await db.query<{ count: string }>(`SELECT count(*) FROM ${table} WHERE ${where}`, params)).rows[0]!.count),
    unpublished: async (key) => (await readUnpublished(db, await readRelayPosition(db), 1_000_000)).filter((row) => key === undefined || row.key === key).length,
    stop: async () => {
      side.ingest.close();
      side.catalog.close();
      await topic.stop();
      await db.end();
      await ingestion.close();
      await side.command.close();
      if (ownDatabase) await dropTestDatabase(postgresUrl);
      await deleteTestTopic(eventsTopic, topicConfig);
      for (const endpoint of endpoints) rmSync(endpoint.replace('ipc://', ''), { force: true });
    },
  };
  return side;
}

/** A projector consuming a write side's topic into a Redis prefix of its own. */
export interface SideProjector {
  readonly redisPrefix: string;
  /** A client of the Redis it writes to. */
  readonly redis: RedisClient;
  /** Stops it and deletes what it wrote. */
  stop(): Promise<void>;
}

/** Starts a projector (in process, untraced) on `side`'s topic and brokers, with its own group and prefix. */
export async function startSideProjector(side: WriteSide, name: string): Promise<SideProjector> {
  const redisPrefix = uniqueName(name.replace(/-/g, '_'));
  const projector = await startProjector({ ...side.config, redisPrefix, projectorGroup: uniqueName(name), tracingEnabled: false }, silentLogger);
  const redis = createRedis(side.config, `${name}-test`);
  return {
    redisPrefix,
    redis,
    stop: async () => {
      await projector.close();
      await unlinkKeys(redis, `${redisPrefix}:*`);
      await redis.quit();
    },
  };
}
