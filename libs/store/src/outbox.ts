import { create } from '@bufbuild/protobuf';
import type { Timestamp } from '@bufbuild/protobuf/wkt';
import type { ClientBase, Pool } from 'pg';
import { decodeDomainEvent, domainEventKey, encodeDomainEvent } from '@orrery/kafka';
import { DomainEventSchema, type DomainEvent } from '@orrery/proto';
import { eventTypeFromStored, type StoredEventType } from './event-types';
import { lockCommitOrder, OUTBOX_RELAY_LOCK } from './locks';
import { inTransactionOf } from './transaction';

/** The channel a commit that wrote events or outbox rows notifies (triggers in 001 and 004). */
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
 * Writes one outbox row per catalog or privacy fact (which must carry its sequence) in the caller's
 * transaction, with the trace context of the command that wrote it. Interactions need none: the
 * event store is their outbox.
 */
export async function insertOutbox(tx: ClientBase, events: readonly DomainEvent[], traceparent: string): Promise<void> {
  if (events.length === 0) return;
  await tx.query(
    `INSERT INTO outbox (sequence, partition_key, payload, traceparent)
     SELECT sequence, partition_key, payload, $4 FROM unnest($1::bigint[], $2::text[], $3::bytea[]) AS t(sequence, partition_key, payload)`,
    [events.map((event) => event.sequence.toString()), events.map(domainEventKey), events.map(encodeDomainEvent), traceparent],
  );
}

// The facts after a sequence, in sequence order: catalog/privacy facts from the outbox (serialized
// already) merged with interactions from the event store (serialized here). Times as epoch
// microseconds, exact, with no date parsing. Named statements (prepared once per connection):
// planning took ~0.5 ms, more than running it, at ~100 drains a second. Their generic plans scan the
// primary keys only because the relay's session turns seq scans off (outbox-relay.ts).
const UNPUBLISHED = `
  SELECT sequence, partition_key AS key, payload, traceparent,
         NULL::text AS event_id, NULL::text AS item_id, NULL::text AS type, NULL::float8 AS value, NULL::jsonb AS context,
         NULL::text AS occurred_us, NULL::text AS recorded_us
    FROM outbox WHERE sequence > $1
  UNION ALL
  SELECT sequence, user_id, NULL, traceparent, event_id, item_id, type, value, context,
         (extract(epoch FROM occurred_at) * 1000000)::int8::text, (extract(epoch FROM recorded_at) * 1000000)::int8::text
    FROM events WHERE sequence > $1
  ORDER BY sequence LIMIT $2`;

interface UnpublishedRow {
  readonly sequence: string;
  readonly key: string;
  readonly payload: Buffer | null;
  readonly traceparent: string;
  readonly event_id: string | null;
  readonly item_id: string | null;
  readonly type: StoredEventType | null;
  readonly value: number | null;
  readonly context: Record<string, string> | null;
  readonly occurred_us: string | null;
  readonly recorded_us: string | null;
}

/**
 * Runs `work` in a transaction of `client` holding the commit-order lock: no writer allocates a
 * sequence or commits meanwhile (writers wait), and what `work` writes commits at once or not at all,
 * durably before this resolves (even on a session that does not wait for the WAL flush otherwise,
 * as the relay's: a new sequence given to a fact must not be lost after the fact went out with it).
 */
export async function underCommitOrderLock<T>(client: ClientBase, work: () => Promise<T>): Promise<T> {
  return inTransactionOf(client, async () => {
    await client.query('SET LOCAL synchronous_commit = on');
    await lockCommitOrder(client);
    return work();
  });
}

/**
 * Makes every sequence handed out from now on higher than `published` (the highest one on Kafka), and
 * resolves to the highest sequence the store had handed out when it was lower (undefined otherwise).
 * Consumers take a fact at or below the highest sequence they applied from its partition for a copy,
 * so a store that lost commits which reached Kafka (restored from a backup, a lagging replica
 * promoted) must not give their sequences to new facts. Only under the commit-order lock
 * (underCommitOrderLock): no writer allocates meanwhile, and the sequence only moves forward.
 */
export async function allocateAbove(tx: ClientBase, published: bigint): Promise<bigint | undefined> {
  const { rows } = await tx.query<{ allocated: string }>('SELECT (CASE WHEN is_called THEN last_value ELSE last_value - 1 END)::text AS allocated FROM commit_sequence');
  const allocated = BigInt(rows[0]!.allocated);
  if (allocated >= published) return undefined;
  await tx.query("SELECT setval('commit_sequence', $1)", [published.toString()]);
  return allocated;
}

/**
 * Gives the facts at `sequences` new sequences, after every one handed out so far, keeping their
 * order; resolves to each old sequence's new one. For facts whose sequence a consumer would take for
 * a copy (see moveReusedSequences in apps/command). Everything that names a fact's sequence follows:
 * the event store's row, an outbox row and the DomainEvent serialized in it, and the catalog state
 * (items, users, deleted_items) that fact produced. Only under the commit-order lock
 * (underCommitOrderLock), on facts not yet published.
 */
