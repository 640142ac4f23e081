// Writes a synthetic catalog and event log straight into the event store's tables: that is the
// trainer's input contract (infra/sql/001_event_store.sql).
import type { Pool } from 'pg';
import type { SyntheticDataset } from '@orrery/ml';

/** Inserts the dataset's items and events (event types stored lower-case, as the command side does). */
export async function seedEventStore(pool: Pool, dataset: SyntheticDataset): Promise<void> {
  const { items, events } = dataset;
  await pool.query(
    `INSERT INTO items (item_id, categories, tags, published_at, hidden, sequence)
     SELECT item_id, string_to_array(categories, ','), string_to_array(tags, ','), to_timestamp(published_ms / 1000.0), hidden, 0
       FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::boolean[]) AS t(item_id, categories, tags, published_ms, hidden)`,
    [
      items.map((item) => item.itemId),
      items.map((item) => item.categories.join(',')),
      items.map((item) => item.tags.join(',')),
      items.map((item) => item.publishedAt),
      items.map((item) => item.hidden),
    ],
  );
  const batch = 20_000;
  for (let start = 0; start < events.length; start += batch) {
    const slice = events.slice(start, start + batch);
    await pool.query(
      `INSERT INTO events (event_id, user_id, item_id, type, value, occurred_at)
       SELECT event_id, user_id, item_id, type, value, to_timestamp(occurred_ms / 1000.0)
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::float8[]) AS t(event_id, user_id, item_id, type, value, occurred_ms)`,
      [
        slice.map((event) => event.eventId),
        slice.map((event) => event.userId),
        slice.map((event) => event.itemId),
        slice.map((event) => event.type.toLowerCase()),
        slice.map((event) => event.value),
        slice.map((event) => event.occurredAt),
      ],
    );
  }
}
