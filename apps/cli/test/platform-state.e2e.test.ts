import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { readConfig, type OrreryConfig } from '@orrery/config';
import { controlKeys, createRedis, unlinkKeys, type RedisClient } from '@orrery/projections';
import { eventually } from '@orrery/testing';
import { startIsolatedPlatform, type IsolatedPlatform } from '../src/isolated-platform';
import { REPO_ROOT } from '../src/platform';
import { readPlatformState, startupSteps, type StartupStep } from '../src/platform-state';
import { seedDemoData } from '../src/seed';

jest.setTimeout(300_000);

// `orrery up` on the states the engines can really be in, from an empty event store to a trained
// platform whose Redis lost its projections: what it reads, and what it would then do.
describe('orrery up: what it finds and what it does about it', () => {
  let platform: IsolatedPlatform;
  let config: OrreryConfig;
  let redis: RedisClient;
  const steps = async (): Promise<StartupStep[]> => startupSteps(await readPlatformState(config));

  beforeAll(async () => {
    platform = await startIsolatedPlatform({}, ['command', 'ingestion', 'projector', 'query']);
    config = readConfig(platform.env);
    redis = createRedis(config, 'platform-state-test');
  });
  afterAll(async () => {
    redis?.disconnect();
    await platform?.stop();
  });

  it('when the event store is empty, it seeds and then trains', async () => {
    expect(await readPlatformState(config)).toEqual({ hasEvents: false, hasProjections: false, hasChampion: false });
    expect(await steps()).toEqual(['seed', 'train']);
  });

  it('when events were seeded and projected but no model was trained, it only trains', async () => {
    await seedDemoData({ ingestAddress: platform.ingestAddress, users: 120, items: 80, eventsPerUser: 15, seed: 7, progress: false });
    await eventually(() => readPlatformState(config), { accept: (state) => state.hasProjections, what: 'the seed projected', timeoutMs: 60_000 });
    expect(await readPlatformState(config)).toEqual({ hasEvents: true, hasProjections: true, hasChampion: false });
    expect(await steps()).toEqual(['train']);
  });

  it('when a champion is registered, it does nothing', async () => {
    platform.train(['--factors', '4']);
    expect(await readPlatformState(config)).toEqual({ hasEvents: true, hasProjections: true, hasChampion: true });
    expect(await steps()).toEqual([]);
  });

  it('when Redis lost the projections (keys under the prefix flushed), it replays Kafka into them, and after the rebuild (a new projection version) it does nothing', async () => {
    await unlinkKeys(redis, `${config.redisPrefix}:*`);
    expect(await readPlatformState(config)).toEqual({ hasEvents: true, hasProjections: false, hasChampion: true });
    expect(await steps()).toEqual(['rebuild-projections']);

    // What `orrery up` runs for that step.
    const rebuild = spawnSync(process.execPath, [join(REPO_ROOT, 'apps', 'projector', 'dist', 'rebuild-main.js')], { env: platform.env, encoding: 'utf8', timeout: 240_000 });
    expect({ status: rebuild.status, stderr: rebuild.stderr }).toEqual({ status: 0, stderr: '' });
    expect(await steps()).toEqual([]);
    expect(await redis.get(controlKeys(config.redisPrefix).version)).toBe('1');
  });
});
