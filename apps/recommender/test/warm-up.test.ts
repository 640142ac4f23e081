// startRecommender against the real Redis and Postgres of the local stack: before it returns (and main
// logs ready), it warms up with users the projections know, or serves at once when they know none.
// Redis database 9, of its own: the search for users looks at a bounded number of keys, and in the
// shared database other tests' keys could hide these.
import { randomUUID } from 'node:crypto';
import { readConfig, type OrreryConfig } from '@orrery/config';
import { EventType } from '@orrery/proto';
import { createRedis, encodeRecentEntry, projectionKeys, unlinkKeys, type RedisClient } from '@orrery/projections';
import type { Logger } from '@orrery/telemetry';
import { healthStatus, uniqueName } from '@orrery/testing';
import { pino } from 'pino';
import { startRecommender, type RunningRecommender } from '../src/service';

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
  let running: RunningRecommender | undefined;

  beforeAll(() => {
    const shared = readConfig();
    const url = new URL(shared.redisUrl);
    url.pathname = '/9';
    config = {
      ...shared,
      redisUrl: url.toString(),
      redisPrefix: prefix,
      recommenderAddress: '127.0.0.1:0',
      // Nothing listens there: with no candidates (no model, no co-visits, no trending) nothing is scored.
      scoringZmqEndpoint: `ipc:///tmp/${uniqueName('warm-up-scoring')}`,
      recommenderWarmUpRequests: 40,
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
  });

  it('serves at once when the projections know no user', async () => {
    const { logger, lines } = recordingLogger();
    running = await startRecommender(config, logger);
    expect(lines.some((line) => String(line.msg).startsWith('no user in the projections to warm up with'))).toBe(true);
    expect(lines.some((line) => line.warmUp !== undefined)).toBe(false);
    expect(await healthStatus(`127.0.0.1:${running.port}`)).toBe('SERVING');
  });

  it('sends itself the configured calls for the users the projections know before it returns, then reports SERVING', async () => {
    const keys = projectionKeys(prefix);
    const users = ['u1', 'u2', 'u{3}'];
    for (const [index, userId] of users.entries()) {
      await redis.lpush(keys.user(userId).recent, encodeRecentEntry({ sequence: BigInt(index + 1), type: EventType.VIEW, value: 0, occurredMs: Date.now(), itemId: `item-${index}` }));
    }
    const { logger, lines } = recordingLogger();
    running = await startRecommender(config, logger);
    const report = lines.find((line) => line.warmUp !== undefined)?.warmUp;
    expect(report).toMatchObject({ sent: 40, whole: 40, degraded: 0, failed: 0, users: 3 });
    expect(await healthStatus(`127.0.0.1:${running.port}`)).toBe('SERVING');
  });
});
