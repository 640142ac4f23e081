import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { readConfig, type OrreryConfig } from '@orrery/config';
import { createClient, ServiceError } from '@orrery/grpc';
import { createRedis, projectionKeys, unlinkKeys, type RedisClient } from '@orrery/projections';
import { health } from '@orrery/proto';

/** A name unique to this test run, safe for databases, topics and key prefixes: `prefix_ab12cd34`. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

/** Creates an empty Postgres database on the configured server and returns its URL. */
export async function createTestDatabase(config: OrreryConfig = readConfig()): Promise<string> {
  const name = uniqueName('orrery_test');
  const admin = new Client({ connectionString: config.postgresUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(config.postgresUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * Drops a database made by createTestDatabase. Sessions still closing get up to `graceMs` to leave
 * first: pg's `pool.end()` resolves before its connections are gone, and a forced drop would
 * send them "terminating connection due to administrator command" (57P01), an unhandled error in
 * a pool without an error listener. Sessions still there after the grace are terminated.
 */
export async function dropTestDatabase(databaseUrl: string, config: OrreryConfig = readConfig(), graceMs = 5_000): Promise<void> {
  const name = new URL(databaseUrl).pathname.slice(1);
  const admin = new Client({ connectionString: config.postgresUrl });
  await admin.connect();
  try {
    const deadline = Date.now() + graceMs;
    const sessions = async (): Promise<number> => Number((await admin.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [name])).rows[0].n);
    while ((await sessions()) > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/** Creates a Kafka topic with a unique name and returns it. */
export async function createTestTopic(partitions = 4, config: OrreryConfig = readConfig()): Promise<string> {
  const topic = uniqueName('orrery-test').replace('_', '-');
  const admin = new Kafka({ clientId: 'orrery-test', brokers: [...config.kafkaBrokers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
  return topic;
}

/**
 * Deletes a topic made by createTestTopic, on the brokers it was made on (`config.kafkaBrokers`), so
 * test runs leave no partitions behind for the broker to load at its next start. A topic that is
 * already gone is fine.
 */
export async function deleteTestTopic(topic: string, config: OrreryConfig = readConfig()): Promise<void> {
  const admin = new Kafka({ clientId: 'orrery-test', brokers: [...config.kafkaBrokers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    // kafkajs retries an unknown topic for seconds before it gives up: ask first.
    if (!(await admin.listTopics()).includes(topic)) return;
    await admin.deleteTopics({ topics: [topic] });
  } catch (error) {
    if (!isUnknownTopic(error)) throw error;
  } finally {
    await admin.disconnect();
  }
}

/** Whether kafkajs failed because the topic does not exist (a retrying call wraps the broker's error in `cause`). */
function isUnknownTopic(error: unknown): boolean {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    if ('type' in cause && cause.type === 'UNKNOWN_TOPIC_OR_PARTITION') return true;
  }
  return false;
}

/** Unlinks every Redis key under `prefix` (a test's or isolated platform's ORRERY_REDIS_PREFIX); returns how many. */
export async function deleteTestKeys(prefix: string, config: OrreryConfig = readConfig()): Promise<number> {
  const redis = createRedis(config, 'orrery-test-cleanup');
  try {
    return await unlinkKeys(redis, `${prefix}:*`);
  } finally {
    redis.disconnect();
  }
}

interface EventuallyOptions {
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
  readonly what?: string;
}

/**
 * Polls `probe` until it returns a value that `accept` takes (default: any non-null, non-false
 * value, which the result type then excludes), or fails with the last value seen after timeoutMs.
 * For asynchronous effects: poll, never sleep.
 */
export async function eventually<T>(probe: () => Promise<T>, options: EventuallyOptions & { accept: (value: T) => boolean }): Promise<T>;
export async function eventually<T>(probe: () => Promise<T>, options?: EventuallyOptions): Promise<NonNullable<T>>;
export async function eventually<T>(probe: () => Promise<T>, options: EventuallyOptions & { accept?: (value: T) => boolean } = {}): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  const accept = options.accept ?? ((value: T) => Boolean(value));
  let last: T | undefined;
  let lastError: unknown;
  for (;;) {
    try {
      last = await probe();
      if (accept(last)) return last;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const detail = lastError instanceof Error ? lastError.message : JSON.stringify(last)?.slice(0, 500);
      throw new Error(`timed out waiting for ${options.what ?? 'condition'}; last: ${detail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
}

/**
 * The ServiceError `run` throws (a validator refusing a request), for asserting its code and message.
 * Fails when `run` returns instead, and passes on anything else it throws.
 */
export function refusal(run: () => unknown): ServiceError {
  try {
    run();
  } catch (error) {
    if (error instanceof ServiceError) return error;
    throw error;
  }
  throw new Error('expected the request to be refused');
}

/** The grpc.health.v1 status of the whole server at `address` ('SERVING', 'NOT_SERVING'…), or 'UNREACHABLE'. */
export async function healthStatus(address: string): Promise<string> {
  const client = createClient(health.Health, address, { timeoutMs: 1_000 });
  try {
    const reply = await client.check({ service: '' });
    return health.HealthCheckResponse_ServingStatus[reply.status];
  } catch {
    return 'UNREACHABLE';
  } finally {
    client.close();
  }
}

/**
 * A TCP port on 127.0.0.1 that was free a moment ago (for a process that must be told its port).
 * Drawn below the kernel's ephemeral range: a port the kernel hands out (listen(0)) can be given, in
 * the moment before the service binds it, to any outgoing connection on the machine (a Kafka or Redis
 * client of a test running beside), which failed a CI run with EADDRINUSE. Below that range only
 * another listener can take it.
 */
export async function freePort(): Promise<number> {
  const [low, high] = listenablePortRange();
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port found in ${low}-${high} after 50 tries`);
}

/** Ports to draw from: 10000 up to just below the ephemeral range, or above it when it starts lower (Linux's default range without /proc). */
function listenablePortRange(): [number, number] {
  let [ephemeralLow, ephemeralHigh] = [32_768, 60_999];
  try {
    [ephemeralLow, ephemeralHigh] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number) as [number, number];
  } catch {
    // not Linux: keep the default
  }
  return ephemeralLow > 11_000 ? [10_000, ephemeralLow - 1] : [ephemeralHigh + 1, 65_535];
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * For events that each interacted with an item of their own: waits until the projection under
 * `redisPrefix` counts every item once (or some item more than once), and returns how many items
 * have each interaction count — `{ '1': itemIds.length }` when each event was applied exactly once.
 */
export async function interactionCountsOfItems(redis: RedisClient, redisPrefix: string, itemIds: readonly string[], timeoutMs = 120_000): Promise<Record<string, number>> {
  const keys = projectionKeys(redisPrefix);
  const tally = async (): Promise<Record<string, number>> => {
    const counts = await redis.pipeline(itemIds.map((itemId) => ['hget', keys.item(itemId).stats, 'n'])).exec();
    const found: Record<string, number> = {};
    for (const [, count] of counts ?? []) found[String(count ?? 0)] = (found[String(count ?? 0)] ?? 0) + 1;
    return found;
  };
  return eventually(tally, {
    accept: (found) => found['1'] === itemIds.length || Object.keys(found).some((count) => Number(count) > 1),
    timeoutMs,
    intervalMs: 500,
    what: `every one of ${itemIds.length} items counted`,
  });
}
