import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Pool } from 'pg';
import type { Logger } from '@orrery/telemetry';
import { MIGRATION_LOCK } from './locks';

/** infra/sql of the repository (same depth from src/ and dist/). */
export const DEFAULT_MIGRATIONS_DIR = resolve(__dirname, '../../../infra/sql');

const MIGRATION_FILE = /^\d+_[\w.-]+\.sql$/;

export interface MigrateOptions {
  readonly directory?: string;
  readonly logger?: Logger;
}

/**
 * Applies every `NNN_name.sql` of the directory not applied yet, in file-name order, each in its own
 * transaction together with its row in schema_migrations. Holds an advisory lock meanwhile, so
 * processes starting at once apply each file exactly once. Refuses to start when an applied file
 * has since been edited (write a new file instead). Returns the names it applied.
 */
export async function migrate(pool: Pool, options: MigrateOptions = {}): Promise<string[]> {
  const directory = options.directory ?? DEFAULT_MIGRATIONS_DIR;
  const files = (await readdir(directory)).filter((name) => MIGRATION_FILE.test(name)).sort();
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('SELECT pg_advisory_lock($1, 0)', [MIGRATION_LOCK]);
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version     text PRIMARY KEY,
        checksum    text NOT NULL,
        applied_at  timestamptz NOT NULL DEFAULT now()
      )`);
      const applied = new Map(
        (await client.query<{ version: string; checksum: string }>('SELECT version, checksum FROM schema_migrations')).rows.map((row) => [row.version, row.checksum]),
      );
      const newlyApplied: string[] = [];
      for (const file of files) {
        const sql = await readFile(join(directory, file), 'utf8');
        const checksum = createHash('sha256').update(sql).digest('hex');
        const recorded = applied.get(file);
        if (recorded !== undefined) {
          if (recorded !== checksum) throw new Error(`migration ${file} changed after it was applied; add a new migration instead`);
          continue;
        }
        await client.query('BEGIN');
        try {
          await client.query(sql);
          await client.query('INSERT INTO schema_migrations (version, checksum) VALUES ($1, $2)', [file, checksum]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK');
          throw new Error(`migration ${file} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
        }
        options.logger?.info({ migration: file }, 'postgres: migration applied');
        newlyApplied.push(file);
      }
      return newlyApplied;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1, 0)', [MIGRATION_LOCK]);
    }
  } catch (error) {
    broken = true;
    throw error;
  } finally {
    // A failed session may still hold the lock or an open transaction: never hand it back to the pool.
    client.release(broken);
  }
}
