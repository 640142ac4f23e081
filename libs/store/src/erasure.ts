import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { ClientBase } from 'pg';
import { DomainEventSchema } from '@orrery/proto';
import { lockCommitOrder } from './locks';
import { insertOutbox } from './outbox';

/**
 * Forgets a user in the caller's transaction: deletes every event of theirs from the event store,
 * the outbox rows of those events not yet published, their users row, and writes a user_forgotten
 * outbox row (keyed like their interactions, so on Kafka it follows everything of theirs that was
 * published). Returns how many events were erased.
 *
 * What this cannot reach: messages the relay already published stay in the Kafka topic until its
 * retention removes them; consumers apply UserForgotten after them (same partition, later offset),
 * so a replay from the start erases again.
 */
export async function forgetUser(tx: ClientBase, userId: string, traceparent: string): Promise<number> {
  const domainEvent = create(DomainEventSchema, { payload: { case: 'userForgotten', value: { userId } } });
  // The commit-order lock waits for in-flight writers, so none of this user's events commits after the erasure with an earlier sequence.
  await lockCommitOrder(tx);
  const erased = await tx.query<{ sequence: string }>('DELETE FROM events WHERE user_id = $1 RETURNING sequence', [userId]);
  const user = await tx.query<{ sequence: string }>('DELETE FROM users WHERE user_id = $1 RETURNING sequence', [userId]);
  const unpublished = [...erased.rows, ...user.rows].map((row) => row.sequence);
  if (unpublished.length > 0) await tx.query('DELETE FROM outbox WHERE sequence = ANY($1::bigint[])', [unpublished]);
  const allocated = await tx.query<{ sequence: string; now: Date }>("SELECT nextval('commit_sequence') AS sequence, now() AS now");
  domainEvent.sequence = BigInt(allocated.rows[0]!.sequence);
  domainEvent.committedAt = timestampFromDate(allocated.rows[0]!.now);
  await insertOutbox(tx, [domainEvent], traceparent);
  return erased.rowCount ?? 0;
}
