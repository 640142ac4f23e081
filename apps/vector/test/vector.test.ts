import { Pool } from 'pg';
import { status } from '@grpc/grpc-js';
import { readConfig, type OrreryConfig } from '@orrery/config';
import { createClient, type Client } from '@orrery/grpc';
import {
  exportRankerToOnnx,
  generateSyntheticDataset,
  RANKING_FEATURE_SCHEMA,
  RANKING_FEATURES,
  trainImplicitAls,
  trainRanker,
  type ImplicitAlsModel,
  type SyntheticDataset,
} from '@orrery/ml';
import { promoteIfBetter, registerModel } from '@orrery/models';
import { VectorService } from '@orrery/proto';
import { migrate } from '@orrery/store';
import { createLogger } from '@orrery/telemetry';
import { createTestDatabase, dropTestDatabase, eventually } from '@orrery/testing';
import { startVector, type RunningVector } from '../src/service';

const logger = createLogger('vector-test', 'warn');
let databaseUrl: string;
let pool: Pool;
let vector: RunningVector;
let client: Client<typeof VectorService>;
let dataset: SyntheticDataset;
let model: ImplicitAlsModel;
let hiddenItemId: string;
const mainCategory = new Map<string, string>();

function rankerBytes(): Uint8Array {
  const width = RANKING_FEATURES.length;
  const rows = Float32Array.from({ length: 20 * width }, (_, i) => (i % width === 0 ? Math.floor(i / width) % 2 : 0.5));
  const labels = Uint8Array.from({ length: 20 }, (_, i) => i % 2);
  return exportRankerToOnnx(trainRanker(rows, labels, width));
}

async function registerAndPromote(embeddings: ImplicitAlsModel, ndcg: number): Promise<string> {
  const registered = await registerModel(pool, {
    metrics: { 'ndcg@10': ndcg },
    splitId: 'split-vector-test',
    featureSchema: RANKING_FEATURE_SCHEMA,
    factors: embeddings.factors,
    itemIds: embeddings.itemIds,
    itemVectors: embeddings.itemVectors,
    itemNorms: embeddings.itemNorms,
    rankerOnnx: rankerBytes(),
  });
  const decision = await promoteIfBetter(pool, registered.version, 'ndcg@10');
  if (!decision.promoted) throw new Error(`not promoted: ${decision.reason}`);
  return registered.version;
}

function isInvalidArgumentNaming(field: string) {
  return expect.objectContaining({ code: status.INVALID_ARGUMENT, details: expect.stringContaining(field) });
}

beforeAll(async () => {
  databaseUrl = await createTestDatabase();
  pool = new Pool({ connectionString: databaseUrl });
  await migrate(pool);
  dataset = generateSyntheticDataset({ users: 500, items: 400, categories: 8, eventsPerUser: 40, seed: 5 });
  for (const item of dataset.items) mainCategory.set(item.itemId, item.categories[0] as string);
  model = trainImplicitAls(dataset.events, { factors: 16, iterations: 8 });
  hiddenItemId = model.itemIds[3] as string;
  await pool.query(`INSERT INTO items (item_id, categories, hidden, sequence) VALUES ($1, '{}', true, 1)`, [hiddenItemId]);

  const config: OrreryConfig = { ...readConfig(), postgresUrl: databaseUrl, vectorAddress: '127.0.0.1:0' };
  // A long fallback poll: within the test only LISTEN/NOTIFY can bring a promotion in.
  vector = await startVector(config, logger, { pollIntervalMs: 600_000, unavailableItemsPollMs: 100 });
  client = createClient(VectorService, `127.0.0.1:${vector.port}`, { timeoutMs: 5_000 });
});

afterAll(async () => {
  client?.close();
  await vector?.close();
  await pool?.end();
  await dropTestDatabase(databaseUrl);
});

it('before any model is promoted, searches answer no hits and an empty model version', async () => {
  const hits = await client.searchForUser({ recentItemIds: ['item-0001'], count: 5 });
  expect(hits.hits).toEqual([]);
  expect(hits.modelVersion).toBe('');
});

