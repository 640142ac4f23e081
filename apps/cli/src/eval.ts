// `orrery eval`: replays a data set through the live API of an isolated platform and measures the
// served recommendations against the held-out next item of each user, beside baselines computed
// from the same live projections.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readConfig } from '@orrery/config';
import { createClient, type Client } from '@orrery/grpc';
import { evaluationCasesFrom, splitLeaveLastOut, type EvaluationCase } from '@orrery/ml';
import { QueryService, RecommendationService } from '@orrery/proto';
import { eventually } from '@orrery/testing';
import { lastItemByUser } from './caught-up';
import { allEvents, type Dataset } from './dataset';
import { EVAL_RECOMMENDERS, renderBarChartSvg, renderMarkdown, scoreLists, type EvalSummary } from './eval-report';
import { startIsolatedPlatform } from './isolated-platform';
import { ProgressBar } from './progress';
import { ingestDataset } from './seed';

export interface EvalOptions {
  /** A name for the report and its files (e.g. `synthetic-1000u`, `ml-100k`). */
  readonly name: string;
  readonly dataset: Dataset;
  /** At most this many held-out users are asked (evenly spread over the held-out set); default all. */
  readonly maxUsers?: number;
  /** Write `eval-<name>.md` and `eval-<name>.svg` here; nothing written when undefined. */
  readonly outDir?: string;
  readonly progress: boolean;
}

/** The list length asked of every recommender (Recall@20 needs 20). */
const LIST_LENGTH = 20;
/** Recent items the co-visitation baseline starts from, as the recommender does (RECENT_ITEMS). */
const RECENT_ITEMS = 20;
const CONCURRENCY = 8;

/**
 * Splits the data set leave-last-out by time, sends the train part through ingestion of a fresh
 * isolated platform, trains and promotes a model there, then asks every evaluated user's
 * recommendations through the public API (and the baselines through the same projections) and
 * scores them. Writes the markdown table and the SVG chart when `outDir` is set.
 */
export async function runLiveEvaluation(options: EvalOptions): Promise<EvalSummary> {
  const split = splitLeaveLastOut(allEvents(options.dataset));
  const cases = sample(evaluationCasesFrom(split.test), options.maxUsers ?? Infinity);
  const lastTrainItem = lastItemByUser(split.train);
  const platform = await startIsolatedPlatform();
  try {
    await ingestDataset({ ...options.dataset, events: split.train }, platform.ingestAddress, { progress: options.progress });
    if (options.progress) process.stderr.write('training…\n');
    platform.train();
    const recommender = createClient(RecommendationService, platform.recommenderAddress, { timeoutMs: 10_000 });
    const query = createClient(QueryService, readConfig(platform.env).queryAddress, { timeoutMs: 10_000 });
    try {
      // Vector and scoring pick the promoted model up from the registry's notification.
      const probe = cases[0]?.userId ?? 'eval-probe';
      const ready = await eventually(() => recommender.recommend({ userId: probe, count: 10 }), {
        accept: (reply) => reply.modelVersion !== '' && !reply.degraded,
        timeoutMs: 60_000,
        what: 'the promoted model in Recommend',
      });
      const served: string[][] = [];
      const popular: string[][] = [];
      const coVisited: string[][] = [];
      const bar = new ProgressBar('users', cases.length);
      let next = 0;
      let done = 0;
      await Promise.all(
        Array.from({ length: Math.min(CONCURRENCY, cases.length) }, async () => {
          while (next < cases.length) {
            const index = next++;
            const userId = cases[index]!.userId;
            const lists = await listsOf(userId, lastTrainItem.get(userId), recommender, query);
            served[index] = lists.served;
            popular[index] = lists.popular;
            coVisited[index] = lists.coVisited;
            done += 1;
            if (options.progress) bar.update(done);
          }
        }),
      );
      const catalogSize = options.dataset.items.filter((item) => !item.hidden).length;
      const summary: EvalSummary = {
        dataset: options.name,
        users: options.dataset.users.length,
        items: options.dataset.items.length,
        trainEvents: split.train.length,
        evaluatedUsers: cases.length,
        modelVersion: ready.modelVersion,
        rows: [
          scoreLists(EVAL_RECOMMENDERS.served, cases, served, catalogSize),
          scoreLists(EVAL_RECOMMENDERS.popularity, cases, popular, catalogSize),
          scoreLists(EVAL_RECOMMENDERS.coVisitation, cases, coVisited, catalogSize),
        ],
      };
      if (options.outDir !== undefined) writeReport(summary, options.outDir);
      return summary;
    } finally {
      recommender.close();
      query.close();
    }
  } finally {
    await platform.stop();
  }
}

/** Writes `eval-<name>.md` and `eval-<name>.svg` into `outDir`; returns the markdown path. */
export function writeReport(summary: EvalSummary, outDir: string): string {
  mkdirSync(outDir, { recursive: true });
  const base = `eval-${summary.dataset.replace(/[^A-Za-z0-9._-]+/g, '-')}`;
  writeFileSync(join(outDir, `${base}.svg`), renderBarChartSvg(summary));
  const markdown = join(outDir, `${base}.md`);
  writeFileSync(markdown, renderMarkdown(summary, `${base}.svg`, new Date()));
  return markdown;
}

async function listsOf(
  userId: string,
  lastTrainItemId: string | undefined,
  recommender: Client<typeof RecommendationService>,
  query: Client<typeof QueryService>,
): Promise<{ served: string[]; popular: string[]; coVisited: string[] }> {
  // The projector has applied this user's train events once their last one is among the recent items.
  const context = await eventually(() => query.getUserContext({ userId, recentLimit: RECENT_ITEMS }), {
    accept: (reply) => lastTrainItemId === undefined || reply.recent.some((interaction) => interaction.itemId === lastTrainItemId),
    timeoutMs: 60_000,
    what: `the projection of ${userId}'s train events`,
  });
  const seen = new Set([...context.seenItemIds, ...context.recent.map((interaction) => interaction.itemId)]);
  const served = (await recommender.recommend({ userId, count: LIST_LENGTH })).items.map((item) => item.itemId);
  // Asked long enough that the user's seen items can be dropped and 20 remain.
  const trending = await recommender.popular({ count: Math.min(500, LIST_LENGTH + seen.size) });
  const popular = trending.items.map((item) => item.itemId).filter((itemId) => !seen.has(itemId)).slice(0, LIST_LENGTH);

  const recent = [...new Set(context.recent.map((interaction) => interaction.itemId))].slice(0, RECENT_ITEMS);
  const coVisits = recent.length === 0 ? [] : (await query.getCoVisited({ itemIds: recent, countPerItem: 100 })).items;
  const ranked = coVisits.filter((item) => !seen.has(item.itemId)).sort((a, b) => b.score - a.score);
  const views = ranked.length === 0 ? [] : (await query.getItems({ itemIds: ranked.map((item) => item.itemId) })).items;
  const visible = new Set(views.filter((view) => view.exists && !view.hidden).map((view) => view.itemId));
  const coVisited = [...new Set(ranked.map((item) => item.itemId).filter((itemId) => visible.has(itemId)))].slice(0, LIST_LENGTH);
  for (const itemId of popular) if (coVisited.length < LIST_LENGTH && !coVisited.includes(itemId)) coVisited.push(itemId);
  return { served, popular, coVisited };
}

/** At most `max` cases, evenly spread (deterministic). */
function sample(cases: readonly EvaluationCase[], max: number): EvaluationCase[] {
  if (cases.length <= max) return [...cases];
  const step = cases.length / max;
  return Array.from({ length: max }, (_, index) => cases[Math.floor(index * step)]!);
}
