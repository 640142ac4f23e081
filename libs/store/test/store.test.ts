import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Pool } from 'pg';
import { decodeDomainEvent } from '@orrery/kafka';
import { EventSchema, EventType, ItemSchema, type Event } from '@orrery/proto';
import { createTestDatabase, dropTestDatabase } from '@orrery/testing';
import { appendEvents, createPool, inTransaction, migrate, readRelayPosition, readUnpublished, takeUnpublished, upsertItems } from '../src/index';

const logger = pino({ level: 'silent' });

function event(eventId: string, userId = 'user-1'): Event {
  return create(EventSchema, { eventId, userId, itemId: 'item-1', type: EventType.CLICK, value: 1, occurredAt: timestampFromMs(Date.parse('2025-01-01T00:00:00Z')), context: { page: 'home "quoted" \\ back' } });
}

describe('Postgres store', () => {
  let databaseUrl: string;
  let pool: Pool;

  beforeAll(async () => {
    databaseUrl = await createTestDatabase();
    pool = createPool({ postgresUrl: databaseUrl }, logger);
  });
  afterAll(async () => {
    await pool.end();
    await dropTestDatabase(databaseUrl);
  });

  /** The last commit_sequence value allocated (facts written after it have higher sequences). */
  const lastSequence = async (): Promise<string> => (await pool.query<{ last: string }>('SELECT last_value::text AS last FROM commit_sequence')).rows[0]!.last;

  it('when two processes migrate at once, every migration is applied exactly once', async () => {
    const other = createPool({ postgresUrl: databaseUrl }, logger);
    const [first, second] = await Promise.all([migrate(pool), migrate(other)]);
    await other.end();
    expect([...first, ...second].sort()).toEqual(expect.arrayContaining(['001_event_store.sql']));
    expect([...first, ...second].filter((name) => name === '001_event_store.sql')).toHaveLength(1);
    expect(await migrate(pool)).toEqual([]);
    const recorded = await pool.query<{ version: string }>('SELECT version FROM schema_migrations ORDER BY version');
    expect(recorded.rows.map((row) => row.version)).toContain('001_event_store.sql');
  });

  it('when an applied migration file was edited, migrating refuses to start', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'orrery-migrations-'));
    await writeFile(join(directory, '001_a.sql'), 'CREATE TABLE migration_probe (id int);');
    expect(await migrate(pool, { directory })).toEqual(['001_a.sql']);
    await writeFile(join(directory, '001_a.sql'), 'CREATE TABLE migration_probe (id bigint);');
    await writeFile(join(directory, '002_b.sql'), 'CREATE TABLE migration_probe_2 (id int);');
    await expect(migrate(pool, { directory })).rejects.toThrow(/001_a.sql changed/);
    await rm(directory, { recursive: true });
  });

  it('when a batch repeats an event id, it is stored once and flagged as a duplicate the second time', async () => {
    const duplicates = await inTransaction(pool, (tx) => appendEvents(tx, [event('s-1'), event('s-2'), event('s-1')], ['tp', 'tp', 'tp']));
    expect(duplicates).toEqual([false, false, true]);
    const again = await inTransaction(pool, (tx) => appendEvents(tx, [event('s-2'), event('s-3')], ['', '']));
    expect(again).toEqual([true, false]);
    const stored = await pool.query<{ event_id: string; context: Record<string, string> }>("SELECT event_id, context FROM events WHERE event_id LIKE 's-%' ORDER BY sequence");
    expect(stored.rows.map((row) => row.event_id)).toEqual(['s-1', 's-2', 's-3']);
    expect(stored.rows[0]!.context).toEqual({ page: 'home "quoted" \\ back' });
  });

  it('when events and items are written, the relay reads each once in sequence order with its key and trace: events from the event store, catalog changes from the outbox', async () => {
    const start = await lastSequence();
    await inTransaction(pool, (tx) => appendEvents(tx, [event('o-1', 'user-7')], ['00-0123456789abcdef0123456789abcdef-0123456789abcdef-01']));
    await inTransaction(pool, (tx) => upsertItems(tx, [create(ItemSchema, { itemId: 'item-9', categories: ['a'] }), create(ItemSchema, { itemId: 'item-9', categories: ['b'] })], ''));
    await appendEvents(pool, [event('o-2', 'user-8')], ['']);
    const rows = await readUnpublished(pool, start, 1_000);
    expect(rows.map((row) => row.key)).toEqual(['user-7', 'item:item-9', 'user-8']);
    expect(rows.map((row) => BigInt(row.sequence))).toEqual(rows.map((row) => decodeDomainEvent(row.payload).sequence));
    expect([...rows.map((row) => BigInt(row.sequence))].sort((a, b) => (a < b ? -1 : 1))).toEqual(rows.map((row) => BigInt(row.sequence)));

    const [interaction, item] = [decodeDomainEvent(rows[0]!.payload), decodeDomainEvent(rows[1]!.payload)];
    const stored = await pool.query<{ sequence: string }>("SELECT sequence FROM events WHERE event_id = 'o-1'");
    expect(rows[0]!.sequence).toBe(stored.rows[0]!.sequence);
    expect(rows[0]!.traceparent).toBe('00-0123456789abcdef0123456789abcdef-0123456789abcdef-01');
    expect(interaction.payload.case === 'interaction' && interaction.payload.value).toMatchObject({
      eventId: 'o-1',
      userId: 'user-7',
      itemId: 'item-1',
      type: EventType.CLICK,
      value: 1,
      occurredAt: { seconds: BigInt(Date.parse('2025-01-01T00:00:00Z') / 1000), nanos: 0 },
      context: { page: 'home "quoted" \\ back' },
    });
    expect(interaction.committedAt?.seconds).toBeGreaterThan(0n);
    expect(item.payload.case === 'itemUpserted' && item.payload.value.categories).toEqual(['b']);
    const state = await pool.query<{ categories: string[] }>("SELECT categories FROM items WHERE item_id = 'item-9'");
    expect(state.rows[0]!.categories).toEqual(['b']);
  });

  it('when the relay records a position, later reads start after it and the published outbox rows are gone', async () => {
    const start = await lastSequence();
    await inTransaction(pool, (tx) => upsertItems(tx, [create(ItemSchema, { itemId: 'item-p1' })], ''));
    await appendEvents(pool, [event('p-1')], ['']);
    const [first, second] = await readUnpublished(pool, start, 1_000);
    const client = await pool.connect();
    try {
      expect(await takeUnpublished(client, first!.sequence, first!.sequence, 1_000)).toEqual([second]);
    } finally {
      client.release();
    }
    expect(await readRelayPosition(pool)).toBe(first!.sequence);
    expect((await pool.query('SELECT count(*)::int AS n FROM outbox WHERE sequence <= $1', [first!.sequence])).rows[0].n).toBe(0);
  });
});
