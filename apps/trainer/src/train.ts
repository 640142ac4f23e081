// One training run: event store → leave-last-out split → ALS embeddings + ranker → offline evaluation
// (pipeline, retrieval, popularity baseline, and the current champion on the same split) → registry.

import type { Pool } from 'pg';
import type { OrreryConfig } from '@orrery/config';
import {
  evaluationCasesFrom,
  exportRankerToOnnx,
  RANKING_FEATURE_SCHEMA,
  RANKING_FEATURES,
  splitLeaveLastOut,
  trainImplicitAls,
  trainRanker,
  type ImplicitAlsModel,
  type OfflineMetrics,
} from '@orrery/ml';
import {
  BASELINE_METRIC_PREFIX,
  loadChampion,
  loadOnnxRanker,
  promoteIfBetter,
  pruneModelVersions,
  recordEvaluation,
  registerModel,
  type ItemEmbeddings,
  type ModelMetrics,
  type PromotionDecision,
} from '@orrery/models';
import { createPool, migrate } from '@orrery/store';
import type { Logger } from '@orrery/telemetry';
import { indexEmbeddings } from './candidates';
import { baselineRecommender, evaluateAtK, EVALUATION_K, metricEntries, pipelineRecommender, retrievalRecommender, sampleCases, splitIdOf } from './evaluation';
import { readCatalog, readDeletedItems, readInteractions } from './event-source';
import { snapshotHistory, type Catalog } from './history';
import { buildRankerRows } from './ranker-rows';
import { formatSummary } from './summary';

/** The metric promotion compares (full pipeline on the held-out split). */
export const PROMOTION_METRIC = `ndcg@${EVALUATION_K}`;

/** Model versions kept besides the champion (pruneModelVersions), unless --keep-versions says otherwise. */
export const DEFAULT_KEPT_VERSIONS = 20;

export interface TrainOptions {
  /** ALS latent dimensions; default 32. */
  readonly factors?: number;
  /** ALS sweeps; default 10. */
  readonly iterations?: number;
  /** Users evaluated at most (a reproducible sample); default 5000. */
  readonly evaluationUsers?: number;
  /** Negatives sampled per ranker training user; default 10. */
  readonly negativesPerUser?: number;
  /** Seed of ALS initialisation and negative sampling; default 42. */
  readonly seed?: number;
  /** Register without trying to promote; default false. */
  readonly skipPromotion?: boolean;
  /** After registering, delete every version but the champion and this many newest (pruneModelVersions); default 20. */
  readonly keepVersions?: number;
  /**
   * Train nothing when the data's split is this one (the split of the last run of a schedule): no
   * interaction came since, so the run would register the same model again.
   */
  readonly unlessSplit?: string;
  /** Where the human-readable summary table goes; default stdout. */
  readonly print?: (text: string) => void;
  /** Use this pool instead of opening one from config.postgresUrl (it is not closed). */
  readonly pool?: Pool;
}

/** What a run did. */
export type TrainResult =
  | { readonly status: 'skipped'; readonly reason: string }
  | {
      readonly status: 'registered';
      readonly version: string;
      readonly splitId: string;
      readonly metrics: ModelMetrics;
      /** The champion's metrics on the same split, when there was one to compare with. */
      readonly championMetrics: { readonly version: string; readonly metrics: ModelMetrics } | undefined;
      /** undefined when promotion was skipped. */
      readonly promotion: PromotionDecision | undefined;
    };

/** Wall-clock of a step, logged as progress. */
async function timed<T>(logger: Logger, step: string, work: () => Promise<T> | T, detail: (result: T) => Record<string, unknown> = () => ({})): Promise<T> {
  const started = Date.now();
  const result = await work();
  logger.info({ step, ms: Date.now() - started, ...detail(result) }, `trainer: ${step}`);
  return result;
}

