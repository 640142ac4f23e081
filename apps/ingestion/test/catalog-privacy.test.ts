// DeleteItem and ForgetUser through ingestion → command → Postgres → outbox relay → Kafka.
import { status } from '@orrery/grpc';
import { EventType } from '@orrery/proto';
import { tryBecomeOutboxRelay } from '@orrery/store';
import { eventually } from '@orrery/testing';
import { Client } from 'pg';
import { startCommand } from '../../command/src/service';
import { eventIdOf } from '../../command/test/kafka-collector';
import { silentLogger, startWriteSide, type WriteSide } from './harness';

describe('catalog and privacy commands', () => {
  let side: WriteSide;
  beforeAll(async () => {
    side = await startWriteSide();
  });
  afterAll(() => side?.stop());

  const onKafka = (key: string, kind: string) => side.topic.messages.filter((message) => message.key === key && message.event.payload.case === kind);

  it('when an item is deleted, it leaves the catalog, is tombstoned, and ItemDeleted follows its upsert on Kafka', async () => {
    await side.catalog.upsertItems({ items: [{ itemId: 'doomed', categories: ['jazz'] }] });
    expect(await side.catalog.deleteItem({ itemId: 'doomed' })).toMatchObject({ deleted: true });
    expect(await side.count('items', "item_id = 'doomed'")).toBe(0);
    expect(await side.count('deleted_items', "item_id = 'doomed'")).toBe(1);
    const [deleted] = await eventually(async () => onKafka('item:doomed', 'itemDeleted'), { accept: (found) => found.length === 1, what: 'ItemDeleted on Kafka' });
    const [upserted] = onKafka('item:doomed', 'itemUpserted');
    expect(deleted!.event.payload.case === 'itemDeleted' && deleted!.event.payload.value.itemId).toBe('doomed');
    expect(deleted!.event.sequence).toBeGreaterThan(upserted!.event.sequence);
  });

  it('when a deleted item is deleted again, deleted is false and nothing more is published; an upsert re-adds it', async () => {
    await side.catalog.upsertItems({ items: [{ itemId: 'twice' }] });
    expect((await side.catalog.deleteItem({ itemId: 'twice' })).deleted).toBe(true);
    expect((await side.catalog.deleteItem({ itemId: 'twice' })).deleted).toBe(false);
    await side.catalog.upsertItems({ items: [{ itemId: 'twice', tags: ['back'] }] });
    expect(await side.count('items', "item_id = 'twice'")).toBe(1);
    expect(await side.count('deleted_items', "item_id = 'twice'")).toBe(0);
    await eventually(async () => onKafka('item:twice', 'itemUpserted').length, { accept: (n) => n === 2, what: 'the re-adding upsert on Kafka' });
    expect(onKafka('item:twice', 'itemDeleted')).toHaveLength(1);
  });

  it('when an item only seen in interactions is deleted, deleted is false but projections are told to drop it', async () => {
    await side.ingest.track({ event: { userId: 'u-x', itemId: 'uncatalogued', type: EventType.VIEW } });
    expect((await side.catalog.deleteItem({ itemId: 'uncatalogued' })).deleted).toBe(false);
    await eventually(async () => onKafka('item:uncatalogued', 'itemDeleted').length, { what: 'ItemDeleted on Kafka' });
  });

  it('when a user is forgotten, their events leave the event store, the count is answered, and UserForgotten follows their events on Kafka', async () => {
    const events = Array.from({ length: 25 }, (_, i) => ({ eventId: `forget-${i}`, userId: 'forget-me', itemId: `item-${i % 4}`, type: EventType.CLICK }));
    await side.ingest.trackBatch({ events });
    await side.ingest.track({ event: { eventId: 'keep-1', userId: 'keep-me', itemId: 'item-1', type: EventType.CLICK } });
    await side.catalog.upsertUsers({ users: [{ userId: 'forget-me', attributes: { country: 'NZ' } }] });

    expect(await side.catalog.forgetUser({ userId: 'forget-me' })).toMatchObject({ eventsErased: 25n });
    expect(await side.count('events', "user_id = 'forget-me'")).toBe(0);
    expect(await side.count('users', "user_id = 'forget-me'")).toBe(0);
    expect(await side.count('events', "user_id = 'keep-me'")).toBe(1);

    const [forgotten] = await eventually(async () => onKafka('forget-me', 'userForgotten'), { accept: (found) => found.length === 1, what: 'UserForgotten on Kafka' });
    // Same key, so the same partition: a consumer meets it after every event of the user that reached Kafka.
    const theirs = side.topic.messages.filter((message) => message.key === 'forget-me' && message.event.payload.case !== 'userForgotten');
    expect(theirs.every((message) => message.partition === forgotten!.partition && message.event.sequence < forgotten!.event.sequence)).toBe(true);

    // Forgetting again erases nothing more (and says so).
    expect(await side.catalog.forgetUser({ userId: 'forget-me' })).toMatchObject({ eventsErased: 0n });
  });

  it('when a user is forgotten before the relay published their events, those events never reach Kafka', async () => {
    // Hold the relay's lock ourselves: the restarted command's relay waits as a standby, so the
    // user's events stay unpublished until after the erasure.
    await side.command.close();
    const holder = new Client({ connectionString: side.config.postgresUrl });
    await holder.connect();
    try {
      expect(await tryBecomeOutboxRelay(holder)).toBe(true);
      side.command = await startCommand(side.config, silentLogger);
      await side.ingest.trackBatch({ events: [1, 2, 3].map((i) => ({ eventId: `never-${i}`, userId: 'unpublished', itemId: 'item-1', type: EventType.VIEW })) });
      expect(await side.unpublished('unpublished')).toBe(3);
      expect((await side.catalog.forgetUser({ userId: 'unpublished' })).eventsErased).toBe(3n);
      expect(await side.unpublished('unpublished')).toBe(1);
    } finally {
      await holder.end();
    }
    await eventually(async () => onKafka('unpublished', 'userForgotten').length, { what: 'UserForgotten on Kafka' });
    expect(side.topic.messages.filter((message) => eventIdOf(message).startsWith('never-'))).toEqual([]);
  });

  it.each([
    ['DeleteItem with an empty item_id', () => side.catalog.deleteItem({ itemId: '' }), 'item_id: must not be empty'],
    ['DeleteItem with a control character', () => side.catalog.deleteItem({ itemId: 'a\u0007b' }), 'item_id: must not contain control characters'],
    ['ForgetUser with an empty user_id', () => side.catalog.forgetUser({ userId: '' }), 'user_id: must not be empty'],
    ['ForgetUser with a 257-character user_id', () => side.catalog.forgetUser({ userId: 'u'.repeat(257) }), 'user_id: must be at most 256 characters'],
  ])('when %s, the call is refused INVALID_ARGUMENT and nothing is written', async (_case, call, details) => {
    const counts = async () => [await side.count('events'), await side.count('items'), await side.count('deleted_items'), await side.lastSequence()];
    const before = await counts();
    await expect(call()).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details });
    expect(await counts()).toEqual(before);
  });
});
