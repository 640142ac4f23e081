// Offline top-k metrics with binary relevance, and the aggregator the trainer's held-out evaluation
// and the live `orrery eval` share. Each metric counts an item at most once, at its first position.

import type { Interaction } from './interactions';

/** Recommends up to k item ids for a user, best first (in-process or over the network). */
export type Recommender = (userId: string, k: number) => Promise<readonly string[]> | readonly string[];

/** A user and the items a good recommender would have put in their top k. */
export interface EvaluationCase {
  readonly userId: string;
  readonly relevantItemIds: readonly string[];
}

/** Means over the evaluated users. */
export interface OfflineMetrics {
  readonly k: number;
  readonly users: number;
  readonly hitRate: number;
  readonly ndcg: number;
  readonly recall: number;
  /** Distinct recommended items / catalogSize; present when a catalog size was given. */
  readonly coverage?: number;
}

/** The distinct items among the first k of `recommended`, in order. */
function distinctTopK(recommended: readonly string[], k: number): string[] {
  const seen = new Set<string>();
  for (const itemId of recommended) {
    if (seen.size >= k) break;
    seen.add(itemId);
  }
  return [...seen];
}

/** 1 when any of the first k recommendations is relevant, else 0. */
export function hitRateAtK(recommended: readonly string[], relevant: ReadonlySet<string>, k: number): number {
  return distinctTopK(recommended, k).some((itemId) => relevant.has(itemId)) ? 1 : 0;
}

/** Share of the relevant items found in the first k recommendations; 0 when nothing is relevant. */
export function recallAtK(recommended: readonly string[], relevant: ReadonlySet<string>, k: number): number {
  if (relevant.size === 0) return 0;
  const hits = distinctTopK(recommended, k).filter((itemId) => relevant.has(itemId)).length;
  return hits / relevant.size;
}

/**
 * Normalised discounted cumulative gain of the first k recommendations with binary relevance:
 * Σ 1/log2(rank + 1) over relevant hits, divided by the same sum for a perfect list; 0 when nothing is relevant.
 */
export function ndcgAtK(recommended: readonly string[], relevant: ReadonlySet<string>, k: number): number {
  if (relevant.size === 0) return 0;
  let dcg = 0;
  distinctTopK(recommended, k).forEach((itemId, position) => {
    if (relevant.has(itemId)) dcg += 1 / Math.log2(position + 2);
  });
  let ideal = 0;
  for (let position = 0; position < Math.min(k, relevant.size); position++) ideal += 1 / Math.log2(position + 2);
  return dcg / ideal;
}

/** Share of a catalog of `catalogSize` items that appears in the first k of at least one list. */
export function catalogCoverage(lists: Iterable<readonly string[]>, catalogSize: number, k = Infinity): number {
  if (catalogSize <= 0) return 0;
  const distinct = new Set<string>();
  for (const list of lists) for (const itemId of distinctTopK(list, k)) distinct.add(itemId);
  return distinct.size / catalogSize;
}

/** One evaluation case per user from held-out events (e.g. the `test` of `splitLeaveLastOut`). */
export function evaluationCasesFrom(heldOut: readonly Interaction[]): EvaluationCase[] {
  const byUser = new Map<string, Set<string>>();
  for (const { userId, itemId } of heldOut) {
    let items = byUser.get(userId);
    if (!items) byUser.set(userId, (items = new Set()));
    items.add(itemId);
  }
  return [...byUser].map(([userId, items]) => ({ userId, relevantItemIds: [...items] }));
}

/**
 * Asks `recommend` for k items per case (at most `concurrency` calls in flight, default 8) and
 * returns the mean hit rate, NDCG and recall at k, plus coverage when `catalogSize` is given.
 * A failing call rejects the whole evaluation.
 */
export async function evaluateRecommender(
  cases: readonly EvaluationCase[],
  recommend: Recommender,
  k: number,
  options: { readonly catalogSize?: number; readonly concurrency?: number } = {},
): Promise<OfflineMetrics> {
  const lists: Array<readonly string[]> = new Array(cases.length);
  let nextCase = 0;
  const worker = async (): Promise<void> => {
    while (nextCase < cases.length) {
      const index = nextCase++;
      lists[index] = await recommend((cases[index] as EvaluationCase).userId, k);
    }
  };
  const workers = Math.max(1, Math.min(options.concurrency ?? 8, cases.length));
  await Promise.all(Array.from({ length: workers }, worker));

  let hitRate = 0;
  let ndcg = 0;
  let recall = 0;
  cases.forEach((evaluationCase, index) => {
    const relevant = new Set(evaluationCase.relevantItemIds);
    const list = lists[index] as readonly string[];
    hitRate += hitRateAtK(list, relevant, k);
    ndcg += ndcgAtK(list, relevant, k);
    recall += recallAtK(list, relevant, k);
  });
  const users = cases.length;
  const mean = (total: number): number => (users === 0 ? 0 : total / users);
  const metrics: OfflineMetrics = { k, users, hitRate: mean(hitRate), ndcg: mean(ndcg), recall: mean(recall) };
  return options.catalogSize === undefined
    ? metrics
    : { ...metrics, coverage: catalogCoverage(lists, options.catalogSize, k) };
}