/** Evaluates embeddings + ONNX ranker bytes as served, on one split. */
async function evaluateModel(
  embeddings: ItemEmbeddings,
  rankerOnnx: Uint8Array,
  split: { snapshot: ReturnType<typeof snapshotHistory>; catalog: Catalog; cases: ReturnType<typeof evaluationCasesFrom>; catalogSize: number },
): Promise<{ pipeline: OfflineMetrics; retrieval: OfflineMetrics }> {
  const indexed = indexEmbeddings(embeddings);
  const ranker = await loadOnnxRanker(rankerOnnx);
  try {
    const pipeline = await evaluateAtK(split.cases, pipelineRecommender(split.snapshot, indexed, split.catalog, ranker.score), split.catalogSize);
    const retrieval = await evaluateAtK(split.cases, retrievalRecommender(split.snapshot, indexed, split.catalog), split.catalogSize);
    return { pipeline, retrieval };
  } finally {
    await ranker.release();
  }
}

/**
 * Trains once from the event store and registers the version with its metrics; promotes it when
 * it beats the champion on the same split (unless skipPromotion). Skips (no version) when the log is
 * too small to hold out anything.
 */
export async function trainOnce(config: OrreryConfig, logger: Logger, options: TrainOptions = {}): Promise<TrainResult> {
  const pool = options.pool ?? createPool(config, logger, 4);
  try {
    await migrate(pool, { logger });
    return await trainWithPool(pool, config, logger, options);
  } finally {
    if (!options.pool) await pool.end();
  }
}

async function trainWithPool(pool: Pool, config: OrreryConfig, logger: Logger, options: TrainOptions): Promise<TrainResult> {
  const factors = options.factors ?? 32;
  const iterations = options.iterations ?? 10;
  const seed = options.seed ?? 42;
  const print = options.print ?? ((text: string) => process.stdout.write(`${text}\n`));

  const [events, catalog, deletedItems] = await timed(
    logger,
    'read event store',
    () => Promise.all([readInteractions(pool), readCatalog(pool), readDeletedItems(pool)]),
    ([loaded, items, deleted]) => ({ events: loaded.length, catalogItems: items.size, deletedItems: deleted.size }),
  );
  const { train, test } = splitLeaveLastOut(events);
  // The ranker learns from each user's last training item, against the history before it.
  const inner = splitLeaveLastOut(train);
  if (test.length === 0 || inner.test.length === 0) {
    const reason = `not enough history to hold out a split (${events.length} events, ${test.length} users with ≥ 3 events)`;
    logger.warn({ events: events.length }, `trainer: skipped, ${reason}`);
    print(`trainer: skipped: ${reason}`);
    return { status: 'skipped', reason };
  }
  const cases = sampleCases(evaluationCasesFrom(test), options.evaluationUsers ?? 5_000);
  const splitId = splitIdOf(train, test, cases.length);
  logger.info({ splitId, train: train.length, heldOutUsers: test.length, evaluatedUsers: cases.length }, 'trainer: split');
  if (splitId === options.unlessSplit) {
    const reason = `no interaction since the last run (split ${splitId})`;
    logger.info({ splitId }, `trainer: skipped, ${reason}`);
    print(`trainer: skipped: ${reason}`);
    return { status: 'skipped', reason };
  }

  const alsOptions = { factors, iterations, seed };
  const rankerEmbeddings = await timed(logger, 'train ALS for ranker features', () => trainImplicitAls(inner.train, alsOptions), itemsOf);
  const rankerRows = await timed(
    logger,
    'build ranker rows',
    () =>
      buildRankerRows(inner.test, snapshotHistory(inner.train, catalog, config.projection, deletedItems), indexEmbeddings(rankerEmbeddings), catalog, {
        negativesPerUser: options.negativesPerUser,
        seed,
      }),
    (built) => ({ rows: built.labels.length, users: built.users, missedUsers: built.missedUsers }),
  );
  if (rankerRows.users === 0) {
    const reason = 'no user’s next item was among their candidates, so the ranker has no positive example';
    print(`trainer: skipped: ${reason}`);
    return { status: 'skipped', reason };
  }
  const ranker = await timed(logger, 'train ranker', () => trainRanker(rankerRows.rows, rankerRows.labels, RANKING_FEATURES.length), (model) => ({
    weights: Object.fromEntries(model.featureNames.map((name, i) => [name, Number(model.weights[i]?.toFixed(4))])),
  }));
  const rankerOnnx = exportRankerToOnnx(ranker);
  const embeddings = await timed(logger, 'train ALS embeddings', () => trainImplicitAls(train, alsOptions), itemsOf);

  const snapshot = snapshotHistory(train, catalog, config.projection, deletedItems);
  const catalogSize = new Set([...events.map((event) => event.itemId), ...catalog.keys()]).size;
  const split = { snapshot, catalog, cases, catalogSize };
  const candidate = await timed(logger, 'evaluate candidate', () => evaluateModel(embeddings, rankerOnnx, split), (result) => ({
    [PROMOTION_METRIC]: result.pipeline.ndcg,
    users: result.pipeline.users,
  }));
  const baseline = await timed(logger, 'evaluate popularity baseline', () => evaluateAtK(cases, baselineRecommender(train, catalog), catalogSize), (result) => ({
    [PROMOTION_METRIC]: result.ndcg,
  }));

  const metrics: ModelMetrics = {
    ...metricEntries(candidate.pipeline),
    ...metricEntries(candidate.retrieval, 'retrieval.'),
    ...metricEntries(baseline, BASELINE_METRIC_PREFIX),
    evaluatedUsers: candidate.pipeline.users,
    trainEvents: train.length,
    items: embeddings.itemIds.length,
    'ranker.rows': rankerRows.labels.length,
    'ranker.users': rankerRows.users,
    'ranker.missedUsers': rankerRows.missedUsers,
  };

  const championMetrics = await timed(logger, 'evaluate champion on this split', () => evaluateChampion(pool, split, splitId, logger), (result) => ({
    champion: result?.version,
  }));

  const registered = await registerModel(pool, {
    metrics,
    splitId,
    featureSchema: RANKING_FEATURE_SCHEMA,
    factors: embeddings.factors,
    itemIds: embeddings.itemIds,
    itemVectors: embeddings.itemVectors,
    itemNorms: embeddings.itemNorms,
    rankerOnnx,
  });
  logger.info({ modelVersion: registered.version, splitId }, 'trainer: model registered');
  const promotion = options.skipPromotion ? undefined : await promoteIfBetter(pool, registered.version, PROMOTION_METRIC);
  if (promotion) logger.info({ modelVersion: registered.version, promoted: promotion.promoted, reason: promotion.reason }, 'trainer: promotion decided');
  const pruned = await pruneModelVersions(pool, options.keepVersions ?? DEFAULT_KEPT_VERSIONS);
  if (pruned.length > 0) logger.info({ deleted: pruned.length, oldest: pruned[0], newest: pruned[pruned.length - 1] }, 'trainer: old model versions deleted');

  print(formatSummary({ version: registered.version, splitId, metrics, championMetrics, promotion, k: EVALUATION_K }));
  return { status: 'registered', version: registered.version, splitId, metrics, championMetrics, promotion };
}

