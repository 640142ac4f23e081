// The append lane's group commit against a real Postgres: commands that queued behind a running
// transaction commit together, and data the event store refuses fails only its own command.
import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { Pool } from 'pg';
import { EventSchema, EventType, type Event } from '@orrery/proto';
import { createPool, migrate } from '@orrery/store';
import { createLogger } from '@orrery/telemetry';
import { createTestDatabase, dropTestDatabase, uniqueName } from '@orrery/testing';
import { appendLane } from '../src/append-lane';

const logger = createLogger('append-lane-test', 'warn');
let url: string;
let pool: Pool;

const event = (eventId: string, userId = 'u1'): Event =>
  create(EventSchema, { eventId, userId, itemId: 'i1', type: EventType.VIEW, occurredAt: timestampFromMs(Date.now()) });
const stored = async (ids: readonly string[]): Promise<string[]> =>
  (await pool.query<{ event_id: string }>('SELECT event_id FROM events WHERE event_id = ANY($1) ORDER BY event_id', [ids])).rows.map((row) => row.event_id);

beforeAll(async () => {
  url = await createTestDatabase();
  pool = createPool({ postgresUrl: url }, logger);
  await migrate(pool, { logger });
});

afterAll(async () => {
  await pool.end();
  await dropTestDatabase(url);
});

describe('append lane', () => {
  it('when a command of a group holds data the event store refuses, only that command fails and its neighbours are committed', async () => {
    const id = uniqueName('lane');
    const append = appendLane(pool, 1_000);
    // The first command runs alone; the next three queue behind it and would commit as one transaction.
    const first = append([event(`${id}-a`)], ['']);
    const good = append([event(`${id}-b`)], ['']);
    // A NUL character is refused by Postgres text (SQLSTATE 22021), so the grouped transaction fails.
    const refused = append([event(`${id}-c`, 'bad\u0000user')], ['']);
    const alsoGood = append([event(`${id}-d`), event(`${id}-a`)], ['', '']);
    await expect(first).resolves.toEqual([false]);
    await expect(good).resolves.toEqual([false]);
    await expect(refused).rejects.toThrow();
    await expect(alsoGood).resolves.toEqual([false, true]);
    expect(await stored([`${id}-a`, `${id}-b`, `${id}-c`, `${id}-d`])).toEqual([`${id}-a`, `${id}-b`, `${id}-d`]);
  });
});
