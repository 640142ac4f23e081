import type { ClientBase, Pool } from 'pg';
import { domainEventKey, encodeDomainEvent } from '@orrery/kafka';
import type { DomainEvent } from '@orrery/proto';
import { OUTBOX_RELAY_LOCK } from './locks';

/** The channel a commit that wrote outbox rows notifies (trigger in 001_event_store.sql). */
export const OUTBOX_CHANNEL = 'orrery_outbox';

/** One committed domain event waiting to be published, as the relay reads it. */
export interface OutboxRow {
  /** DomainEvent.sequence, as Postgres returns a bigint. */
  readonly sequence: string;
  /** Kafka message key. */
  readonly key: string;
  /** Serialized DomainEvent: the Kafka message value. */
  readonly payload: Buffer;
  /** Trace context of the command that wrote it ('' when untraced). */
  readonly traceparent: string;
}

/**
 * Writes one outbox row per domain event (which must carry its sequence) in the caller's transaction,
 * with the trace context of the command that wrote it: one traceparent for all, or one per event.
 */
export async function insertOutbox(tx: ClientBase, events: readonly DomainEvent[], traceparent: string | readonly string[]): Promise<void> {
  if (events.length === 0) return;
  await tx.query(
    `INSERT INTO outbox (sequence, partition_key, payload, traceparent)
     SELECT * FROM unnest($1::bigint[], $2::text[], $3::bytea[], $4::text[])`,
    [
      events.map((event) => event.sequence.toString()),
      events.map(domainEventKey),
      events.map(encodeDomainEvent),
      typeof traceparent === 'string' ? events.map(() => traceparent) : traceparent,
    ],
  );
}

/** The oldest `limit` committed outbox rows, in sequence order. */
export async function readOutbox(client: ClientBase, limit: number): Promise<OutboxRow[]> {
  const result = await client.query<{ sequence: string; partition_key: string; payload: Buffer; traceparent: string }>(
    'SELECT sequence, partition_key, payload, traceparent FROM outbox ORDER BY sequence LIMIT $1',
    [limit],
  );
  return result.rows.map((row) => ({ sequence: row.sequence, key: row.partition_key, payload: row.payload, traceparent: row.traceparent }));
}

/**
 * One round trip of the relay: deletes the rows it published (`published`) and reads the oldest
 * `limit` committed rows other than `exclude` (rows being published right now, and the deleted
 * ones, which this statement's snapshot still sees), in sequence order.
 */
export async function takeOutbox(client: ClientBase, published: readonly string[], exclude: readonly string[], limit: number): Promise<OutboxRow[]> {
  const result = await client.query<{ sequence: string; partition_key: string; payload: Buffer; traceparent: string }>(
    `WITH published AS (DELETE FROM outbox WHERE sequence = ANY($1::bigint[]))
     SELECT sequence, partition_key, payload, traceparent FROM outbox WHERE sequence <> ALL($2::bigint[]) ORDER BY sequence LIMIT $3`,
    [published, exclude, limit],
  );
  return result.rows.map((row) => ({ sequence: row.sequence, key: row.partition_key, payload: row.payload, traceparent: row.traceparent }));
}

/** Removes published rows. */
export async function deleteOutbox(client: ClientBase, sequences: readonly string[]): Promise<void> {
  if (sequences.length === 0) return;
  await client.query('DELETE FROM outbox WHERE sequence = ANY($1::bigint[])', [sequences]);
}

/** Tries to become the one relay (session lock, released when the connection closes); true when it is. */
export async function tryBecomeOutboxRelay(client: ClientBase): Promise<boolean> {
  const result = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, 0) AS locked', [OUTBOX_RELAY_LOCK]);
  return result.rows[0]?.locked === true;
}

/** How far the relay is behind: committed rows not yet published, and the age of the oldest (0 when none). */
export async function readOutboxLag(client: ClientBase | Pool): Promise<{ pendingRows: number; oldestAgeSeconds: number }> {
  const result = await client.query<{ pending: number; oldest: number }>(
    'SELECT count(*)::int AS pending, COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float8 AS oldest FROM outbox',
  );
  return { pendingRows: result.rows[0]?.pending ?? 0, oldestAgeSeconds: result.rows[0]?.oldest ?? 0 };
}
