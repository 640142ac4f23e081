// The projector's consumer lag gauge (real Kafka and Redis): it follows the group of the projection
// version written, which a rebuild changes (and whose old group it deletes).
import type { OrreryConfig } from '@orrery/config';
import { kafkaConsumerLag } from '@orrery/metrics';
import { controlKeys, projectorGroupOf } from '@orrery/projections';
import { eventually } from '@orrery/testing';
import { sampleConsumerLag } from '../src/consumer-lag';
import { groupLag } from '../src/rebuild';
import type { RunningProjector } from '../src/service';
import { interaction, publish } from './domain-events';
import { openProjectorFixture, type ProjectorFixture } from './projector-fixture';

jest.setTimeout(120_000);

let fixture: ProjectorFixture;
let config: OrreryConfig;
let projector: RunningProjector;

beforeAll(async () => {
  fixture = await openProjectorFixture('consumer-lag', { logLevel: 'silent' });
  config = await fixture.deployment('consumer_lag', { config: { healthCheckIntervalMs: 100 } });
  projector = await fixture.startProjector(config);
});

afterAll(() => fixture.close());

it('when the projection version switched and the old group was deleted, the gauge shows the lag of the new version group', async () => {
  await publish(fixture.producer, config.eventsTopic, Array.from({ length: 5 }, (_, n) => interaction({ userId: `u${n}`, itemId: 'i1' })));
  await fixture.caughtUp(config);
  // What a rebuild does: the pointer moves, the projector joins version 1's group, version 0's group is deleted.
  await fixture.redis.set(controlKeys(config.redisPrefix).version, '1');
  const group = projectorGroupOf(config.projectorGroup, 1);
  await eventually(async () => (projector.version() === 1 ? groupLag(fixture.admin, config.eventsTopic, group) : -1), { accept: (lag) => lag === 0, what: "version 1's group to catch up" });
  await fixture.admin.deleteGroups([config.projectorGroup]);

  const sampler = sampleConsumerLag(config, fixture.logger, () => projectorGroupOf(config.projectorGroup, projector.version()));
  try {
    const lagOfTopic = async (): Promise<number | undefined> => (await kafkaConsumerLag.get()).values.find(({ labels }) => labels.topic === config.eventsTopic)?.value;
    // Before, the gauge read version 0's group, deleted: the whole topic, for good.
    await eventually(lagOfTopic, { accept: (lag) => lag === 0, what: 'the gauge to show no lag', timeoutMs: 10_000 });
  } finally {
    await sampler.stop();
  }
});
