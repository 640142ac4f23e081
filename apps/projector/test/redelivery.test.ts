// A redelivered chunk that overlaps what was already applied (a member applied past its last offset
// commit, then crashed; the next member starts from the committed offset), also by more events of a
// user than their recent list keeps, two members applying one partition at once (a rebalance), and a
// chunk holding an event twice (a producer retry) must each end as one clean pass.
import type { KafkaMessage } from 'kafkajs';
import { readConfig } from '@orrery/config';
import { encodeDomainEvent } from '@orrery/kafka';
import { controlKeys, coVisitLookBack, createRedis, projectionKeys, type RedisClient } from '@orrery/projections';
import type { DomainEvent } from '@orrery/proto';
import { createLogger } from '@orrery/telemetry';
import { uniqueName } from '@orrery/testing';
import { chunkProjector, type PartitionMessage } from '../src/apply-chunk';
import { RecentHeads } from '../src/recent-heads';
import { redisProjectionStore } from '../src/store';
import { browsingStream, interaction, itemDeleted, itemUpserted, seededRandom } from './domain-events';
import { canonicalModel, deleteModel } from './redis-state';

const config = readConfig();
const logger = createLogger('redelivery-test', 'warn');
let redis: RedisClient;
const prefixes: string[] = [];

beforeAll(() => {
  redis = createRedis(config, 'redelivery-test');
});

afterAll(async () => {
  for (const prefix of prefixes) await deleteModel(redis, prefix);
  await redis.quit();
});

/**
 * A member projecting chunks into `prefix` (several members may share one prefix); with `keepHeads`,
 * as the live consumer does, it keeps the recent-list heads it applied (recent-heads.ts) across chunks.
 */
function projectorUnder(keepHeads: boolean, prefix: string): (events: readonly DomainEvent[]) => Promise<void> {
  if (!prefixes.includes(prefix)) prefixes.push(prefix);
  const keys = projectionKeys(prefix);
  const control = controlKeys(`${prefix}-control`);
  const store = redisProjectionStore(redis, keys, control, config.projection, 'event', config.projectorCachedItems);
  const heads = keepHeads ? new RecentHeads(config.projectorCachedUsers, coVisitLookBack(config.projection.coVisitPartners, config.projection.recentLimit)) : undefined;
  const project = chunkProjector(store, keys, control, config, logger, [], { traced: false, heads });
  return (events) =>
    project(
      events.map((event, offset): PartitionMessage => ({
        topic: 'redelivery',
        partition: 0,
        message: { key: null, value: Buffer.from(encodeDomainEvent(event)), timestamp: String(Date.now()), attributes: 0, offset: String(offset), headers: {} } as unknown as KafkaMessage,
      })),
    );
}

