import type { ClientBase } from 'pg';

// Advisory lock namespaces (first key of the two-int4 form), so Orrery's locks never collide with
// each other or with single-bigint advisory locks taken by other code.
/** Per partition key: held by each write transaction for every key it writes. */
export const PARTITION_KEY_LOCK = 0x4f520001;
/** Held (session-level) by the one outbox relay that publishes. */
export const OUTBOX_RELAY_LOCK = 0x4f520002;
/** Held (session-level) while migrations run. */
export const MIGRATION_LOCK = 0x4f520003;

/**
 * Takes a transaction-scoped lock on every partition key, in one statement and in a fixed order
 * (so two writers never deadlock). Taken before sequences are allocated, it serialises writers of
 * the same key: a key's sequence numbers then commit in increasing order, so the relay (which
 * publishes whatever is committed, in sequence order) publishes each key's events in order.
 */
export async function lockPartitionKeys(tx: ClientBase, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  await tx.query(
    `SELECT pg_advisory_xact_lock($1, h)
       FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest($2::text[]) AS k ORDER BY h) AS keys`,
    [PARTITION_KEY_LOCK, [...new Set(keys)]],
  );
}
