import type { Pool } from 'pg';

/** Ids of the items the catalog marks hidden (never returned by the index). */
export async function readHiddenItemIds(pool: Pool): Promise<Set<string>> {
  const { rows } = await pool.query<{ item_id: string }>('SELECT item_id FROM items WHERE hidden');
  return new Set(rows.map((row) => row.item_id));
}
