// startRecommender against the real Redis and Postgres of the local stack (a database of its own, so
// no model: no ANN candidates): it reports NOT_SERVING while it warms up with users the projections
// know, or serves at once when they know none.
// Redis database 9, of its own: the search for users looks at a bounded number of keys, and in the
// shared database other tests' keys could hide these.
import { randomUUID } from 'node:crypto';
import { readConfig, type OrreryConfig } from '@orrery/config';
import { EventType } from '@orrery/proto';
import { createRedis, encodeRecentEntry, projectionKeys, unlinkKeys, type RedisClient } from '@orrery/projections';
import type { Logger } from '@orrery/telemetry';
import { createTestDatabase, dropTestDatabase, eventually, healthStatus, uniqueName } from '@orrery/testing';
import { pino } from 'pino';
import { startRecommender, type StartedRecommender } from '../src/service';

jest.setTimeout(60_000);

/** A logger whose lines the test reads. */
function recordingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

describe('a starting recommender', () => {
  const prefix = `warm-up-test-${randomUUID()}`;
  let redis: RedisClient;
  let config: OrreryConfig;
  let running: StartedRecommender | undefined;

  let databaseUrl: string;

  beforeAll(async () => {
    const shared = readConfig();
    databaseUrl = await createTestDatabase(shared);
    const url = new URL(shared.redisUrl);
    url.pathname = '/9';
    config = {
      ...shared,
      redisUrl: url.toString(),
      postgresUrl: databaseUrl,
      redisPrefix: prefix,
      recommenderAddress: '127.0.0.1:0',
      // Nothing listens there: with no candidates (no model, no co-visits, no trending) nothing is scored.
      scoringZmqEndpoint: `ipc:///tmp/${uniqueName('warm-up-scoring')}`,
      recommenderWarmUpRequests: 5_000,
    };
    redis = createRedis(config, 'warm-up-test');
  });
  afterEach(async () => {
    await running?.close();
    running = undefined;
  });
  afterAll(async () => {
    await unlinkKeys(redis, `${prefix}*`);
    await redis.quit();
    await dropTestDatabase(databaseUrl);
  });

  /** Gives each user a recent list, as the projector would. */
  const projectUsers = async (users: readonly string[]): Promise<void> => {
    const keys = projectionKeys(prefix);
    for (const [index, userId] of users.entries()) {
      await redis.lpush(keys.user(userId).recent, encodeRecentEntry({ sequence: BigInt(index + 1), type: EventType.VIEW, value: 0, occurredMs: Date.now(), itemId: `item-${index}` }));
    }
  };

  it('serves at once when the projections know no user', async () => {
    const { logger, lines } = recordingLogger();
    running = await startRecommender(config, logger);
    await running.warmedUp;
    expect(lines.some((line) => String(line.msg).startsWith('no user in the projections to warm up with'))).toBe(true);
    expect(lines.some((line) => line.warmUp !== undefined)).toBe(false);
    expect(await healthStatus(`127.0.0.1:${running.port}`)).toBe('SERVING');
  });

  it('runs the configured Recommend calls for the users the projections know, NOT_SERVING meanwhile, then SERVING', async () => {
    await projectUsers(['u1', 'u2', 'u{3}']);
    const { logger, lines } = recordingLogger();
    running = await startRecommender(config, logger);
    // 5,000 calls each reading Redis take far longer than one health check.
    expect(await healthStatus(`127.0.0.1:${running.port}`)).toBe('NOT_SERVING');
    await running.warmedUp;
    const report = lines.find((line) => line.warmUp !== undefined)?.warmUp;
    expect(report).toMatchObject({ sent: 5_000, whole: 5_000, degraded: 0, failed: 0, users: 3 });
    expect(await healthStatus(`127.0.0.1:${running.port}`)).toBe('SERVING');
  });

  it('stops warming up when closed, without waiting for the calls it had left', async () => {
    await projectUsers(['u1']);
    const { logger, lines } = recordingLogger();
    const started = await startRecommender({ ...config, recommenderWarmUpRequests: 1_000_000 }, logger);
    running = started;
    // Closed once the warm-up is sending its calls (it logs that it starts, then sends the first ones at once), not before.
    await eventually(async () => lines.some((line) => String(line.msg).startsWith('warming up: ')), { what: 'the warm-up to start' });
    await started.close();
    running = undefined;
    const report = lines.find((line) => line.warmUp !== undefined)?.warmUp as { sent: number; stoppedEarly?: string } | undefined;
    // A loop that went on would have stopped at its time limit (15 s) instead, or sent them all.
    expect(report?.stoppedEarly).toBe('stopped: the service is shutting down');
    expect(report!.sent).toBeGreaterThan(0);
    expect(report!.sent).toBeLessThan(1_000_000);
  });
});
