// A rebuild killed after its switch, before it dropped the old version (real Kafka and Redis, the built
// rebuild-main.js: `npm run build` first): the next rebuild drops what it left.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { OrreryConfig } from '@orrery/config';
import { controlKeys } from '@orrery/projections';
import { eventually } from '@orrery/testing';
import { rebuildProjections } from '../src/rebuild';
import type { RunningProjector } from '../src/service';
import { interaction, publish } from './domain-events';
import { openProjectorFixture, type ProjectorFixture } from './projector-fixture';
import { keysOfVersion } from './redis-state';

jest.setTimeout(180_000);

let fixture: ProjectorFixture;
let config: OrreryConfig;
let projector: RunningProjector;

/** Keys of projection `version` (control keys aside). */
const keysOf = (version: number): Promise<string[]> => keysOfVersion(fixture.redis, config.redisPrefix, version);

beforeAll(async () => {
  fixture = await openProjectorFixture('rebuild-leftovers');
  config = await fixture.deployment('rebuild_leftovers');
  projector = await fixture.startProjector(config);
  await publish(fixture.producer, config.eventsTopic, Array.from({ length: 30 }, (_, n) => interaction({ userId: `u${n % 5}`, itemId: `i${n % 7}` })));
  await eventually(async () => (await keysOf(0)).length, { accept: (count) => count > 20, what: 'version 0 projected' });
});

afterAll(() => fixture.close());

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
    await eventually(() => fixture.redis.get(controlKeys(config.redisPrefix).version), { accept: (version) => version === '1', what: 'the rebuild to switch to version 1', timeoutMs: 60_000 });
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
  // Killed in its grace period: version 0 is no longer read, and nothing is left to drop it.
  expect((await keysOf(0)).length).toBeGreaterThan(20);
  await eventually(async () => projector.version(), { accept: (version) => version === 1, what: 'the live projector to follow the switch' });
  // The killed rebuild's lease expires (it is not renewed any more).
  await eventually(() => fixture.redis.exists(controlKeys(config.redisPrefix).rebuild), { accept: (found) => found === 0, what: 'the lease to expire', timeoutMs: 45_000, intervalMs: 500 });

  const result = await rebuildProjections(config, fixture.logger, { graceMs: 300 });
  expect(result).toMatchObject({ fromVersion: 1, toVersion: 2 });
  expect(await keysOf(1)).toEqual([]);
  // Before, version 0 stayed for good: each rebuild dropped only the version it switched away from.
  expect(await keysOf(0)).toEqual([]);
  expect((await keysOf(2)).length).toBeGreaterThan(20);
});
