import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { rmSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { pino } from 'pino';
import { readConfig, type OrreryConfig } from '@orrery/config';
import { status } from '@orrery/grpc';
import { CommandReplySchema, CommandRequestSchema, EventSchema, EventType, ItemSchema, type CommandRequest, type Event } from '@orrery/proto';
import { appendEvents, COMMIT_ORDER_LOCK, readRelayPosition, readUnpublished, upsertItems } from '@orrery/store';
import { createTestDatabase, createTestTopic, deleteTestTopic, dropTestDatabase, eventually, uniqueName } from '@orrery/testing';
import { ZmqRequestClient } from '@orrery/zmq';
import { readPublishedTails, SEQUENCE_HEADER } from '../src/published-tails';
import { startCommand, type RunningCommand } from '../src/service';
import { collectTopic, eventIdOf, type CollectedMessage, type TopicCollector } from './kafka-collector';

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

describe('outbox relay restarting with a backlog', () => {
  let config: OrreryConfig;
  let command: RunningCommand | undefined;
  let client: ZmqRequestClient | undefined;
  let topic: TopicCollector;
  let db: Client;
  let kafka: Kafka;

  beforeEach(async () => {
    const [postgresUrl, eventsTopic] = await Promise.all([createTestDatabase(), createTestTopic(2)]);
    config = { ...readConfig(), postgresUrl, eventsTopic, eventsTopicPartitions: 2, commandZmqEndpoint: `ipc:///tmp/${uniqueName('orrery-command')}`, outboxPollIntervalMs: 200 };
    kafka = new Kafka({ clientId: 'relay-restart-test', brokers: [...config.kafkaBrokers], logLevel: logLevel.NOTHING });
    topic = await collectTopic(eventsTopic);
    await startCommandService();
    db = new Client({ connectionString: postgresUrl });
    await db.connect();
  });
  afterEach(async () => {
    await stopCommandService();
    await topic?.stop();
    await db?.end();
    if (config) {
      await Promise.all([dropTestDatabase(config.postgresUrl), deleteTestTopic(config.eventsTopic)]);
      rmSync(config.commandZmqEndpoint.replace('ipc://', ''), { force: true });
    }
  });

  async function startCommandService(): Promise<void> {
    command = await startCommand(config, logger);
    client = new ZmqRequestClient({ endpoint: config.commandZmqEndpoint, name: 'command', timeoutMs: 10_000 });
  }
  async function stopCommandService(): Promise<void> {
    await client?.close();
    await command?.close();
    [client, command] = [undefined, undefined];
  }
  /** `count` events spread over 8 users, appended through the command service. */
  async function appendThroughCommand(prefix: string, count: number): Promise<string[]> {
    const ids = Array.from({ length: count }, (_, index) => `${prefix}-${index}`);
    const request = create(CommandRequestSchema, { command: { case: 'appendEvents', value: { events: ids.map((id, index) => event(id, `user-${index % 8}`)) } } });
    await client!.request(toBinary(CommandRequestSchema, request));
    return ids;
  }
  const lastSequence = async (): Promise<bigint> => BigInt((await db.query<{ last: string }>('SELECT max(sequence)::text AS last FROM events')).rows[0]!.last);
  /** Waits until the relay has published every committed fact and the collector has read the whole topic. */
  async function relayCaughtUp(): Promise<void> {
    const last = await lastSequence();
    await eventually(async () => BigInt(await readRelayPosition(db)), { accept: (position) => position === last, what: `relay position at ${last}` });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const onTopic = (await admin.fetchTopicOffsets(config.eventsTopic)).reduce((sum, partition) => sum + Number(partition.high), 0);
      await eventually(async () => topic.messages.length, { accept: (read) => read === onTopic, what: `the collector to read all ${onTopic} messages` });
    } finally {
      await admin.disconnect();
    }
  }
  /** How many times each of `ids` is on the topic. */
  const copiesOnTopic = (ids: readonly string[]): Record<string, number> =>
    Object.fromEntries(ids.map((id) => [id, topic.messages.filter((message) => eventIdOf(message) === id).length]));
  const once = (ids: readonly string[]): Record<string, number> => Object.fromEntries(ids.map((id) => [id, 1]));

  it('when the position is moved back over facts already on Kafka, a restarted relay skips them all and its position reaches the end', async () => {
    const ids = await appendThroughCommand('republished', 40);
    await relayCaughtUp();
    await stopCommandService();
    // What a relay killed after Kafka acknowledged its sends, before it recorded them, leaves behind.
    await db.query('UPDATE relay_position SET published_through = 0');
    expect(BigInt(await readRelayPosition(db))).toBe(0n);

    await startCommandService();
    await relayCaughtUp();
    expect(copiesOnTopic(ids)).toEqual(once(ids));
  });

  it('when only part of the backlog reached Kafka (one partition of the last send), a restarted relay publishes the rest once and skips what is there', async () => {
    const published = await appendThroughCommand('published', 32);
    await relayCaughtUp();
    await stopCommandService();
    const middle = (await db.query<{ sequence: string }>('SELECT sequence::text FROM events ORDER BY sequence LIMIT 1 OFFSET 15')).rows[0]!.sequence;

    // Committed while the relay was down: acknowledged, in the event store, not yet on Kafka.
    const pending = Array.from({ length: 32 }, (_, index) => `pending-${index}`);
    await db.query('BEGIN');
    await appendEvents(db, pending.map((id, index) => event(id, `user-${index % 8}`)), pending.map(() => ''));
    await db.query('COMMIT');
    // The crashed session's last send reached partition 0 only (Kafka appends each partition on its
    // own): partition 0 then ends past facts of partition 1 that never arrived.
    const { partitionOf } = await readPublishedTails(kafka, config.eventsTopic);
    const backlog = await readUnpublished(db, await readRelayPosition(db), 1_000);
    const sentBeforeCrash = backlog.filter((row) => partitionOf(row.key) === 0);
    const neverSent = backlog.filter((row) => partitionOf(row.key) === 1);
    expect(sentBeforeCrash.length).toBeGreaterThan(0);
    expect(neverSent.length).toBeGreaterThan(0);
    expect(BigInt(neverSent[0]!.sequence)).toBeLessThan(BigInt(sentBeforeCrash.at(-1)!.sequence));
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({
      topic: config.eventsTopic,
      acks: -1,
      messages: sentBeforeCrash.map((row) => ({ key: row.key, value: row.payload, partition: 0, headers: { [SEQUENCE_HEADER]: row.sequence } })),
    });
    await producer.disconnect();
    // And the position is behind even what was recorded: half of the earlier facts look unpublished too.
    await db.query('UPDATE relay_position SET published_through = $1', [middle]);

    await startCommandService();
    await relayCaughtUp();
    const all = [...published, ...pending];
    expect(copiesOnTopic(all)).toEqual(once(all));
    // Each partition holds its facts in sequence order.
    for (const partition of [0, 1]) {
      const sequences = topic.messages.filter((message) => message.partition === partition).map((message) => message.event.sequence);
      expect(sequences).toEqual([...sequences].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    }
  });

  it('when the event store lost its last commits that Kafka holds (restored from a backup, failed over to a lagging replica), new facts take sequences above them and are published', async () => {
    const survived = await appendThroughCommand('survived', 20);
    const lost = await appendThroughCommand('lost', 20);
    await relayCaughtUp();
    await stopCommandService();
    const lostOnKafka = topic.messages.filter((message) => eventIdOf(message).startsWith('lost-')).map((message) => message.event.sequence);
    const highestLost = lostOnKafka.reduce((max, sequence) => (sequence > max ? sequence : max), 0n);
    // The store as a backup taken before `lost` was committed (and before the relay recorded all of `survived`).
    const [lastSurvived, middle] = (await db.query<{ sequence: string }>("SELECT sequence::text FROM events WHERE event_id IN ('survived-19', 'survived-9') ORDER BY sequence DESC")).rows.map((row) => row.sequence);
    await db.query("DELETE FROM events WHERE event_id LIKE 'lost-%'");
    await db.query("SELECT setval('commit_sequence', $1)", [lastSurvived]);
    await db.query('UPDATE relay_position SET published_through = $1', [middle]);

    await startCommandService();
    // The relay's session start moves the store's sequence past what Kafka holds.
    await eventually(async () => BigInt((await db.query<{ last: string }>('SELECT last_value::text AS last FROM commit_sequence')).rows[0]!.last), {
      accept: (last) => last >= highestLost,
      what: `the sequence past ${highestLost}`,
    });
    const after = await appendThroughCommand('after', 20);
    await relayCaughtUp();
    // Acknowledged after the restore: on Kafka, once each, above every lost sequence (a consumer
    // would take a reused one for a copy); what the store still has is there (resent or not).
    expect(copiesOnTopic(after)).toEqual(once(after));
    const afterOnKafka = topic.messages.filter((message) => eventIdOf(message).startsWith('after-')).map((message) => message.event.sequence);
    expect(afterOnKafka.every((sequence) => sequence > highestLost)).toBe(true);
    expect(Object.values(copiesOnTopic(survived)).every((copies) => copies >= 1)).toBe(true);
    expect(copiesOnTopic(lost)).toEqual(once(lost));
  });

  /**
   * What a consumer with per-partition watermarks (the projector) applies: a message only above the
   * highest sequence it applied from its partition; the others it takes for copies.
   */
  function appliedByWatermarks(messages: readonly CollectedMessage[]): CollectedMessage[] {
    const watermarks = new Map<number, bigint>();
    return messages.filter((message) => {
      if (message.event.sequence <= (watermarks.get(message.partition) ?? -1n)) return false;
      watermarks.set(message.partition, message.event.sequence);
      return true;
    });
  }

  it('facts committed on a store that lost commits Kafka holds, before any relay session started there, take new sequences above the lost ones: a consumer applies each once', async () => {
    const survived = await appendThroughCommand('survived', 20);
    const lost = await appendThroughCommand('lost', 20);
    await relayCaughtUp();
    await stopCommandService();
    const highestLost = topic.messages.filter((message) => eventIdOf(message).startsWith('lost-')).reduce((max, message) => (message.event.sequence > max ? message.event.sequence : max), 0n);
    // A failover to a replica that had not received `lost` (nor the relay's last position updates)...
    const [lastSurvived, middle] = (await db.query<{ sequence: string }>("SELECT sequence::text FROM events WHERE event_id IN ('survived-19', 'survived-9') ORDER BY sequence DESC")).rows.map((row) => row.sequence);
    await db.query("DELETE FROM events WHERE event_id LIKE 'lost-%'");
    await db.query("SELECT setval('commit_sequence', $1)", [lastSurvived]);
    await db.query('UPDATE relay_position SET published_through = $1', [middle]);
    // ...where writers commit before any relay session starts: interactions and a catalog fact.
    const window = Array.from({ length: 16 }, (_, index) => `window-${index}`);
    const appendDirectly = async (ids: readonly string[]): Promise<void> => {
      await db.query('BEGIN');
      await appendEvents(db, ids.map((id, index) => event(id, `user-${index % 8}`)), ids.map(() => ''));
      await db.query('COMMIT');
    };
    await appendDirectly(window.slice(0, 8));
    await db.query('BEGIN');
    await db.query('SELECT pg_advisory_xact_lock($1, 0)', [COMMIT_ORDER_LOCK]);
    await upsertItems(db, [create(ItemSchema, { itemId: 'window-item', categories: ['books'] })], '');
    await db.query('COMMIT');
    await appendDirectly(window.slice(8));
    const windowSequences = async (): Promise<bigint[]> =>
      (await db.query<{ sequence: string }>("SELECT sequence::text FROM events WHERE event_id LIKE 'window-%' UNION ALL SELECT sequence::text FROM items WHERE item_id = 'window-item'")).rows.map((row) => BigInt(row.sequence));
    // They took sequences of lost commits: a consumer would take those for copies.
    expect((await windowSequences()).filter((sequence) => sequence <= highestLost)).toHaveLength(17);

    await startCommandService();
    await eventually(windowSequences, { accept: (sequences) => sequences.every((sequence) => sequence > highestLost), what: `the window's facts moved above ${highestLost}` });
    await relayCaughtUp();
    const applied = appliedByWatermarks(topic.messages);
    const appliedCopies = (ids: readonly string[]): Record<string, number> =>
      Object.fromEntries(ids.map((id) => [id, applied.filter((message) => eventIdOf(message) === id).length]));
    expect(appliedCopies(window)).toEqual(once(window));
    expect(appliedCopies(lost)).toEqual(once(lost));
    expect(appliedCopies(survived)).toEqual(once(survived));
    // The catalog fact too, and the item's stored state names the sequence it was published with.
    const itemFacts = applied.filter((message) => message.event.payload.case === 'itemUpserted' && message.event.payload.value.itemId === 'window-item');
    expect(itemFacts).toHaveLength(1);
    const stored = (await db.query<{ sequence: string }>("SELECT sequence::text FROM items WHERE item_id = 'window-item'")).rows[0]!.sequence;
    expect(itemFacts[0]!.event.sequence).toBe(BigInt(stored));
    // The window kept its commit order: window-0..7, the item, window-8..15.
    const inCommitOrder = (await db.query<{ sequence: string }>("SELECT sequence::text FROM events WHERE event_id LIKE 'window-%' ORDER BY substring(event_id from 8)::int")).rows.map((row) => BigInt(row.sequence));
    inCommitOrder.splice(8, 0, BigInt(stored));
    expect(inCommitOrder).toEqual([...inCommitOrder].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  });
});

describe('outbox relay and the retention of the events topic', () => {
  let postgresUrl: string;
  const topics: string[] = [];

  beforeAll(async () => {
    postgresUrl = await createTestDatabase();
  });
  afterAll(async () => {
    await Promise.all([dropTestDatabase(postgresUrl), ...topics.map((topic) => deleteTestTopic(topic))]);
  });

  interface LogLine {
    readonly level: number;
    readonly msg: string;
    readonly settings?: unknown;
    readonly partitions?: number;
    readonly configured?: number;
  }

  /** Starts the command service on `eventsTopic` (`partitions` configured) until its relay publishes; returns what it logged. */
  async function relayStartLog(eventsTopic: string, partitions = 2): Promise<LogLine[]> {
    const lines: LogLine[] = [];
    const capture = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const config = { ...readConfig(), postgresUrl, eventsTopic, eventsTopicPartitions: partitions, commandZmqEndpoint: `ipc:///tmp/${uniqueName('orrery-command')}`, outboxPollIntervalMs: 200 };
    const command = await startCommand(config, capture);
    try {
      await eventually(async () => lines.some((line) => line.msg === 'outbox relay: publishing'), { what: 'the relay to start publishing' });
    } finally {
      await command.close();
      rmSync(config.commandZmqEndpoint.replace('ipc://', ''), { force: true });
    }
    return lines;
  }
  const PINO_WARN = 40;
  const historyWarnings = (lines: readonly LogLine[]): LogLine[] => lines.filter((line) => line.level === PINO_WARN && line.msg.includes('deletes history'));
  const partitionWarnings = (lines: readonly LogLine[]): LogLine[] => lines.filter((line) => line.level === PINO_WARN && line.msg.includes('ORRERY_EVENTS_TOPIC_PARTITIONS'));

  it('when the events topic deletes history (a finite retention), the relay warns at start, naming the setting and the command that keeps it', async () => {
    const topic = await createTestTopic(2); // the broker default: a finite retention.ms
    topics.push(topic);
    const lines = await relayStartLog(topic);
    const [warning, ...more] = historyWarnings(lines);
    expect(more).toEqual([]);
    expect(partitionWarnings(lines)).toEqual([]);
    expect(warning?.settings).toEqual([{ name: 'retention.ms', value: expect.not.stringMatching(/^-1$/) }]);
    expect(warning?.msg).toContain(`--entity-name ${topic} --add-config retention.ms=-1,retention.bytes=-1`);
  });

  it('when the events topic has another partition count than configured, the relay warns at start and uses the topic as it is', async () => {
    const topic = await createTestTopic(3);
    topics.push(topic);
    const [warning, ...more] = partitionWarnings(await relayStartLog(topic, 2));
    expect(more).toEqual([]);
    expect(warning).toMatchObject({ partitions: 3, configured: 2 });
    expect(warning?.msg).toContain('the events topic has 3 partitions and ORRERY_EVENTS_TOPIC_PARTITIONS asks for 2');
  });

  it('when the relay creates the events topic, it keeps the whole history and the relay does not warn', async () => {
    const topic = uniqueName('orrery-test-relay').replace(/_/g, '-');
    topics.push(topic);
    expect(historyWarnings(await relayStartLog(topic))).toEqual([]);
  });
});
