import { create } from '@bufbuild/protobuf';
import { timestampDate, timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { ClientBase } from 'pg';
import { DomainEventSchema, type DomainEvent, type Item, type User } from '@orrery/proto';
import { lastOccurrences } from './dedupe';
import { lockCommitOrder } from './locks';
import { insertOutbox } from './outbox';

/**
 * Writes the current state of each item (full replace; the last of repeated ids wins) and one
 * item_upserted outbox row per item, in the caller's transaction. Returns how many entries it applied.
 */
export async function upsertItems(tx: ClientBase, items: readonly Item[], traceparent: string): Promise<number> {
  if (items.length === 0) return 0;
  const latest = lastOccurrences(items.map((item) => item.itemId)).map((index) => items[index]!);
  const domainEvents = latest.map((item) => create(DomainEventSchema, { payload: { case: 'itemUpserted', value: item } }));
  const committedAt = await prepare(tx, domainEvents);
  // Upserting a deleted item re-adds it.
  await tx.query('DELETE FROM deleted_items WHERE item_id = ANY($1::text[])', [latest.map((item) => item.itemId)]);
  await tx.query(
    `INSERT INTO items (item_id, categories, tags, attributes, published_at, hidden, sequence, updated_at)
     SELECT r.item_id, ARRAY(SELECT jsonb_array_elements_text(r.categories)), ARRAY(SELECT jsonb_array_elements_text(r.tags)),
            r.attributes, r.published_at, r.hidden, r.sequence, now()
       FROM jsonb_to_recordset($1::jsonb)
            AS r(item_id text, categories jsonb, tags jsonb, attributes jsonb, published_at timestamptz, hidden boolean, sequence bigint)
     ON CONFLICT (item_id) DO UPDATE
        SET categories = excluded.categories, tags = excluded.tags, attributes = excluded.attributes,
            published_at = excluded.published_at, hidden = excluded.hidden, sequence = excluded.sequence, updated_at = excluded.updated_at`,
    [
      JSON.stringify(
        latest.map((item, index) => ({
          item_id: item.itemId,
          categories: item.categories,
          tags: item.tags,
          attributes: item.attributes,
          published_at: item.publishedAt ? timestampDate(item.publishedAt).toISOString() : null,
          hidden: item.hidden,
          sequence: domainEvents[index]!.sequence.toString(),
        })),
      ),
    ],
  );
  await insertOutbox(tx, stamp(domainEvents, committedAt), traceparent);
  return items.length;
}

/**
 * Writes the current state of each user (full replace; the last of repeated ids wins) and one
 * user_upserted outbox row per user, in the caller's transaction. Returns how many entries it applied.
 */
export async function upsertUsers(tx: ClientBase, users: readonly User[], traceparent: string): Promise<number> {
  if (users.length === 0) return 0;
  const latest = lastOccurrences(users.map((user) => user.userId)).map((index) => users[index]!);
  const domainEvents = latest.map((user) => create(DomainEventSchema, { payload: { case: 'userUpserted', value: user } }));
  const committedAt = await prepare(tx, domainEvents);
  await tx.query(
    `INSERT INTO users (user_id, attributes, sequence, updated_at)
     SELECT r.user_id, r.attributes, r.sequence, now()
       FROM jsonb_to_recordset($1::jsonb) AS r(user_id text, attributes jsonb, sequence bigint)
     ON CONFLICT (user_id) DO UPDATE
        SET attributes = excluded.attributes, sequence = excluded.sequence, updated_at = excluded.updated_at`,
    [JSON.stringify(latest.map((user, index) => ({ user_id: user.userId, attributes: user.attributes, sequence: domainEvents[index]!.sequence.toString() })))],
  );
  await insertOutbox(tx, stamp(domainEvents, committedAt), traceparent);
  return users.length;
}

/**
 * Removes an item from the catalog in the caller's transaction: deletes its row, keeps a tombstone
 * and writes an item_deleted outbox row. Returns true when the catalog had the item. An item only
 * seen in interactions is tombstoned and published too (projections drop it) but answers false;
 * deleting an already deleted item changes nothing.
 */
export async function deleteItem(tx: ClientBase, itemId: string, traceparent: string): Promise<boolean> {
  const domainEvent = create(DomainEventSchema, { payload: { case: 'itemDeleted', value: { itemId } } });
  const committedAt = await prepare(tx, [domainEvent]);
  const removed = await tx.query('DELETE FROM items WHERE item_id = $1', [itemId]);
  const tombstone = await tx.query('INSERT INTO deleted_items (item_id, sequence) VALUES ($1, $2) ON CONFLICT (item_id) DO NOTHING', [itemId, domainEvent.sequence.toString()]);
  const known = (removed.rowCount ?? 0) > 0;
  const fresh = (tombstone.rowCount ?? 0) > 0;
  // Already deleted and not re-added since: nothing to publish (the allocated sequence stays a gap, which the relay tolerates).
  if (!known && !fresh) return false;
  await insertOutbox(tx, stamp([domainEvent], committedAt), traceparent);
  return known;
}

/** Takes the commit-order lock, then allocates the events' sequences (in order) from the global commit sequence. */
async function prepare(tx: ClientBase, domainEvents: DomainEvent[]): Promise<Date> {
  await lockCommitOrder(tx);
  const allocated = await tx.query<{ sequence: string; now: Date }>(
    "SELECT nextval('commit_sequence') AS sequence, now() AS now FROM generate_series(1, $1::int) AS n ORDER BY n",
    [domainEvents.length],
  );
  domainEvents.forEach((domainEvent, index) => {
    domainEvent.sequence = BigInt(allocated.rows[index]!.sequence);
  });
  return allocated.rows[0]!.now;
}

function stamp(domainEvents: DomainEvent[], committedAt: Date): DomainEvent[] {
  const timestamp = timestampFromDate(committedAt);
  for (const domainEvent of domainEvents) domainEvent.committedAt = timestamp;
  return domainEvents;
}
