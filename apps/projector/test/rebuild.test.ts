// Rebuild against real Kafka and Redis: the replay into a new version equals a clean projection of
// the same history (minus a forgotten user, whose aggregate traces the rebuild removes), readers
// switch without a failed or empty answer, the old version is dropped and the live projector carries on.
import type { OrreryConfig } from '@orrery/config';
import { createClient, type Client } from '@orrery/grpc';
import { controlKeys, versionPrefix } from '@orrery/projections';
import { EventType, QueryService, type DomainEvent } from '@orrery/proto';
import { eventually } from '@orrery/testing';
import { startQuery, type RunningQuery } from '../../query/src/service';
import { rebuildProjections } from '../src/rebuild';
import type { RunningProjector } from '../src/service';
import { interaction, itemDeleted, itemUpserted, publish, seededRandom, userForgotten, withoutInteractionsOf } from './domain-events';
import { openProjectorFixture, type ProjectorFixture } from './projector-fixture';
import { canonicalModel, keysOfVersion } from './redis-state';

jest.setTimeout(180_000);

const MINUTE = 60_000;
let fixture: ProjectorFixture;
let live: OrreryConfig;
let reference: OrreryConfig;
let projector: RunningProjector;
let query: RunningQuery;
let client: Client<typeof QueryService>;

/** Publishes to the live topic, and (without the forgotten user's events) to the reference topic, then waits for both to be applied. */
async function phase(events: readonly DomainEvent[], referenceEvents: readonly DomainEvent[] = events): Promise<void> {
  await publish(fixture.producer, live.eventsTopic, events);
  if (referenceEvents.length > 0) await publish(fixture.producer, reference.eventsTopic, referenceEvents);
  await fixture.caughtUp(live, reference);
}

function sessions(users: readonly string[], count: number, seed: number, items: number): DomainEvent[] {
  const next = seededRandom(seed);
  const types = [EventType.VIEW, EventType.VIEW, EventType.CLICK, EventType.PURCHASE, EventType.LIKE];
  const clock = new Map<string, number>();
  return Array.from({ length: count }, () => {
    const userId = users[Math.floor(next() * users.length)]!;
    const at = (clock.get(userId) ?? Date.now() - 2 * 24 * 60 * MINUTE) + Math.floor(next() * 20 * MINUTE);
    clock.set(userId, at);
    return interaction({ userId, itemId: `i${Math.floor(next() * items)}`, type: types[Math.floor(next() * types.length)]!, occurredMs: at });
  });
}

beforeAll(async () => {
  fixture = await openProjectorFixture('rebuild');
  live = await fixture.deployment('rebuild_live', { partitions: 2, config: { queryAddress: '127.0.0.1:0' } });
  reference = await fixture.deployment('rebuild_ref', { partitions: 2 });
  [projector, query] = await Promise.all([fixture.startProjector(live), startQuery(live, fixture.logger), fixture.startProjector(reference)]);
  client = createClient(QueryService, `127.0.0.1:${query.port}`);
});

afterAll(async () => {
  client.close();
  await query.close();
  await fixture.close();
});

describe('rebuild', () => {
  it('when the projections are rebuilt, the new version equals a clean run without the forgotten user, queries answer throughout, and the old version is gone', async () => {
    const categories = ['books', 'music', 'garden'];
    await phase(Array.from({ length: 20 }, (_, index) => itemUpserted({ itemId: `i${index}`, categories: [categories[index % 3]!] })));
    const users = Array.from({ length: 12 }, (_, index) => `u${index}`);
    const history = sessions([...users, 'ghost', 'ghost'], 3_000, 11, 20);
    await phase(history, withoutInteractionsOf('ghost', history));
    const deletion = itemDeleted('i3');
    await phase([deletion]);
    const later = sessions(users, 600, 12, 20);
    await phase(later);
    await phase([userForgotten('ghost')], []);

    const referenceModel = await canonicalModel(fixture.redis, reference.redisPrefix);
    // Live still holds what the forgotten user added to item counts, popularity, co-visits and trending.
    expect(await canonicalModel(fixture.redis, live.redisPrefix)).not.toEqual(referenceModel);

    let answering = true;
    const problems: string[] = [];
    let answers = 0;
    const reads = (async () => {
      while (answering) {
        try {
          const [trending, context] = await Promise.all([client.getTrending({ count: 5 }), client.getUserContext({ userId: 'u1' })]);
          if (trending.items.length !== 5) problems.push(`trending had ${trending.items.length} items`);
          if (!context.known) problems.push('u1 unknown');
          answers += 1;
        } catch (error) {
          problems.push(String(error));
        }
      }
    })();
    const result = await rebuildProjections(live, fixture.logger);
    answering = false;
    await reads;

    expect(result).toMatchObject({ fromVersion: 0, toVersion: 1 });
    expect(result.droppedKeys).toBeGreaterThan(100); // 12 users and 20 items, 4 keys each, and the rankings
    expect(problems).toEqual([]);
    expect(answers).toBeGreaterThan(10);
    expect(await fixture.redis.get(controlKeys(live.redisPrefix).version)).toBe('1');
    expect(await canonicalModel(fixture.redis, versionPrefix(live.redisPrefix, 1))).toEqual(referenceModel);
    expect(await keysOfVersion(fixture.redis, live.redisPrefix, 0)).toEqual([]);

    // The live projector writes the new version from where the rebuild got to.
    await eventually(async () => projector.version(), { accept: (version) => version === 1, what: 'the live projector to switch' });
    await publish(fixture.producer, live.eventsTopic, [interaction({ userId: 'newcomer', itemId: 'i1' })]);
    const newcomer = await eventually(() => client.getUserContext({ userId: 'newcomer' }), { accept: (reply) => reply.known, what: 'newcomer in the new version' });
    expect(newcomer.seenItemIds).toEqual(['i1']);
    expect((await client.getUserContext({ userId: 'ghost' })).known).toBe(false);
  });
});