function itemsOf(model: ImplicitAlsModel): Record<string, unknown> {
  return { items: model.itemIds.length, users: model.userIds.length, factors: model.factors };
}

/**
 * Re-evaluates the champion on this split (so promotion compares like with like) and records it.
 * A champion built on another feature schema cannot be fed these features: it is left unevaluated.
 */
async function evaluateChampion(
  pool: Pool,
  split: Parameters<typeof evaluateModel>[2],
  splitId: string,
  logger: Logger,
): Promise<{ version: string; metrics: ModelMetrics } | undefined> {
  const champion = await loadChampion(pool);
  if (!champion) return undefined;
  if (champion.featureSchema !== RANKING_FEATURE_SCHEMA) {
    logger.warn({ champion: champion.version, schema: champion.featureSchema }, 'trainer: champion uses another feature schema: not evaluated on this split; a model beating the popularity baseline replaces it');
    return undefined;
  }
  const result = await evaluateModel(champion, champion.rankerOnnx, split);
  const metrics: ModelMetrics = { ...metricEntries(result.pipeline), ...metricEntries(result.retrieval, 'retrieval.'), evaluatedUsers: result.pipeline.users };
  await recordEvaluation(pool, champion.version, splitId, metrics);
  return { version: champion.version, metrics };
}
