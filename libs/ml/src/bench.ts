// Benchmark of the learning code on the trainer's expected scale; prints figures, asserts nothing.
// Run: npx tsc -b libs/ml && node libs/ml/dist/bench.js [users] [items] [eventsPerUser]

import { coVisitationBaseline, popularityBaseline } from './baselines';
import { embeddingRecommender } from './embedding-recommender';
import { foldInUser, itemVectorsById, recencyWeightedItems } from './fold-in';
import { trainImplicitAls } from './implicit-als';
import { DAY_MS, type Interaction } from './interactions';
import { splitLeaveLastOut } from './leave-last-out';
import { evaluateRecommender, evaluationCasesFrom, type Recommender } from './metrics';
import { exportRankerToOnnx } from './onnx-ranker';
import { createSeededRandom } from './random';
import { trainRanker } from './ranker';
import { RANKING_FEATURES } from './ranking-features';
import { generateSyntheticDataset } from './synthetic-dataset';

function timed<T>(label: string, run: () => T): T {
  const started = process.hrtime.bigint();
  const result = run();
  console.log(`${label.padEnd(44)} ${(Number(process.hrtime.bigint() - started) / 1e6).toFixed(0).padStart(7)} ms`);
  return result;
}

async function main(): Promise<void> {
  const [users = 2000, items = 800, eventsPerUser = 30] = process.argv.slice(2).map(Number);
  const dataset = timed(`generate ${users} users × ${items} items`, () =>
    generateSyntheticDataset({ users, items, eventsPerUser, seed: 7 }),
  );
  console.log(`events: ${dataset.events.length}`);
  const { train, test } = splitLeaveLastOut(dataset.events);
  const model = timed('trainImplicitAls (32 factors, 10 iterations)', () => trainImplicitAls(train));

  const newest = Math.max(...train.map((event) => event.occurredAt));
  const historyByUser = new Map<string, Interaction[]>();
  for (const event of train) {
    const history = historyByUser.get(event.userId);
    if (history) history.push(event);
    else historyByUser.set(event.userId, [event]);
  }
  const vectors = itemVectorsById(model);
  const popularity = popularityBaseline(train);
  const recommenders: Array<[string, Recommender]> = [
    ['popularity', popularity],
    ['co-visitation', coVisitationBaseline(train)],
    ['ALS user vector, cosine', embeddingRecommender(model, train, { similarity: 'cosine', fallback: popularity })],
    ['ALS user vector, dot (× item norm)', embeddingRecommender(model, train, { fallback: popularity })],
    [
      'ALS fold-in of recent items (1-day half-life), dot',
      embeddingRecommender(model, train, {
        fallback: popularity,
        userVector: (userId) =>
          foldInUser(vectors, recencyWeightedItems(historyByUser.get(userId) ?? [], newest, DAY_MS), model.factors),
      }),
    ],
  ];
  const cases = evaluationCasesFrom(test);
  console.log(`\nleave-last-out over ${cases.length} users, k = 10`);
  for (const [name, recommend] of recommenders) {
    const metrics = await evaluateRecommender(cases, recommend, 10, { catalogSize: items });
    console.log(
      `${name.padEnd(52)} NDCG ${metrics.ndcg.toFixed(4)}  hit ${metrics.hitRate.toFixed(4)}  coverage ${(metrics.coverage ?? 0).toFixed(3)}`,
    );
  }

  const random = createSeededRandom(1);
  const rowCount = 200_000;
  const featureCount = RANKING_FEATURES.length;
  const rows = Float32Array.from({ length: rowCount * featureCount }, () => random.normal());
  const labels = Uint8Array.from({ length: rowCount }, (_, i) =>
    (rows[i * featureCount] as number) + 0.5 * (rows[i * featureCount + 1] as number) + random.normal() > 1 ? 1 : 0,
  );
  console.log('');
  const ranker = timed(`trainRanker (${rowCount} rows × ${featureCount} features)`, () => trainRanker(rows, labels, featureCount));
  const bytes = timed('exportRankerToOnnx', () => exportRankerToOnnx(ranker));
  console.log(`ONNX model: ${bytes.length} bytes`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
