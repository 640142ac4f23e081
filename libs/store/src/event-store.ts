import type { ClientBase, Pool } from 'pg';
import type { Event } from '@orrery/proto';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import { firstOccurrences } from './dedupe';
import { storedEventType } from './event-types';
import { COMMIT_ORDER_LOCK } from './locks';

/**
 * Appends normalised events (event_id, type and occurred_at set) to the event store, each with the
 * trace context of the command that sent it (`traceparents[i]` for `events[i]`, '' when untraced).
 * The event store is also the outbox of interactions: the relay publishes these rows from its
 * position (004_events_as_outbox.sql). Returns one flag per input event: true when its event_id was
 * stored before (by an earlier transaction or earlier in this batch).
 *
 * One statement, so on a pool it is its own transaction (one round trip); on a client inside a
 * transaction it joins it. It takes the commit-order lock before any row draws its sequence.
 */
export async function appendEvents(db: ClientBase | Pool, events: readonly Event[], traceparents: readonly string[]): Promise<boolean[]> {
  if (events.length === 0) return [];
  if (traceparents.length !== events.length) throw new Error(`appendEvents: ${traceparents.length} traceparents for ${events.length} events`);
  const uniqueIndexes = firstOccurrences(events.map((event) => event.eventId));
  const unique = uniqueIndexes.map((index) => events[index]!);

  // The lock is an InitPlan (an uncorrelated subquery), run once before the first row is produced,
  // so before any nextval. ON CONFLICT tells which ids were already stored (they are not RETURNed).
  // ORDER BY ord makes sequences follow the request order. A named statement (prepared once per
  // connection): planning it cost more than running it for a few dozen events.
  const inserted = await db.query<{ event_id: string }>({
    name: 'orrery-append-events',
    text: `INSERT INTO events (event_id, user_id, item_id, type, value, occurred_at, context, traceparent)
     SELECT event_id, user_id, item_id, type, value, occurred_at, context, traceparent
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::timestamptz[], $7::jsonb[], $8::text[])
            WITH ORDINALITY AS t(event_id, user_id, item_id, type, value, occurred_at, context, traceparent, ord)
      WHERE (SELECT pg_advisory_xact_lock($9, 0)) IS NOT NULL
      ORDER BY ord
     ON CONFLICT (event_id) DO NOTHING
     RETURNING event_id`,
    values: [
      unique.map((event) => event.eventId),
      unique.map((event) => event.userId),
      unique.map((event) => event.itemId),
      unique.map((event) => storedEventType(event.type)),
      unique.map((event) => event.value),
      unique.map((event) => occurredAt(event).toISOString()),
      unique.map((event) => JSON.stringify(event.context)),
      uniqueIndexes.map((index) => traceparents[index]!),
      COMMIT_ORDER_LOCK,
    ],
  });
  const stored = new Set(inserted.rows.map((row) => row.event_id));

  const firstIndex = new Map<string, number>();
  events.forEach((event, index) => {
    if (!firstIndex.has(event.eventId)) firstIndex.set(event.eventId, index);
  });
  return events.map((event, index) => !(firstIndex.get(event.eventId) === index && stored.has(event.eventId)));
}

function occurredAt(event: Event): Date {
  if (!event.occurredAt) throw new Error(`event ${event.eventId} has no occurred_at (ingestion sets it)`);
  return timestampDate(event.occurredAt);
}
