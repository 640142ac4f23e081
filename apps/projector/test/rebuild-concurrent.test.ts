// Two rebuilds of one deployment at once (real Kafka and Redis): one runs, the other is refused before
// it changes anything, and the version made live is complete.
import type { OrreryConfig } from '@orrery/config';
import { controlKeys, versionPrefix } from '@orrery/projections';
import { EventType, type DomainEvent } from '@orrery/proto';
import { rebuildProjections } from '../src/rebuild';
import { interaction, itemUpserted, publish } from './domain-events';
import { openProjectorFixture, type ProjectorFixture } from './projector-fixture';
import { canonicalModel, keysOfVersion } from './redis-state';

jest.setTimeout(180_000);

let fixture: ProjectorFixture;
let live: OrreryConfig;
let reference: OrreryConfig;

async function phase(events: readonly DomainEvent[]): Promise<void> {
  await publish(fixture.producer, live.eventsTopic, events);
  await publish(fixture.producer, reference.eventsTopic, events);
  await fixture.caughtUp(live, reference);
}

beforeAll(async () => {
  fixture = await openProjectorFixture('rebuild-concurrent');
  live = await fixture.deployment('rebuild2_live', { partitions: 2 });
  reference = await fixture.deployment('rebuild2_ref', { partitions: 2 });
  await Promise.all([fixture.startProjector(live), fixture.startProjector(reference)]);
  await phase(Array.from({ length: 10 }, (_, index) => itemUpserted({ itemId: `i${index}`, categories: [`c${index % 3}`] })));
  const types = [EventType.VIEW, EventType.CLICK, EventType.PURCHASE];
  await phase(Array.from({ length: 3_000 }, (_, n) => interaction({ userId: `u${(n * 7) % 40}`, itemId: `i${(n * 13) % 10}`, type: types[n % 3]!, occurredMs: Date.now() - 3_600_000 + n * 1_000 })));
});

afterAll(() => fixture.close());

it('when two rebuilds start at once, one is refused before it changes anything, and the version readers are switched to is complete', async () => {
  const referenceModel = await canonicalModel(fixture.redis, reference.redisPrefix);
  const results = await Promise.allSettled([rebuildProjections(live, fixture.logger, { graceMs: 500 }), rebuildProjections(live, fixture.logger, { graceMs: 500 })]);

  // Before the lease, both targeted version 1; the one whose switch was refused dropped it after the
  // other had made it live: the pointer named a version without a key.
  expect(await fixture.redis.get(controlKeys(live.redisPrefix).version)).toBe('1');
  expect(await canonicalModel(fixture.redis, versionPrefix(live.redisPrefix, 1))).toEqual(referenceModel);
  expect(await keysOfVersion(fixture.redis, live.redisPrefix, 0)).toEqual([]);
  expect(await fixture.redis.exists(controlKeys(live.redisPrefix).rebuild)).toBe(0);
  const refused = results.flatMap((result) => (result.status === 'rejected' ? [String(result.reason)] : []));
  const done = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  expect(done).toEqual([expect.objectContaining({ fromVersion: 0, toVersion: 1 })]);
  // Without the lease the other failed later, in any of several ways (its offsets refused by the group
  // the first one's projector had joined, or its switch refused after it had cleared the first one's keys).
  expect(refused).toEqual([expect.stringMatching(/another rebuild is running.*version 0 stays live/)]);
});