describe.each([
  ['reading every recent list from Redis', false],
  ['keeping the recent-list heads it applied in memory', true],
] as const)('a member %s', (_, keepHeads) => {
  it('when a chunk is redelivered together with new events, the projections equal a single pass over them', async () => {
    const start = Date.now() - 60_000;
    const catalog = Array.from({ length: 6 }, (_, index) => itemUpserted({ itemId: `i${index}`, categories: ['books'] }));
    const views = ['i0', 'i1', 'i2', 'i3', 'i4', 'i5', 'i0', 'i2', 'i4', 'i1', 'i3', 'i5'].map((itemId, index) =>
      interaction({ userId: 'u1', itemId, occurredMs: start + index * 1_000, eventId: `view-${index}` }),
    );
    const [cleanPrefix, crashedPrefix] = [uniqueName('redelivery_clean'), uniqueName('redelivery_crashed')];
    const [clean, crashed] = [projectorUnder(keepHeads, cleanPrefix), projectorUnder(keepHeads, crashedPrefix)];
    await clean(catalog);
    await crashed(catalog);

    await clean(views);
    await crashed(views.slice(0, 6)); // applied, offsets never committed
    await crashed(views); // redelivered from the committed offset, with the events after them

    const [cleanModel, crashedModel] = await Promise.all([canonicalModel(redis, cleanPrefix), canonicalModel(redis, crashedPrefix)]);
    expect(crashedModel).toEqual(cleanModel);
  });

  it('when redelivered chunks of many users overlap what was applied, in any split, the projections equal a single pass', async () => {
    const catalog = Array.from({ length: 10 }, (_, index) => itemUpserted({ itemId: `i${index}`, categories: [index % 2 ? 'books' : 'music'] }));
    const views = browsingStream(400, 6, 10, 11);
    const clean = projectorUnder(keepHeads, uniqueName('redelivery_clean_many'));
    await clean(catalog);
    await clean(views);
    const cleanModel = await canonicalModel(redis, prefixes[prefixes.length - 1]!);
    for (const [applied, chunk] of [[100, 250], [37, 400], [250, 300]] as const) {
      const crashed = projectorUnder(keepHeads, uniqueName('redelivery_crashed_many'));
      await crashed(catalog);
      await crashed(views.slice(0, applied));
      for (let from = 0; from < views.length; from += chunk) await crashed(views.slice(from, from + chunk));
      expect(await canonicalModel(redis, prefixes[prefixes.length - 1]!)).toEqual(cleanModel);
    }
  });

  it('when a redelivered chunk holds more of a user\'s applied events than their recent list keeps, the projections equal a single pass', async () => {
    // The recent list keeps only the newest recentLimit entries, so the snapshot of the redelivered chunk
    // misses its oldest applied events: they must not be taken for new ones (this made rebalance.test.ts flaky).
    const applied = config.projection.recentLimit + 40;
    // A view a minute: each pairs with those of the last half hour (the co-visit window), never with the oldest.
    const start = Date.now() - (applied + 20) * 60_000;
    const catalog = Array.from({ length: 10 }, (_, index) => itemUpserted({ itemId: `i${index}`, categories: ['books'] }));
    const views = Array.from({ length: applied + 20 }, (_, index) => interaction({ userId: 'u1', itemId: `i${(index * 3) % 10}`, occurredMs: start + index * 60_000, eventId: `deep-${index}` }));
    const [cleanPrefix, crashedPrefix] = [uniqueName('redelivery_clean_deep'), uniqueName('redelivery_crashed_deep')];
    const [clean, crashed] = [projectorUnder(keepHeads, cleanPrefix), projectorUnder(keepHeads, crashedPrefix)];
    await clean(catalog);
    await crashed(catalog);
    await clean(views);
    await crashed(views.slice(0, applied)); // applied, offsets never committed
    await crashed(views); // redelivered from the committed offset, with the events after them
    const [cleanModel, crashedModel] = await Promise.all([canonicalModel(redis, cleanPrefix), canonicalModel(redis, crashedPrefix)]);
    expect(crashedModel).toEqual(cleanModel);
  });

  it('when two members apply one partition at the same time from different offsets and chunkings, the projections equal a single pass', async () => {
    const next = seededRandom(5);
    const catalog = Array.from({ length: 10 }, (_, index) => itemUpserted({ itemId: `i${index}`, categories: ['books'] }));
    const views = browsingStream(600, 4, 10, 5);
    const cleanPrefix = uniqueName('redelivery_clean_both');
    const clean = projectorUnder(keepHeads, cleanPrefix);
    await clean(catalog);
    await clean(views);
    const cleanModel = await canonicalModel(redis, cleanPrefix);
    for (let round = 0; round < 10; round++) {
      const prefix = uniqueName('redelivery_both');
      const [first, second] = [projectorUnder(keepHeads, prefix), projectorUnder(keepHeads, prefix)];
      await first(catalog);
      const [firstChunk, secondChunk, committed] = [20 + Math.floor(next() * 80), 20 + Math.floor(next() * 200), Math.floor(next() * 300)];
      for (let from = 0; from < committed; from += firstChunk) await first(views.slice(from, Math.min(committed, from + firstChunk)));
      // The first goes on from the start (it has not seen the rebalance yet), the second from the committed offset.
      const runFirst = async (): Promise<void> => {
        for (let from = 0; from < 400; from += firstChunk) await first(views.slice(from, Math.min(400, from + firstChunk)));
      };
      const runSecond = async (): Promise<void> => {
        for (let from = committed; from < views.length; from += secondChunk) await second(views.slice(from, from + secondChunk));
      };
      await Promise.all([runFirst(), runSecond()]);
      expect({ round, model: await canonicalModel(redis, prefix) }).toEqual({ round, model: cleanModel });
    }
  });

  it('when a redelivered interaction with an item deleted and added again since is planned but dropped as applied, later chunks pair as in a single pass', async () => {
    // First pass: the view of x is skipped (x is deleted then). Redelivered after x came back, it is
    // planned (as if new to the user's list) and then dropped by the watermark: that list must not be kept.
    const start = Date.now() - 60_000;
    const catalog = ['x', 'y', 'z'].map((itemId) => itemUpserted({ itemId, categories: ['books'] }));
    const first = [interaction({ userId: 'u1', itemId: 'z', occurredMs: start }), itemDeleted('x'), interaction({ userId: 'u1', itemId: 'x', occurredMs: start + 1_000 }), itemUpserted({ itemId: 'x', categories: ['books'] })];
    const later = interaction({ userId: 'u1', itemId: 'y', occurredMs: start + 2_000 });
    const [cleanPrefix, redeliveredPrefix] = [uniqueName('redelivery_clean_readded'), uniqueName('redelivery_readded')];
    const [clean, redelivered] = [projectorUnder(keepHeads, cleanPrefix), projectorUnder(keepHeads, redeliveredPrefix)];
    for (const project of [clean, redelivered]) {
      await project(catalog);
      await project(first);
    }
    await redelivered(first.slice(2));
    await clean([later]);
    await redelivered([later]);
    const [cleanModel, redeliveredModel] = await Promise.all([canonicalModel(redis, cleanPrefix), canonicalModel(redis, redeliveredPrefix)]);
    expect(redeliveredModel).toEqual(cleanModel);
  });

  it('when a chunk holds the same event twice (a producer retry), the projections equal a single pass', async () => {
    const start = Date.now() - 60_000;
    const catalog = Array.from({ length: 6 }, (_, index) => itemUpserted({ itemId: `i${index}`, categories: ['books'] }));
    const views = ['i0', 'i1', 'i2', 'i3', 'i4', 'i5', 'i0', 'i2', 'i4', 'i1', 'i3', 'i5'].map((itemId, index) =>
      interaction({ userId: 'u1', itemId, occurredMs: start + index * 1_000, eventId: `twice-${index}` }),
    );
    const [cleanPrefix, twicePrefix] = [uniqueName('redelivery_clean_twice'), uniqueName('redelivery_twice')];
    const [clean, twice] = [projectorUnder(keepHeads, cleanPrefix), projectorUnder(keepHeads, twicePrefix)];
    await clean(catalog);
    await twice(catalog);
    await clean(views);
    await twice([...views.slice(0, 5), views[4]!, ...views.slice(5)]);
    const [cleanModel, twiceModel] = await Promise.all([canonicalModel(redis, cleanPrefix), canonicalModel(redis, twicePrefix)]);
    expect(twiceModel).toEqual(cleanModel);
  });
});
