import type { ClientBase, Pool, PoolClient } from 'pg';

// deadlock_detected, serialization_failure: the transaction did nothing and can simply run again.
const RETRYABLE = new Set(['40P01', '40001']);

/** Runs `work` in one transaction (commit on success, rollback on error), retrying deadlock victims. */
export async function inTransaction<T>(pool: Pool, work: (tx: PoolClient) => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    let broken = false;
    // The pool listens for errors of idle clients only: a connection lost while we hold the client
    // (e.g. Postgres restarting between two statements) would otherwise be an unhandled 'error'
    // that kills the process. The failing query rejects on its own; the client is discarded.
    const onLostConnection = (): void => void (broken = true);
    client.on('error', onLostConnection);
    try {
      return await inTransactionOf(client, () => work(client), () => (broken = true));
    } catch (error) {
      if (attempt >= attempts || !RETRYABLE.has(pgErrorCode(error) ?? '')) throw error;
    } finally {
      client.off('error', onLostConnection);
      client.release(broken);
    }
  }
}

/**
 * Runs `work` in one transaction of `client` (commit on success; on an error, roll back and rethrow
 * it, calling `onRollbackFailed` when the rollback fails too: the connection is then unusable).
 */
export async function inTransactionOf<T>(client: ClientBase, work: () => Promise<T>, onRollbackFailed: () => void = () => undefined): Promise<T> {
  try {
    await client.query('BEGIN');
    const result = await work();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(onRollbackFailed);
    throw error;
  }
}

/** The SQLSTATE of a Postgres error, if it is one. */
export function pgErrorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** True when Postgres refused the data itself (SQLSTATE classes 22, data exception, and 23, integrity constraint). */
export function isRefusedData(error: unknown): boolean {
  const code = pgErrorCode(error) ?? '';
  return code.startsWith('22') || code.startsWith('23');
}
