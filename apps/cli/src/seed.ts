import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { createClient } from '@orrery/grpc';
import { generateSyntheticDataset, type SyntheticDataset } from '@orrery/ml';
import { CatalogService, EventType, IngestService } from '@orrery/proto';
import type { Dataset } from './dataset';
import { ProgressBar } from './progress';

export interface SeedOptions {
  readonly ingestAddress: string;
  readonly users: number;
  readonly items: number;
  readonly eventsPerUser: number;
  readonly seed: number;
  /** Show progress bars on stderr. */
  readonly progress: boolean;
}

export interface SeedResult {
  readonly dataset: SyntheticDataset;
  /** Events the ingestion API accepted (duplicates of an earlier seed included). */
  readonly accepted: number;
}

const BATCH = 1_000;

/**
 * Generates the synthetic catalog (planted tastes) and sends it through the public ingestion API,
 * as a client would: items, users, then events in time order. Re-running with the same seed is
 * harmless: event ids are deterministic, so the event store keeps each once.
 */
export async function seedDemoData(options: SeedOptions): Promise<SeedResult> {
  const dataset = generateSyntheticDataset({
    users: options.users,
    items: options.items,
    eventsPerUser: options.eventsPerUser,
    seed: options.seed,
    startTime: Date.now() - 30 * 86_400_000,
    spanDays: 29,
  });
  const accepted = await ingestDataset(dataset, options.ingestAddress, { progress: options.progress });
  return { dataset, accepted };
}

/**
 * Sends a dataset through the public ingestion API as a client would: items, users, then events
 * in the given (time) order, in batches of 1000; returns how many events were accepted. Throws on
 * the first refused entry, with ingestion's reason (which names the field).
 */
export async function ingestDataset(dataset: Dataset, ingestAddress: string, options: { readonly progress: boolean }): Promise<number> {
  const catalog = createClient(CatalogService, ingestAddress, { timeoutMs: 60_000 });
  const ingest = createClient(IngestService, ingestAddress, { timeoutMs: 60_000 });
  try {
    const itemsBar = new ProgressBar('items', dataset.items.length);
    for (let start = 0; start < dataset.items.length; start += BATCH) {
      const chunk = dataset.items.slice(start, start + BATCH);
      const reply = await catalog.upsertItems({
        items: chunk.map((item) => ({
          itemId: item.itemId,
          categories: [...item.categories],
          tags: [...item.tags],
          hidden: item.hidden,
          publishedAt: timestampFromMs(item.publishedAt),
        })),
      });
      if (reply.rejected.length > 0) throw new Error(`items refused: ${reply.rejected[0]?.reason}`);
      if (options.progress) itemsBar.update(start + chunk.length);
    }
    const usersBar = new ProgressBar('users', dataset.users.length);
    for (let start = 0; start < dataset.users.length; start += BATCH) {
      const chunk = dataset.users.slice(start, start + BATCH);
      const reply = await catalog.upsertUsers({ users: chunk.map((user) => ({ userId: user.userId, attributes: { ...user.attributes } })) });
      if (reply.rejected.length > 0) throw new Error(`users refused: ${reply.rejected[0]?.reason}`);
      if (options.progress) usersBar.update(start + chunk.length);
    }
    const eventsBar = new ProgressBar('events', dataset.events.length);
    let accepted = 0;
    for (let start = 0; start < dataset.events.length; start += BATCH) {
      const chunk = dataset.events.slice(start, start + BATCH);
      const reply = await ingest.trackBatch({
        events: chunk.map((event) => ({
          eventId: event.eventId,
          userId: event.userId,
          itemId: event.itemId,
          type: EventType[event.type],
          value: event.value,
          occurredAt: timestampFromMs(event.occurredAt),
        })),
      });
      const refused = reply.rejected[0];
      if (refused) throw new Error(`event ${start + refused.index + 1} of ${dataset.events.length} (${chunk[refused.index]?.eventId}) refused: ${refused.reason}`);
      accepted += reply.accepted;
      if (options.progress) eventsBar.update(start + chunk.length);
    }
    return accepted;
  } finally {
    catalog.close();
    ingest.close();
  }
}
