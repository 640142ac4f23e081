// Offline evaluation on the held-out split of the three things the trainer compares: the full
// served pipeline (candidates + ranker), ANN retrieval alone, and the popularity baseline.

import { createHash } from 'node:crypto';
import { evaluateRecommender, popularityBaseline, type EvaluationCase, type Interaction, type OfflineMetrics, type Recommender } from '@orrery/ml';
import { annCandidates, candidatesForUser, featureRows, type IndexedEmbeddings } from './candidates';
import { servableIn, type Catalog, type HistorySnapshot } from './history';

/** The cut-off of every metric. */
export const EVALUATION_K = 10;

/** Scores a candidate feature matrix (rowCount × features); e.g. an ONNX ranker session. */
export type RowScorer = (rows: Float32Array, rowCount: number) => Promise<Float32Array>;

/** Recommends as the platform would: candidates from the three sources, ranked by `scorer`. */
export function pipelineRecommender(snapshot: HistorySnapshot, embeddings: IndexedEmbeddings, catalog: Catalog, scorer: RowScorer): Recommender {
  return async (userId, k) => {
    const candidates = candidatesForUser(userId, snapshot, embeddings, catalog);
    if (candidates.length === 0) return [];
    const scores = await scorer(featureRows(userId, candidates, snapshot, catalog), candidates.length);
    return candidates
      .map((candidate, index) => ({ itemId: candidate.itemId, score: scores[index] as number }))
      .sort((a, b) => b.score - a.score)
      .slice(0, k)
      .map((entry) => entry.itemId);
  };
}

/** Recommends the ANN source's items alone, by ALS affinity. */
export function retrievalRecommender(snapshot: HistorySnapshot, embeddings: IndexedEmbeddings, catalog: Catalog): Recommender {
  return (userId, k) => {
    const seen = snapshot.seenItems.get(userId);
    const servable = servableIn(catalog);
    const exclude = (itemId: string): boolean => (seen?.has(itemId) ?? false) || !servable(itemId);
    return annCandidates(snapshot.recentItems.get(userId) ?? [], exclude, embeddings, k).map((hit) => hit.itemId);
  };
}

/** The popularity baseline of `train`, of the items serving could show (servableIn: not hidden, not deleted). */
export function baselineRecommender(train: readonly Interaction[], catalog: Catalog): Recommender {
  const servable = servableIn(catalog);
  return popularityBaseline(train, { excluded: (itemId) => !servable(itemId) });
}

/** Metrics under `prefix` (e.g. `baseline.`) as flat registry entries: `ndcg@10`, `hitRate@10`, `recall@10`. */
export function metricEntries(metrics: OfflineMetrics, prefix = ''): Record<string, number> {
  const entries: Record<string, number> = {
    [`${prefix}ndcg@${metrics.k}`]: metrics.ndcg,
    [`${prefix}hitRate@${metrics.k}`]: metrics.hitRate,
    [`${prefix}recall@${metrics.k}`]: metrics.recall,
  };
  if (metrics.coverage !== undefined) entries[`${prefix}coverage@${metrics.k}`] = metrics.coverage;
  return entries;
}

/** Evaluates at EVALUATION_K with the concurrency an in-process scorer wants. */
export function evaluateAtK(cases: readonly EvaluationCase[], recommend: Recommender, catalogSize: number): Promise<OfflineMetrics> {
  return evaluateRecommender(cases, recommend, EVALUATION_K, { catalogSize, concurrency: 4 });
}

/**
 * The first `limit` cases in an order fixed by a hash of the user id, so a capped evaluation
 * draws an unbiased, reproducible sample of users.
 */
export function sampleCases(cases: readonly EvaluationCase[], limit: number): EvaluationCase[] {
  if (cases.length <= limit) return [...cases];
  const keyed = cases.map((evaluationCase) => ({ evaluationCase, key: createHash('sha1').update(evaluationCase.userId).digest('hex') }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return keyed.slice(0, limit).map((entry) => entry.evaluationCase);
}

/**
 * Identity of what metrics were measured on: a hash of the held-out events, of the size and newest time
 * of the training part (the event log is append-only, so those pin the history), and of how many
 * held-out users the metrics average over (sampleCases draws one fixed sample per count, so trainers
 * run with different --evaluation-users never compare figures of different users).
 */
export function splitIdOf(train: readonly Interaction[], test: readonly Interaction[], evaluatedUsers: number): string {
  const hash = createHash('sha256');
  let newest = -Infinity;
  for (const event of train) newest = Math.max(newest, event.occurredAt);
  hash.update(`train:${train.length}:${newest}\nevaluated:${evaluatedUsers}\n`);
  const lines = test.map((event) => `${event.userId}\t${event.itemId}\t${event.occurredAt}`).sort();
  for (const line of lines) hash.update(`${line}\n`);
  return `llo-${hash.digest('hex').slice(0, 16)}`;
}
