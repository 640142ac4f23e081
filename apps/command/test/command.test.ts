import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { rmSync } from 'node:fs';
import { Client } from 'pg';
import { pino } from 'pino';
import { readConfig, type OrreryConfig } from '@orrery/config';
import { status } from '@orrery/grpc';
import { CommandReplySchema, CommandRequestSchema, EventSchema, EventType, type CommandRequest, type Event } from '@orrery/proto';
import { appendEvents, COMMIT_ORDER_LOCK, readRelayPosition } from '@orrery/store';
import { createTestDatabase, createTestTopic, deleteTestTopic, dropTestDatabase, eventually, uniqueName } from '@orrery/testing';
import { ZmqRequestClient } from '@orrery/zmq';
import { startCommand, type RunningCommand } from '../src/service';
import { collectTopic, eventIdOf, type TopicCollector } from './kafka-collector';

const logger = pino({ level: 'silent' });

function event(eventId: string, userId: string): Event {
  return create(EventSchema, { eventId, userId, itemId: 'item-1', type: EventType.VIEW, value: 1, occurredAt: timestampFromMs(Date.now()) });
}

describe('command service', () => {
  let config: OrreryConfig;
  let command: RunningCommand;
  let client: ZmqRequestClient;
  let topic: TopicCollector;

  const send = async (init: CommandRequest) => fromBinary(CommandReplySchema, await client.request(toBinary(CommandRequestSchema, init)));
  const published = (eventId: string) => topic.messages.filter((message) => eventIdOf(message) === eventId);

  beforeAll(async () => {
    const [postgresUrl, eventsTopic] = await Promise.all([createTestDatabase(), createTestTopic(2)]);
    config = { ...readConfig(), postgresUrl, eventsTopic, eventsTopicPartitions: 2, commandZmqEndpoint: `ipc:///tmp/${uniqueName('orrery-command')}`, outboxPollIntervalMs: 200 };
    command = await startCommand(config, logger);
    client = new ZmqRequestClient({ endpoint: config.commandZmqEndpoint, name: 'command', timeoutMs: 10_000 });
    topic = await collectTopic(eventsTopic);
  });
  afterAll(async () => {
    await client?.close();
    await topic?.stop();
    await command?.close();
    if (config) {
      await Promise.all([dropTestDatabase(config.postgresUrl), deleteTestTopic(config.eventsTopic)]);
      rmSync(config.commandZmqEndpoint.replace('ipc://', ''), { force: true });
    }
  });

  it('when a command repeats an event id, the event is committed and published once', async () => {
    const first = await send(create(CommandRequestSchema, { command: { case: 'appendEvents', value: { events: [event('c-1', 'u-1'), event('c-2', 'u-1'), event('c-1', 'u-1')] } } }));
    expect(first.duplicates).toEqual([false, false, true]);
    const second = await send(create(CommandRequestSchema, { command: { case: 'appendEvents', value: { events: [event('c-2', 'u-1'), event('c-3', 'u-1')] } } }));
    expect(second.duplicates).toEqual([true, false]);
    // c-3 is the same user's (same partition) latest event: once it is in, anything before it is too.
    await eventually(async () => published('c-3').length, { what: 'c-3 on Kafka' });
    expect(published('c-1')).toHaveLength(1);
    expect(published('c-2')).toHaveLength(1);
    const sequences = ['c-1', 'c-2', 'c-3'].map((id) => published(id)[0]!.event.sequence);
    expect([...sequences].sort((a, b) => (a < b ? -1 : 1))).toEqual(sequences);
  });

  it('when items and users are upserted, the current state is stored and each change is published under its key', async () => {
    const items = await send(create(CommandRequestSchema, { command: { case: 'upsertItems', value: { items: [{ itemId: 'i-1', categories: ['books'], hidden: true }] } } }));
    const users = await send(create(CommandRequestSchema, { command: { case: 'upsertUsers', value: { users: [{ userId: 'u-9', attributes: { country: 'NZ' } }] } } }));
    expect([items.applied, users.applied]).toEqual([1, 1]);
    const [item, user] = await eventually(
      async () => [topic.messages.find((message) => message.key === 'item:i-1'), topic.messages.find((message) => message.key === 'u-9')] as const,
      { accept: ([i, u]) => Boolean(i && u), what: 'catalog changes on Kafka' },
    );
    expect(item!.event.payload.case === 'itemUpserted' && item!.event.payload.value.hidden).toBe(true);
    expect(user!.event.payload.case === 'userUpserted' && user!.event.payload.value.attributes).toEqual({ country: 'NZ' });
    const db = new Client({ connectionString: config.postgresUrl });
    await db.connect();
    const stored = await db.query<{ hidden: boolean }>("SELECT hidden FROM items WHERE item_id = 'i-1'");
    await db.end();
    expect(stored.rows).toEqual([{ hidden: true }]);
  });

  it('when a payload is not a command, it is refused with INVALID_ARGUMENT and the service keeps serving', async () => {
    await expect(client.request(Buffer.from([0xff, 0xff, 0xff]))).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    await expect(send(create(CommandRequestSchema, {}))).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, message: 'command: must be set' });
    expect((await send(create(CommandRequestSchema, { command: { case: 'appendEvents', value: { events: [event('c-after', 'u-2')] } } }))).duplicates).toEqual([false]);
  });

  it('when a writer is still committing, the next one waits for it, so sequences commit in order and the relay skips none', async () => {
    const early = new Client({ connectionString: config.postgresUrl });
    const late = new Client({ connectionString: config.postgresUrl });
    const observer = new Client({ connectionString: config.postgresUrl });
    await Promise.all([early.connect(), late.connect(), observer.connect()]);
    try {
      await early.query('BEGIN');
      await appendEvents(early, [event('gap-early', 'u-early')], ['']);
      await late.query('BEGIN');
      const lateAppend = appendEvents(late, [event('gap-late', 'u-late')], ['']);
      // The later writer is blocked on the commit-order lock before it draws a sequence.
      await eventually(
        async () => (await observer.query<{ waiting: number }>("SELECT count(*)::int AS waiting FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND classid = $1", [COMMIT_ORDER_LOCK])).rows[0]!.waiting,
        { accept: (waiting) => waiting === 1, what: 'the later writer waiting on the commit-order lock' },
      );
      await early.query('COMMIT');
      await lateAppend;
      await late.query('COMMIT');
      const [earlyMessage] = await eventually(async () => published('gap-early'), { accept: (found) => found.length > 0, what: 'the earlier sequence on Kafka' });
      const [lateMessage] = await eventually(async () => published('gap-late'), { accept: (found) => found.length > 0, what: 'the later sequence on Kafka' });
      expect(earlyMessage!.event.sequence).toBeLessThan(lateMessage!.event.sequence);
      // The relay's position reaches the last fact: nothing stays unpublished.
      await eventually(async () => readRelayPosition(observer), { accept: (position) => BigInt(position) >= lateMessage!.event.sequence, what: 'the relay position past the later event' });
    } finally {
      await Promise.all([early.end(), late.end(), observer.end()]);
    }
  });
});
