// grpc.health.v1 of query follows Redis: a private redis-server on a free port is started and
// stopped under it.
import { spawn, type ChildProcess } from 'node:child_process';
import { readConfig } from '@orrery/config';
import { createLogger } from '@orrery/telemetry';
import { eventually, freePort, healthStatus, uniqueName } from '@orrery/testing';
import { startQuery, type RunningQuery } from '../src/service';

const logger = createLogger('query-health-test', 'silent');

function startRedisServer(port: number): ChildProcess {
  return spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
}

describe('query health', () => {
  let query: RunningQuery;
  let redis: ChildProcess | undefined;

  afterAll(async () => {
    await query?.close().catch(() => undefined);
    redis?.kill('SIGKILL');
  });

  it('when Redis is unreachable query reports NOT_SERVING, and SERVING once Redis answers', async () => {
    const redisPort = await freePort();
    const config = { ...readConfig(), redisUrl: `redis://127.0.0.1:${redisPort}`, redisPrefix: uniqueName('health'), queryAddress: '127.0.0.1:0', tracingEnabled: false, healthCheckIntervalMs: 100 };
    query = await startQuery(config, logger);
    const address = `127.0.0.1:${query.port}`;
    await eventually(() => healthStatus(address), { accept: (status) => status === 'NOT_SERVING', what: 'NOT_SERVING without Redis' });

    redis = startRedisServer(redisPort);
    await eventually(() => healthStatus(address), { accept: (status) => status === 'SERVING', timeoutMs: 20_000, what: 'SERVING once Redis listens' });

    redis.kill('SIGKILL');
    await eventually(() => healthStatus(address), { accept: (status) => status === 'NOT_SERVING', timeoutMs: 20_000, what: 'NOT_SERVING after Redis went away' });

    // Back again (ioredis cannot close cleanly while a command waits for a Redis that is gone).
    redis = startRedisServer(redisPort);
    await eventually(() => healthStatus(address), { accept: (status) => status === 'SERVING', timeoutMs: 20_000, what: 'SERVING once Redis is back' });
  });
});