describe('with a champion', () => {
  let version: string;
  beforeAll(async () => {
    version = await registerAndPromote(model, 0.1);
    await eventually(async () => (await client.similarTo({ itemId: model.itemIds[0] as string, count: 1 })).modelVersion, {
      accept: (served) => served === version,
      what: 'vector to serve the promoted model',
    });
  });

  it('SimilarTo returns items of the item’s planted category, never the item itself, best first', async () => {
    let sameCategory = 0;
    let returned = 0;
    for (const itemId of model.itemIds.slice(10, 30)) {
      const { hits, modelVersion } = await client.similarTo({ itemId, count: 10 });
      expect(modelVersion).toBe(version);
      expect(hits).toHaveLength(10);
      expect(hits.map((hit) => hit.itemId)).not.toContain(itemId);
      hits.forEach((hit, i) => i > 0 && expect(hit.score).toBeLessThanOrEqual((hits[i - 1]?.score ?? 1) + 1e-6));
      sameCategory += hits.filter((hit) => mainCategory.get(hit.itemId) === mainCategory.get(itemId)).length;
      returned += hits.length;
    }
    // 8 categories: a random neighbour shares the category 1 time in 8.
    expect(sameCategory / returned).toBeGreaterThan(0.6);
  });

  it('SearchForUser leaves out the recent, excluded and hidden items and explains each hit by a recent item', async () => {
    const user = dataset.users[7]?.userId;
    const recent = [...new Set(dataset.events.filter((event) => event.userId === user).map((event) => event.itemId))].reverse().slice(0, 8);
    const first = await client.searchForUser({ recentItemIds: recent, count: 20 });
    expect(first.hits).toHaveLength(20);
    const excluded = first.hits.slice(0, 5).map((hit) => hit.itemId);
    const { hits, modelVersion } = await client.searchForUser({ recentItemIds: recent, count: 20, excludeItemIds: excluded });
    expect(modelVersion).toBe(version);
    expect(hits).toHaveLength(20);
    const ids = hits.map((hit) => hit.itemId);
    for (const itemId of [...recent, ...excluded, hiddenItemId]) expect(ids).not.toContain(itemId);
    for (const hit of hits) expect(recent).toContain(hit.nearestItemId);
    hits.forEach((hit, i) => i > 0 && expect(hit.score).toBeLessThanOrEqual((hits[i - 1]?.score ?? Infinity) + 1e-6));
  });

  it('the hidden item is never a neighbour, even of items close to it', async () => {
    const { hits } = await client.similarTo({ itemId: model.itemIds[2] as string, count: 300 });
    expect(hits.map((hit) => hit.itemId)).not.toContain(hiddenItemId);
  });

  it('unknown items are ignored: no hits, not an error', async () => {
    expect((await client.similarTo({ itemId: 'no-such-item', count: 5 })).hits).toEqual([]);
    const search = await client.searchForUser({ recentItemIds: ['no-such-item'], count: 5 });
    expect(search).toMatchObject({ hits: [], modelVersion: version });
  });

  it('bad ids and counts are INVALID_ARGUMENT naming the field', async () => {
    await expect(client.similarTo({ itemId: '', count: 5 })).rejects.toEqual(isInvalidArgumentNaming('item_id'));
    await expect(client.similarTo({ itemId: 'item-0001', count: 0 })).rejects.toEqual(isInvalidArgumentNaming('count'));
    await expect(client.searchForUser({ recentItemIds: ['item-0001'], count: -3 })).rejects.toEqual(isInvalidArgumentNaming('count'));
    await expect(client.searchForUser({ recentItemIds: ['item-0001', ''], count: 5 })).rejects.toEqual(isInvalidArgumentNaming('recent_item_ids[1]'));
    await expect(client.searchForUser({ recentItemIds: ['item-0001'], count: 5, excludeItemIds: ['x'.repeat(300)] })).rejects.toEqual(
      isInvalidArgumentNaming('exclude_item_ids[0]'),
    );
  });

  it('an item hidden or deleted after the index was built leaves the answers without a new model', async () => {
    const similarTo = async () => (await client.similarTo({ itemId: model.itemIds[40] as string, count: 10 })).hits.map((hit) => hit.itemId);
    const recent = [...new Set(dataset.events.filter((event) => event.userId === dataset.users[11]?.userId).map((event) => event.itemId))].reverse().slice(0, 8);
    const searchForUser = async () => (await client.searchForUser({ recentItemIds: recent, count: 10 })).hits.map((hit) => hit.itemId);
    const [hidden] = await similarTo();
    const [deleted] = await searchForUser();
    expect(hidden).toBeDefined();
    expect(deleted).toBeDefined();
    await pool.query(`INSERT INTO items (item_id, categories, hidden, sequence) VALUES ($1, '{}', true, 2)`, [hidden]);
    await pool.query('INSERT INTO deleted_items (item_id, sequence) VALUES ($1, 3)', [deleted]);
    for (const search of [similarTo, searchForUser]) {
      const ids = await eventually(search, { accept: (found) => !found.includes(hidden!) && !found.includes(deleted!), what: 'the hidden and the deleted item to leave the answers' });
      expect(ids).toHaveLength(10);
    }
    expect(vector.modelVersion()).toBe(version);

    // Shown again and upserted again (the upsert removes the deletion's tombstone, as the catalog command does).
    await pool.query('UPDATE items SET hidden = false, sequence = 4 WHERE item_id = $1', [hidden]);
    await pool.query('DELETE FROM deleted_items WHERE item_id = $1', [deleted]);
    await pool.query(`INSERT INTO items (item_id, categories, hidden, sequence) VALUES ($1, '{}', false, 5)`, [deleted]);
    await eventually(similarTo, { accept: (found) => found[0] === hidden, what: 'the item shown again to come back' });
    await eventually(searchForUser, { accept: (found) => found[0] === deleted, what: 'the item upserted again to come back' });
  });

  it('when a better model is promoted, vector serves it without a restart', async () => {
    // Another model: other factors, and one item fewer, so its answers differ visibly.
    const next = trainImplicitAls(dataset.events.filter((event) => event.itemId !== model.itemIds[0]), { factors: 8, iterations: 5, seed: 9 });
    const nextVersion = await registerAndPromote(next, 0.2);
    await eventually(async () => (await client.similarTo({ itemId: model.itemIds[1] as string, count: 3 })).modelVersion, {
      accept: (served) => served === nextVersion,
      what: 'vector to serve the newly promoted model',
    });
    expect(vector.modelVersion()).toBe(nextVersion);
    expect((await client.similarTo({ itemId: model.itemIds[0] as string, count: 3 })).hits).toEqual([]);
  });
});