export async function resequenceFacts(tx: ClientBase, sequences: readonly bigint[]): Promise<Map<bigint, bigint>> {
  if (sequences.length === 0) return new Map();
  const ascending = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);
  const old = [...new Set(sequences)].sort(ascending);
  const { rows } = await tx.query<{ next: string }>("SELECT nextval('commit_sequence')::text AS next FROM generate_series(1, $1::int)", [old.length]);
  const fresh = rows.map((row) => BigInt(row.next)).sort(ascending);
  const moves = new Map(old.map((sequence, index) => [sequence, fresh[index]!]));
  const params = [old.map(String), fresh.map(String)];
  await tx.query('UPDATE events SET sequence = m.new FROM unnest($1::bigint[], $2::bigint[]) AS m(old, new) WHERE events.sequence = m.old', params);
  const outbox = await tx.query<{ sequence: string; payload: Buffer }>('SELECT sequence::text, payload FROM outbox WHERE sequence = ANY($1::bigint[])', [params[0]]);
  if (outbox.rows.length > 0) {
    const payloads = outbox.rows.map(({ sequence, payload }) => {
      const fact = decodeDomainEvent(payload);
      fact.sequence = moves.get(BigInt(sequence))!;
      return encodeDomainEvent(fact);
    });
    await tx.query(
      'UPDATE outbox SET sequence = m.new, payload = m.payload FROM unnest($1::bigint[], $2::bigint[], $3::bytea[]) AS m(old, new, payload) WHERE outbox.sequence = m.old',
      [outbox.rows.map((row) => row.sequence), outbox.rows.map((row) => String(moves.get(BigInt(row.sequence)))), payloads],
    );
  }
  for (const table of ['items', 'users', 'deleted_items']) {
    await tx.query(`UPDATE ${table} SET sequence = m.new FROM unnest($1::bigint[], $2::bigint[]) AS m(old, new) WHERE ${table}.sequence = m.old`, params);
  }
  return moves;
}

/** How far the relay has published: every fact up to this sequence reached Kafka. */
export async function readRelayPosition(db: ClientBase | Pool): Promise<string> {
  const result = await db.query<{ published_through: string }>('SELECT published_through FROM relay_position');
  return result.rows[0]!.published_through;
}

/** The `limit` oldest committed facts after sequence `after`, in sequence order. */
export async function readUnpublished(db: ClientBase | Pool, after: string, limit: number): Promise<OutboxRow[]> {
  return (await db.query<UnpublishedRow>({ name: 'orrery-read-unpublished', text: UNPUBLISHED, values: [after, limit] })).rows.map(toOutboxRow);
}

/**
 * One round trip of the relay: records that everything up to `publishedThrough` reached Kafka
 * (the position moves only forward; published outbox rows are deleted) and reads the `limit`
 * oldest committed facts after `after` (>= publishedThrough), in sequence order.
 */
export async function takeUnpublished(db: ClientBase, publishedThrough: string, after: string, limit: number): Promise<OutboxRow[]> {
  const result = await db.query<UnpublishedRow>({
    name: 'orrery-take-unpublished',
    text: `WITH advanced AS (UPDATE relay_position SET published_through = $3 WHERE published_through < $3),
          published AS (DELETE FROM outbox WHERE sequence <= $3)
     ${UNPUBLISHED}`,
    values: [after, limit, publishedThrough],
  });
  return result.rows.map(toOutboxRow);
}

/** Tries to become the one relay (session lock, released when the connection closes); true when it is. */
export async function tryBecomeOutboxRelay(client: ClientBase): Promise<boolean> {
  const result = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, 0) AS locked', [OUTBOX_RELAY_LOCK]);
  return result.rows[0]?.locked === true;
}

/** How far the relay is behind: committed facts not yet published, and the age of the oldest (0 when none). */
export async function readOutboxLag(db: ClientBase | Pool): Promise<{ pendingRows: number; oldestAgeSeconds: number }> {
  const result = await db.query<{ pending: number; oldest: number }>(
    `WITH position AS (SELECT published_through FROM relay_position),
          pending AS (SELECT created_at AS at FROM outbox WHERE sequence > (SELECT published_through FROM position)
                      UNION ALL SELECT recorded_at FROM events WHERE sequence > (SELECT published_through FROM position))
     SELECT count(*)::int AS pending, COALESCE(EXTRACT(EPOCH FROM now() - min(at)), 0)::float8 AS oldest FROM pending`,
  );
  return { pendingRows: result.rows[0]?.pending ?? 0, oldestAgeSeconds: result.rows[0]?.oldest ?? 0 };
}

function toOutboxRow(row: UnpublishedRow): OutboxRow {
  if (row.payload !== null) return { sequence: row.sequence, key: row.key, payload: row.payload, traceparent: row.traceparent };
  const domainEvent = create(DomainEventSchema, {
    sequence: BigInt(row.sequence),
    committedAt: timestampFromMicros(row.recorded_us!),
    payload: {
      case: 'interaction',
      value: {
        eventId: row.event_id!,
        userId: row.key,
        itemId: row.item_id!,
        type: eventTypeFromStored(row.type!),
        value: row.value!,
        occurredAt: timestampFromMicros(row.occurred_us!),
        context: row.context!,
      },
    },
  });
  return { sequence: row.sequence, key: row.key, payload: encodeDomainEvent(domainEvent), traceparent: row.traceparent };
}

function timestampFromMicros(micros: string): Timestamp {
  const total = BigInt(micros);
  let seconds = total / 1_000_000n;
  let remainder = total % 1_000_000n;
  if (remainder < 0n) {
    remainder += 1_000_000n;
    seconds -= 1n;
  }
  return { $typeName: 'google.protobuf.Timestamp', seconds, nanos: Number(remainder) * 1000 };
}
