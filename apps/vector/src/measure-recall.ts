// Measures the ANN indexes (usearch HNSW) against an exact scan in JavaScript on trained item
// embeddings: recall@k and query time of SearchForUser (inner product) and SimilarTo (cosine), for
// k = --count (10 by default; the recommender asks for 140 at count 10). With --seen, SearchForUser
// excludes each synthetic user's distinct seen items (up to 500, newest first, as the recommender's
// seen list keeps them), and the exact scan leaves them out too. Prints figures; asserts nothing.
//   node apps/vector/dist/measure-recall.js [--users 5000] [--items 20000] [--factors 32] [--events-per-user 40] [--queries 1000] [--count 10] [--seen]
//   node apps/vector/dist/measure-recall.js --registry      (the champion of ORRERY_POSTGRES_URL)

import { Pool } from 'pg';
import { integerOption, parseOptions, readCommandLine, readConfig } from '@orrery/config';
import { percentiles } from '@orrery/metrics';
import { createSeededRandom, foldInUser, generateSyntheticDataset, topKByScore, trainImplicitAls } from '@orrery/ml';
import { buildServingIndex, loadChampion, rawItemVectors, recentItemWeights, type ItemEmbeddings } from '@orrery/models';

/** What one SearchForUser query folds in (newest first) and excludes. */
interface UserQuery {
  readonly recent: readonly string[];
  readonly seen: readonly string[];
}

/** Seen items the recommender excludes at most per user (its seen list's default length, ORRERY_SEEN_LIMIT). */
const SEEN_LIMIT = 500;

const USAGE = `usage: node apps/vector/dist/measure-recall.js [--users 5000] [--items 20000] [--factors 32] [--events-per-user 40] [--queries 1000] [--count 10] [--seen]
       node apps/vector/dist/measure-recall.js --registry [--queries 1000] [--count 10] [--seen]`;

interface MeasureOptions {
  readonly users: number;
  readonly items: number;
  readonly factors: number;
  readonly eventsPerUser: number;
  readonly queries: number;
  readonly count: number;
  readonly seen: boolean;
  readonly registry: boolean;
}

function options(argv: readonly string[]): MeasureOptions {
  const { values } = parseOptions({
    args: [...argv],
    options: {
      users: { type: 'string', default: '5000' },
      items: { type: 'string', default: '20000' },
      factors: { type: 'string', default: '32' },
      'events-per-user': { type: 'string', default: '40' },
      queries: { type: 'string', default: '1000' },
      count: { type: 'string', default: '10' },
      seen: { type: 'boolean', default: false },
      registry: { type: 'boolean', default: false },
    },
  });
  return {
    users: integerOption('users', values.users, 1),
    items: integerOption('items', values.items, 1),
    factors: integerOption('factors', values.factors, 1),
    eventsPerUser: integerOption('events-per-user', values['events-per-user'], 1),
    queries: integerOption('queries', values.queries, 1),
    count: integerOption('count', values.count, 1),
    seen: values.seen,
    registry: values.registry,
  };
}

async function embeddingsToMeasure(values: MeasureOptions): Promise<{ embeddings: ItemEmbeddings; source: string; users: UserQuery[] }> {
  if (values.registry) {
    const pool = new Pool({ connectionString: readConfig().postgresUrl });
    try {
      const champion = await loadChampion(pool);
      if (!champion) throw new Error('the registry has no champion; run the trainer first');
      const random = createSeededRandom(1);
      // Without the users' histories at hand, queries fold in random sets of 1–10 items.
      const users = Array.from({ length: 1_000 }, () => {
        const recent = Array.from({ length: 1 + random.int(10) }, () => champion.itemIds[random.int(champion.itemIds.length)] as string);
        return { recent, seen: recent };
      });
      return { embeddings: champion, source: `champion ${champion.version}`, users };
    } finally {
      await pool.end();
    }
  }
  const { users, items, factors, eventsPerUser } = values;
  const started = Date.now();
  const dataset = generateSyntheticDataset({ users, items, eventsPerUser, seed: 3 });
  const model = trainImplicitAls(dataset.events, { factors, iterations: 8 });
  const byUser = new Map<string, string[]>();
  for (const event of dataset.events) {
    const list = byUser.get(event.userId) ?? [];
    list.unshift(event.itemId);
    byUser.set(event.userId, list);
  }
  const queries = [...byUser.values()].map((list) => ({ recent: list.slice(0, 20), seen: [...new Set(list)].slice(0, SEEN_LIMIT) }));
  return {
    embeddings: model,
    source: `synthetic ${users} users × ${items} items, ${dataset.events.length} events, ALS ${factors} factors trained in ${Date.now() - started} ms`,
    users: queries,
  };
}

function timing(label: string, micros: number[]): string {
  const { p50, p99 } = percentiles(micros);
  const mean = micros.reduce((sum, value) => sum + value, 0) / Math.max(1, micros.length);
  return `${label}: mean ${mean.toFixed(0)} µs, p50 ${p50.toFixed(0)} µs, p99 ${p99.toFixed(0)} µs`;
}

async function main(): Promise<void> {
  const commandLine = readCommandLine(process.argv.slice(2), USAGE, options);
  if ('exitCode' in commandLine) return void (process.exitCode = commandLine.exitCode);
  const values = commandLine.options;
  const K = values.count;
  const { embeddings, source, users } = await embeddingsToMeasure(values);
  const { factors, itemIds, itemVectors } = embeddings;
  const buildStarted = Date.now();
  const index = await buildServingIndex('measure', embeddings, new Set());
  const buildMs = Date.now() - buildStarted;
  const raw = rawItemVectors(embeddings);
  const unit = new Map(itemIds.map((itemId, row) => [itemId, itemVectors.subarray(row * factors, (row + 1) * factors)]));
  const queries = Math.min(values.queries, users.length);
  const now = () => Number(process.hrtime.bigint()) / 1_000;

  let userHits = 0;
  const annUser: number[] = [];
  const exactUser: number[] = [];
  let seenCount = 0;
  for (const { recent, seen } of users.slice(0, queries)) {
    const excluded = values.seen ? seen : [];
    seenCount += excluded.length;
    let started = now();
    const approximate = index.searchForUser(recent, K, excluded).hits.map((hit) => hit.itemId);
    annUser.push(now() - started);
    started = now();
    const query = foldInUser(unit, recentItemWeights(recent), factors);
    if (!query) continue;
    const excludedSet = new Set([...recent, ...excluded]);
    const scores = new Float32Array(itemIds.length);
    for (let row = 0; row < itemIds.length; row++) {
      let dot = 0;
      for (let k = 0; k < factors; k++) dot += (query[k] as number) * (raw[row * factors + k] as number);
      scores[row] = dot;
    }
    const exact = new Set(topKByScore(scores, K, (row) => excludedSet.has(itemIds[row] as string)).map((row) => itemIds[row] as string));
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
  const exclusions = values.seen ? `, excluding ${(seenCount / Math.max(1, annUser.length)).toFixed(0)} seen items a user on average` : '';
  console.log(`SearchForUser (inner product) recall@${K} vs exact${exclusions}: ${(userHits / (annUser.length * K)).toFixed(4)} over ${annUser.length} queries`);
  console.log(`  ${timing('usearch HNSW', annUser)}; ${timing('exact scan', exactUser)}`);
  console.log(`SimilarTo (cosine) recall@${K} vs exact: ${(itemHits / (annItem.length * K)).toFixed(4)} over ${annItem.length} queries`);
  console.log(`  ${timing('usearch HNSW', annItem)}; ${timing('exact scan', exactItem)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
