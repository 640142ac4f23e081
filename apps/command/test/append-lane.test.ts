import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { Pool } from 'pg';
import { pino } from 'pino';
import { EventSchema, EventType, type Event } from '@orrery/proto';
import { createPool, migrate } from '@orrery/store';
import { createTestDatabase, dropTestDatabase } from '@orrery/testing';
import { appendLane } from '../src/append-lane';

const logger = pino({ level: 'silent' });

function event(eventId: string, userId = 'lane-user'): Event {
  return create(EventSchema, { eventId, userId, itemId: 'item-1', type: EventType.VIEW, value: 1, occurredAt: timestampFromMs(Date.now()) });
}

describe('append lane (group commit)', () => {
  let databaseUrl: string;
  let pool: Pool;

  beforeAll(async () => {
    databaseUrl = await createTestDatabase();
    pool = createPool({ postgresUrl: databaseUrl }, logger);
    await migrate(pool);
  });
  afterAll(async () => {
    await pool.end();
    await dropTestDatabase(databaseUrl);
  });

  /** The transaction id that wrote each event (rows written by one transaction share it). */
  const writers = async (ids: string[]): Promise<Map<string, string>> => {
    const rows = await pool.query<{ event_id: string; xmin: string }>('SELECT event_id, xmin::text FROM events WHERE event_id = ANY($1)', [ids]);
    return new Map(rows.rows.map((row) => [row.event_id, row.xmin]));
  };

  it('when appends arrive while one is committing, they commit together next and each gets its own duplicate flags', async () => {
    const append = appendLane(pool, 1_000);
    const [first, second, third] = await Promise.all([
      append([event('g-1')], ''),
      append([event('g-2'), event('g-1')], ''),
      append([event('g-3'), event('g-2')], ''),
    ]);
    expect([first, second, third]).toEqual([[false], [false, true], [false, true]]);
    const writer = await writers(['g-1', 'g-2', 'g-3']);
    expect(writer.get('g-2')).toBe(writer.get('g-3'));
    expect(writer.get('g-1')).not.toBe(writer.get('g-2'));
  });

  it('when a merged transaction would exceed the event limit, the rest waits for the next one', async () => {
    const append = appendLane(pool, 2);
    await Promise.all([append([event('m-1')], ''), append([event('m-2'), event('m-3')], ''), append([event('m-4')], '')]);
    const writer = await writers(['m-1', 'm-2', 'm-3', 'm-4']);
    expect(new Set(writer.values()).size).toBe(3);
    expect(writer.get('m-2')).toBe(writer.get('m-3'));
  });

  it('when Postgres refuses the data of one merged command, only that command fails and the others commit', async () => {
    const append = appendLane(pool, 1_000);
    const outcomes = await Promise.allSettled([append([event('r-1')], ''), append([event('r-2')], ''), append([event('')], ''), append([event('r-3')], '')]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect([...(await writers(['r-1', 'r-2', 'r-3'])).keys()].sort()).toEqual(['r-1', 'r-2', 'r-3']);
    expect((await pool.query("SELECT count(*)::int AS n FROM events WHERE event_id = ''")).rows[0].n).toBe(0);
  });
});
