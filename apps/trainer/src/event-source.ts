// The trainer's input: the event store's `events`, `items` and `deleted_items` tables (infra/sql/001_event_store.sql, 003_deletions.sql).

import type { Pool } from 'pg';
import { INTERACTION_TYPES, type Interaction, type InteractionType } from '@orrery/ml';
import type { Catalog, CatalogItem } from './history';

/** Rows fetched per round trip; keyset pagination keeps memory flat on the database side. */
const PAGE_SIZE = 50_000;

/** The interaction type of a stored type name (`add_to_cart` → `ADD_TO_CART`); throws on unknown names. */
export function interactionTypeOf(stored: string): InteractionType {
  const type = INTERACTION_TYPES.find((candidate) => candidate === stored.toUpperCase());
  if (!type) throw new Error(`events.type ${JSON.stringify(stored)} is not a known interaction type`);
  return type;
}

interface EventRow {
  sequence: string;
  user_id: string;
  item_id: string;
  type: string;
  value: number;
  occurred_ms: string;
  cursor_at: string;
}

/** Every interaction, oldest first (by occurred_at, then commit order), paged by keyset. */
export async function readInteractions(pool: Pool, onPage?: (loaded: number) => void): Promise<Interaction[]> {
  const interactions: Interaction[] = [];
  // The cursor is the exact stored timestamp (as text), so rows sharing a millisecond are never lost or repeated.
  let after: { at: string; sequence: string } | undefined;
  for (;;) {
    const { rows } = await pool.query<EventRow>(
      `SELECT sequence::text, user_id, item_id, type, value,
              floor(extract(epoch FROM occurred_at) * 1000)::bigint::text AS occurred_ms, occurred_at::text AS cursor_at
         FROM events
        WHERE $1::timestamptz IS NULL OR (occurred_at, sequence) > ($1::timestamptz, $2::bigint)
        ORDER BY occurred_at, sequence
        LIMIT $3`,
      [after?.at ?? null, after?.sequence ?? null, PAGE_SIZE],
    );
    for (const row of rows) {
      interactions.push({ userId: row.user_id, itemId: row.item_id, type: interactionTypeOf(row.type), value: row.value, occurredAt: Number(row.occurred_ms) });
    }
    onPage?.(interactions.length);
    const last = rows[rows.length - 1];
    if (!last || rows.length < PAGE_SIZE) return interactions;
    after = { at: last.cursor_at, sequence: last.sequence };
  }
}

/** The catalog (categories, publication time, hidden flag) by item id. */
export async function readCatalog(pool: Pool): Promise<Catalog> {
  const { rows } = await pool.query<{ item_id: string; categories: string[]; published_ms: string | null; hidden: boolean }>(
    `SELECT item_id, categories, floor(extract(epoch FROM published_at) * 1000)::bigint::text AS published_ms, hidden FROM items`,
  );
  return new Map<string, CatalogItem>(
    rows.map((row) => [row.item_id, { categories: row.categories, publishedAt: row.published_ms === null ? undefined : Number(row.published_ms), hidden: row.hidden }]),
  );
}

/** The items deleted from the catalog (`deleted_items`, infra/sql/003_deletions.sql; an item upserted again leaves it). */
export async function readDeletedItems(pool: Pool): Promise<Set<string>> {
  const { rows } = await pool.query<{ item_id: string }>('SELECT item_id FROM deleted_items');
  return new Set(rows.map((row) => row.item_id));
}
