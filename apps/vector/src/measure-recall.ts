// Measures the ANN indexes (usearch HNSW) against an exact scan in JavaScript on trained item
// embeddings: recall@k and query time of SearchForUser (inner product) and SimilarTo (cosine), for
// k = --count (10 by default; the recommender asks for ~100 plus the user's seen items). Prints
// figures; asserts nothing.
//   node apps/vector/dist/measure-recall.js [--users 5000] [--items 20000] [--factors 32] [--queries 1000] [--count 10]
//   node apps/vector/dist/measure-recall.js --registry      (the champion of ORRERY_POSTGRES_URL)

import { parseArgs } from 'node:util';
import { Pool } from 'pg';
import { readConfig } from '@orrery/config';
import { createSeededRandom, foldInUser, generateSyntheticDataset, topKByScore, trainImplicitAls } from '@orrery/ml';
import { buildServingIndex, loadChampion, rawItemVectors, recentItemWeights, type ItemEmbeddings } from '@orrery/models';

async function embeddingsToMeasure(values: Record<string, string | boolean | undefined>): Promise<{ embeddings: ItemEmbeddings; source: string; recentLists: string[][] }> {
  if (values.registry) {
    const pool = new Pool({ connectionString: readConfig().postgresUrl });
    try {
      const champion = await loadChampion(pool);
      if (!champion) throw new Error('the registry has no champion; run the trainer first');
      const random = createSeededRandom(1);
      // Without the users' histories at hand, queries fold in random sets of 1–10 items.
      const recentLists = Array.from({ length: 1_000 }, () => Array.from({ length: 1 + random.int(10) }, () => champion.itemIds[random.int(champion.itemIds.length)] as string));
      return { embeddings: champion, source: `champion ${champion.version}`, recentLists };
    } finally {
      await pool.end();
    }
  }
  const users = Number(values.users ?? 5_000);
  const items = Number(values.items ?? 20_000);
  const factors = Number(values.factors ?? 32);
  const started = Date.now();
  const dataset = generateSyntheticDataset({ users, items, eventsPerUser: 40, seed: 3 });
  const model = trainImplicitAls(dataset.events, { factors, iterations: 8 });
  const byUser = new Map<string, string[]>();
  for (const event of dataset.events) {
    const list = byUser.get(event.userId) ?? [];
    list.unshift(event.itemId);
    byUser.set(event.userId, list);
  }
  const recentLists = [...byUser.values()].map((list) => list.slice(0, 20));
  return { embeddings: model, source: `synthetic ${users} users × ${items} items, ${dataset.events.length} events, ALS ${factors} factors trained in ${Date.now() - started} ms`, recentLists };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}

function timing(label: string, micros: number[]): string {
  const sorted = [...micros].sort((a, b) => a - b);
  const mean = micros.reduce((sum, value) => sum + value, 0) / Math.max(1, micros.length);
  return `${label}: mean ${mean.toFixed(0)} µs, p50 ${percentile(sorted, 0.5).toFixed(0)} µs, p99 ${percentile(sorted, 0.99).toFixed(0)} µs`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { users: { type: 'string' }, items: { type: 'string' }, factors: { type: 'string' }, queries: { type: 'string' }, count: { type: 'string' }, registry: { type: 'boolean' } },
  });
  const K = Number(values.count ?? 10);
  if (!Number.isInteger(K) || K <= 0) throw new Error(`--count must be a positive integer, got ${values.count}`);
  const { embeddings, source, recentLists } = await embeddingsToMeasure(values);
  const { factors, itemIds, itemVectors } = embeddings;
  const buildStarted = Date.now();
  const index = await buildServingIndex('measure', embeddings, new Set());
  const buildMs = Date.now() - buildStarted;
  const raw = rawItemVectors(embeddings);
  const unit = new Map(itemIds.map((itemId, row) => [itemId, itemVectors.subarray(row * factors, (row + 1) * factors)]));
  const queries = Math.min(Number(values.queries ?? 1_000), recentLists.length);
  const now = () => Number(process.hrtime.bigint()) / 1_000;

  let userHits = 0;
  const annUser: number[] = [];
  const exactUser: number[] = [];
  for (const recent of recentLists.slice(0, queries)) {
    let started = now();
    const approximate = index.searchForUser(recent, K, []).map((hit) => hit.itemId);
    annUser.push(now() - started);
    started = now();
    const query = foldInUser(unit, recentItemWeights(recent), factors);
    if (!query) continue;
    const recentSet = new Set(recent);
    const scores = new Float32Array(itemIds.length);
    for (let row = 0; row < itemIds.length; row++) {
      let dot = 0;
      for (let k = 0; k < factors; k++) dot += (query[k] as number) * (raw[row * factors + k] as number);
      scores[row] = dot;
    }
    const exact = new Set(topKByScore(scores, K, (row) => recentSet.has(itemIds[row] as string)).map((row) => itemIds[row] as string));
    exactUser.push(now() - started);
    userHits += approximate.filter((itemId) => exact.has(itemId)).length;
  }

  let itemHits = 0;
  const annItem: number[] = [];
  const exactItem: number[] = [];
  const random = createSeededRandom(7);
  for (let q = 0; q < queries; q++) {
    const row = random.int(itemIds.length);
    const itemId = itemIds[row] as string;
    let started = now();
    const approximate = index.similarTo(itemId, K).map((hit) => hit.itemId);
    annItem.push(now() - started);
    started = now();
    const scores = new Float32Array(itemIds.length);
    for (let other = 0; other < itemIds.length; other++) {
      let dot = 0;
      for (let k = 0; k < factors; k++) dot += (itemVectors[row * factors + k] as number) * (itemVectors[other * factors + k] as number);
      scores[other] = dot;
    }
    const exact = new Set(topKByScore(scores, K, (other) => other === row).map((other) => itemIds[other] as string));
    exactItem.push(now() - started);
    itemHits += approximate.filter((id) => exact.has(id)).length;
  }

  console.log(`embeddings: ${source}`);
  console.log(`index: ${index.size} items × ${factors} factors, both HNSW indexes built in ${buildMs} ms; exact scan: every item's dot product in JavaScript, then the best ${K}`);
  console.log(`SearchForUser (inner product) recall@${K} vs exact: ${(userHits / (annUser.length * K)).toFixed(4)} over ${annUser.length} queries`);
  console.log(`  ${timing('usearch HNSW', annUser)}; ${timing('exact scan', exactUser)}`);
  console.log(`SimilarTo (cosine) recall@${K} vs exact: ${(itemHits / (annItem.length * K)).toFixed(4)} over ${annItem.length} queries`);
  console.log(`  ${timing('usearch HNSW', annItem)}; ${timing('exact scan', exactItem)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
