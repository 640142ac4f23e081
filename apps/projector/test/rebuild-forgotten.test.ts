// A rebuild when Redis holds no tombstone of a forgotten user yet (real Kafka and Redis): Redis lost its
// data (`orrery up` rebuilds then), or the live projector had not applied the forget when the replay read
// the user. The history the replay holds names the forget: the user's earlier events are not projected.
import type { OrreryConfig } from '@orrery/config';
import { versionPrefix } from '@orrery/projections';
import { EventType } from '@orrery/proto';
import { rebuildProjections } from '../src/rebuild';
import { interaction, itemUpserted, publish, userForgotten, withoutInteractionsOf } from './domain-events';
import { openProjectorFixture, type ProjectorFixture } from './projector-fixture';
import { canonicalModel } from './redis-state';

jest.setTimeout(180_000);

let fixture: ProjectorFixture;
let live: OrreryConfig;
let reference: OrreryConfig;

beforeAll(async () => {
  fixture = await openProjectorFixture('rebuild-forgotten');
  live = await fixture.deployment('rebuild_forgotten', { partitions: 2 });
  reference = await fixture.deployment('rebuild_forgotten_ref', { partitions: 2 });
  await fixture.startProjector(reference);
});

afterAll(() => fixture.close());

it('when Redis holds no tombstone of a user forgotten in the history, the rebuild still leaves out their events before the forget', async () => {
  const items = Array.from({ length: 6 }, (_, index) => itemUpserted({ itemId: `i${index}`, categories: [`c${index % 2}`] }));
  const types = [EventType.VIEW, EventType.CLICK, EventType.PURCHASE];
  const users = ['u0', 'u1', 'u2', 'ghost'];
  const history = Array.from({ length: 400 }, (_, n) => interaction({ userId: users[n % users.length]!, itemId: `i${(n * 5) % 6}`, type: types[n % 3]!, occurredMs: Date.now() - 3_600_000 + n * 1_000 }));
  const forget = userForgotten('ghost');
  // The id used again after the forget (a higher sequence) is a new user: their events are projected.
  const comeback = [interaction({ userId: 'ghost', itemId: 'i1', occurredMs: Date.now() - 60_000 })];
  // No projector of the live deployment has run: Redis holds neither its projections nor the tombstone.
  // The reference applies the catalog before the interactions (they travel on other partitions), as the replay does.
  await publish(fixture.producer, live.eventsTopic, [...items, ...history, forget, ...comeback]);
  await publish(fixture.producer, reference.eventsTopic, items);
  await fixture.caughtUp(reference);
  await publish(fixture.producer, reference.eventsTopic, [...withoutInteractionsOf('ghost', history), ...comeback]);
  await fixture.caughtUp(reference);

  const result = await rebuildProjections(live, fixture.logger, { graceMs: 300 });

  expect(result).toMatchObject({ fromVersion: 0, toVersion: 1 });
  // Before, only a tombstone already in Redis made the replay skip a user's events: the forget deleted
  // the user's own keys when the replay reached it, but their item counts, popularity, co-visits and
  // trending scores stayed in the rebuilt version.
  expect(await canonicalModel(fixture.redis, versionPrefix(live.redisPrefix, 1))).toEqual(await canonicalModel(fixture.redis, reference.redisPrefix));
});
