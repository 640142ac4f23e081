// Rebuild against a topic that lost its first messages (real Kafka and Redis): refused by default,
// naming the partition and how many messages are gone, the live version untouched; rebuilt from what
// is left only when the operator allows a partial history.
import type { OrreryConfig } from '@orrery/config';
import { controlKeys, readProjectionVersion, scanKeys, versionKeyPattern } from '@orrery/projections';
import { rebuildProjections } from '../src/rebuild';
import { interaction, publish } from './domain-events';
import { openProjectorFixture, type ProjectorFixture } from './projector-fixture';

jest.setTimeout(120_000);

let fixture: ProjectorFixture;
let config: OrreryConfig;

beforeAll(async () => {
  fixture = await openProjectorFixture('rebuild-history', { logLevel: 'silent' });
  config = await fixture.deployment('rebuild_history');
  await publish(fixture.producer, config.eventsTopic, ['u1', 'u2', 'u3', 'u4', 'u5'].map((userId) => interaction({ userId, itemId: 'i1' })));
  // What a retention of a day does to a topic older than that: the first messages are gone.
  await fixture.admin.fetchTopicMetadata({ topics: [config.eventsTopic] }); // deleteTopicRecords needs the partition leaders known
  await fixture.admin.deleteTopicRecords({ topic: config.eventsTopic, partitions: [{ partition: 0, offset: '2' }] });
});

afterAll(() => fixture.close());

it('when a partition no longer starts at offset 0, the rebuild is refused, naming the partition and the messages gone, and the live version stays', async () => {
  await expect(rebuildProjections(config, fixture.logger, { graceMs: 300 })).rejects.toThrow(/partition 0 starts at offset 2 \(2 messages deleted\).*version 0 stays live.*retention\.ms=-1/);
  expect(await readProjectionVersion(fixture.redis, controlKeys(config.redisPrefix))).toBe(0);
  expect(await scanKeys(fixture.redis, versionKeyPattern(config.redisPrefix, 1))).toEqual([]);
});

it('when the operator allows a partial history, the rebuild replays what is left and switches', async () => {
  const result = await rebuildProjections(config, fixture.logger, { graceMs: 300, allowPartialHistory: true });
  expect(result).toMatchObject({ fromVersion: 0, toVersion: 1, replayedEvents: 3 });
  expect(await readProjectionVersion(fixture.redis, controlKeys(config.redisPrefix))).toBe(1);
});
