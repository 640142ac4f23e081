import { create } from '@bufbuild/protobuf';
import { timestampDate, timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { ClientBase } from 'pg';
import { domainEventKey } from '@orrery/kafka';
import { DomainEventSchema, type DomainEvent, type Event } from '@orrery/proto';
import { firstOccurrences } from './dedupe';
import { storedEventType } from './event-types';
import { lockPartitionKeys } from './locks';
import { insertOutbox } from './outbox';

/**
 * Appends normalised events (event_id, type and occurred_at set) to the event store in the caller's
 * transaction, with one outbox row per newly stored event carrying the trace context of the command
 * that sent it (`traceparents[i]` for `events[i]`, '' when untraced). Returns one flag per input
 * event: true when its event_id was stored before (by an earlier transaction or earlier in this batch).
 */
export async function appendEvents(tx: ClientBase, events: readonly Event[], traceparents: readonly string[]): Promise<boolean[]> {
  if (events.length === 0) return [];
  if (traceparents.length !== events.length) throw new Error(`appendEvents: ${traceparents.length} traceparents for ${events.length} events`);
  const uniqueIndexes = firstOccurrences(events.map((event) => event.eventId));
  const unique = uniqueIndexes.map((index) => events[index]!);
  const domainEvents = unique.map((event) => create(DomainEventSchema, { payload: { case: 'interaction', value: event } }));
  const traceparentOf = new Map(domainEvents.map((domainEvent, index) => [domainEvent, traceparents[uniqueIndexes[index]!]!]));
  await lockPartitionKeys(tx, domainEvents.map(domainEventKey));

  // One statement for the whole batch; ON CONFLICT tells which ids were already stored (they are
  // not RETURNed). ORDER BY ord makes sequences follow the request order.
  const inserted = await tx.query<{ sequence: string; event_id: string; recorded_at: Date }>(
    `INSERT INTO events (event_id, user_id, item_id, type, value, occurred_at, context)
     SELECT event_id, user_id, item_id, type, value, occurred_at, context
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::timestamptz[], $7::jsonb[])
            WITH ORDINALITY AS t(event_id, user_id, item_id, type, value, occurred_at, context, ord)
      ORDER BY ord
     ON CONFLICT (event_id) DO NOTHING
     RETURNING sequence, event_id, recorded_at`,
    [
      unique.map((event) => event.eventId),
      unique.map((event) => event.userId),
      unique.map((event) => event.itemId),
      unique.map((event) => storedEventType(event.type)),
      unique.map((event) => event.value),
      unique.map((event) => occurredAt(event).toISOString()),
      unique.map((event) => JSON.stringify(event.context)),
    ],
  );
  const stored = new Map(inserted.rows.map((row) => [row.event_id, row]));

  const outbox: DomainEvent[] = [];
  domainEvents.forEach((domainEvent, index) => {
    const row = stored.get(unique[index]!.eventId);
    if (!row) return;
    domainEvent.sequence = BigInt(row.sequence);
    domainEvent.committedAt = timestampFromDate(row.recorded_at);
    outbox.push(domainEvent);
  });
  outbox.sort((a, b) => (a.sequence < b.sequence ? -1 : a.sequence > b.sequence ? 1 : 0));
  await insertOutbox(tx, outbox, outbox.map((domainEvent) => traceparentOf.get(domainEvent)!));

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
