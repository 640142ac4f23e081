import type { ClientBase } from 'pg';

// Advisory lock namespaces (first key of the two-int4 form), so Orrery's locks never collide with
// each other or with single-bigint advisory locks taken by other code.
/** Held by each write transaction from before it allocates commit_sequence values until it has committed. */
export const COMMIT_ORDER_LOCK = 0x4f520001;
/** Held (session-level) by the one outbox relay that publishes. */
export const OUTBOX_RELAY_LOCK = 0x4f520002;
/** Held (session-level) while migrations run. */
export const MIGRATION_LOCK = 0x4f520003;

/**
 * Takes the transaction-scoped commit-order lock. Every transaction that allocates commit_sequence
 * values takes it before the first one and holds it until it has committed (Postgres releases
 * transaction locks after the commit is visible), so sequences become visible strictly in
 * increasing order: the relay can publish from a position and never miss a row that commits later
 * with a lower sequence. That also orders each key's events (sequence order = commit order).
 * Writers queue on it; command runs one append transaction at a time anyway (append-lane.ts).
 * (appendEvents takes it inside its one statement instead.)
 */
export async function lockCommitOrder(tx: ClientBase): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1, 0)', [COMMIT_ORDER_LOCK]);
}
