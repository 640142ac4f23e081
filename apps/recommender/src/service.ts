// The RecommendationService server: validates requests, runs the pipelines against the read model
// (Redis projections and the ANN index, in process) and the scoring client, and annotates the
// active (gRPC server) span.
import type { OrreryConfig } from '@orrery/config';
import { bindService, InFlightBudget, startGrpcServer } from '@orrery/grpc';
import { degradedAnswers, recommenderInFlight } from '@orrery/metrics';
import { RecommendationService, type RecommendResponse } from '@orrery/proto';
import { suppressTracing } from '@opentelemetry/core';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { GenMessage } from '@bufbuild/protobuf/codegenv2';
import { context, trace, withSpan, type Logger } from '@orrery/telemetry';
import { followChampionIndex } from '@orrery/models';
import { followProjections, type ProjectionReader } from '@orrery/projections';
import { createPool, migrate } from '@orrery/store';
import { createScoringClient } from './clients';
import { followCatalogChanges, readModel } from './read-model';
import { mergingScorer } from './score-merging';
import type { DownstreamBudget } from './downstream';
import { popular, recommend, similarItems, type RecommendationList, type RecommenderPorts } from './pipeline';
import { validatePopularRequest, validateRecommendRequest, validateSimilarItemsRequest } from './validation';
import { warmUp, WARM_UP_USERS, type WarmUpOutcome } from './warm-up';

/**
 * How many TTLs past its TTL a shared read is still answered while it is read again in the background
 * (staleWhileRefreshMs): after a quiet spell of up to that long, a request answers from memory instead
 * of reading its ~200 catalog facts and co-visit lists itself (18.5 ms of `redis read items` for 201
 * keys in a lone request after 11 s unread, 2026-11-29).
 */
export const STALE_WHILE_REFRESH_TTLS = 5;

/**
 * How long a background refresh of shared reads waits before it starts (refreshDelayMs): a lone
 * request that found dozens of values due has answered by then, instead of decoding their refresh
 * between its own steps (its score call took 13–15 ms for a 0.5–0.7 ms `scoring serve`).
 */
export const SHARED_READS_REFRESH_DELAY_MS = 30;

export interface RunningRecommender {
  /** The port RecommendationService listens on (useful with port 0). */
  readonly port: number;
  /** Stops serving (in-flight calls finish) and closes what it reads from. */
  close(): Promise<void>;
}

/** A recommender server whose grpc.health.v1 status can be set (NOT_SERVING while it warms up). */
export interface ServingRecommender extends RunningRecommender {
  setServing(serving: boolean): void;
}

/** A started recommender, warming up or warm. */
export interface StartedRecommender extends RunningRecommender {
  /** Settles (never rejects) once the warm-up is over, or stopped by close(): health then reports SERVING. */
  readonly warmedUp: Promise<void>;
}

/** What the pipelines read from, opened from the configuration, and how to close it again. */
export interface OpenedPorts {
  readonly ports: RecommenderPorts;
  /** The projections read, for what the pipelines do not ask (e.g. users to warm up with). */
  readonly reader: ProjectionReader;
  close(): Promise<void>;
}

/**
 * Opens the pipelines' ports: the Redis projections (shared reads cached, catalog changes followed),
 * the champion's ANN index (followed in the model registry) and the scoring client over ZeroMQ. What
 * was opened before a step failed is closed again; close() closes everything, newest first, also
 * past a part that fails to close (and then rejects with the first failure).
 */
export async function openRecommenderPorts(config: OrreryConfig, logger: Logger): Promise<OpenedPorts> {
  const closers: (() => Promise<void> | void)[] = [];
  const close = async (): Promise<void> => {
    const failures: unknown[] = [];
    for (const closer of closers.splice(0).reverse()) {
      try {
        await closer();
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length > 0) throw failures[0];
  };
  try {
    const pool = createPool(config, logger, 2);
    closers.push(() => pool.end());
    await migrate(pool, { logger });
    const champion = await followChampionIndex(pool, { pollIntervalMs: config.modelPollIntervalMs, logger });
    closers.push(() => champion.close());
    const projections = await followProjections(config, 'orrery-recommender', logger);
    closers.push(() => projections.close());
    const catalog = followCatalogChanges(projections.reader, config.catalogChangesPollMs, (error) =>
      logger.warn({ err: error }, 'could not check for catalog changes (cached catalog facts are kept until they expire: the TTL and its stale window)'),
    );
    closers.push(() => catalog.stop());
    const reads = readModel(
      projections.reader,
      champion.current,
      {
        ttlMs: config.sharedReadsCacheMs,
        staleWhileRefreshMs: config.sharedReadsCacheMs * STALE_WHILE_REFRESH_TTLS,
        refreshDelayMs: SHARED_READS_REFRESH_DELAY_MS,
        onRefreshError: (error) => logger.warn({ err: error }, 'could not refresh shared reads in the background (they are served until the TTL and its stale window are over, then read in the request)'),
        // A trace of its own: no request waits for it.
        inBackground: (keys, refresh) => withSpan('shared reads refresh', { parent: ROOT_CONTEXT, attributes: { 'orrery.cache.keys': keys.length } }, refresh),
      },
      catalog.current,
    );
    const scoring = createScoringClient(config.scoringZmqEndpoint, config.downstreamTimeoutMs);
    closers.push(() => scoring.close());
    return {
      ports: { users: reads, features: reads, coVisitation: reads, trending: reads, candidates: reads, scorer: mergingScorer(scoring) },
      reader: projections.reader,
      close,
    };
  } catch (error) {
    await close().catch((closeError: unknown) => logger.warn({ err: closeError }, 'could not close what the recommender had opened before it failed to start'));
    throw error;
  }
}

/**
 * Starts RecommendationService on config.recommenderAddress: reads the Redis projections and searches
 * the champion's ANN index in process, scores over ZeroMQ. Its health reports NOT_SERVING until the
 * warm-up is over (warmedUp), then SERVING, also when a part fails: the answers say what is missing
 * (degraded).
 */
export async function startRecommender(config: OrreryConfig, logger: Logger): Promise<StartedRecommender> {
  const opened = await openRecommenderPorts(config, logger);
  const warming = config.recommenderWarmUpRequests > 0;
  const server = await serveRecommendations(opened.ports, config, logger, { servingOnceBound: !warming }).catch(async (error: unknown) => {
    await opened.close().catch((closeError: unknown) => logger.warn({ err: closeError }, 'could not close what the recommender had opened before it failed to serve'));
    throw error;
  });
  const stopWarmUp = new AbortController();
  const warmedUp = warming
    ? warmUpInProcess(opened.ports, opened.reader, config, logger, stopWarmUp.signal).finally(() => server.setServing(true))
    : Promise.resolve();
  return {
    port: server.port,
    warmedUp,
    close: async () => {
      stopWarmUp.abort();
      await warmedUp;
      await server.close();
      await opened.close();
    },
  };
}

/**
 * Runs config.recommenderWarmUpRequests Recommend pipelines (warm-up.ts) for users the projections know
 * (none when they know none) and logs what it did. In process, not over its gRPC port: with
 * node:cluster workers the port is shared, and a worker's own calls would warm the others. So the
 * calls never count in the RPC metrics or make traces (tracing is suppressed), and HTTP/2 and
 * protobuf are left to warm up on the first requests. Never rejects.
 */
async function warmUpInProcess(
  ports: RecommenderPorts,
  reader: ProjectionReader,
  config: Pick<OrreryConfig, 'recommenderWarmUpRequests' | 'downstreamTimeoutMs'>,
  logger: Logger,
  stop: AbortSignal,
): Promise<void> {
  try {
    const userIds = await reader.usersWithHistory(WARM_UP_USERS).catch((error: unknown) => {
      logger.warn({ err: error }, 'could not look for users to warm up with (Redis unreachable?); serving without a warm-up');
      return [];
    });
    if (userIds.length === 0) {
      logger.info('no user in the projections to warm up with (a new platform?); serving without a warm-up');
      return;
    }
    logger.info({ users: userIds.length, requests: config.recommenderWarmUpRequests }, 'warming up: Recommend calls in process before reporting SERVING');
    const report = await context.with(suppressTracing(context.active()), () =>
      warmUp(inProcessRecommend(ports, config.downstreamTimeoutMs), userIds, { requests: config.recommenderWarmUpRequests, stop }),
    );
    logger.info({ warmUp: report }, 'warmed up (ORRERY_RECOMMENDER_WARMUP_REQUESTS)');
  } catch (error) {
    logger.warn({ err: error }, 'the warm-up failed; serving without it');
  }
}

/** A Recommend of 10 items for a user, run in process as the gRPC handler runs it (no deadline but each call's timeout). */
export function inProcessRecommend(ports: RecommenderPorts, downstreamTimeoutMs: number): (userId: string) => Promise<WarmUpOutcome> {
  const budget: DownstreamBudget = { perCallTimeoutMs: downstreamTimeoutMs, requestDeadlineMs: Infinity, now: Date.now };
  return async (userId) => {
    const query = validateRecommendRequest({ userId, count: 10, context: {} });
    return (await recommend(ports, query, budget)).degradedReasons.length > 0 ? 'degraded' : 'whole';
  };
}

/**
 * Serves RecommendationService on config.recommenderAddress over the given ports. At most
 * config.recommenderMaxInFlight calls are served at once: past that a call waits up to
 * config.recommenderQueueWaitMs for room, then gets RESOURCE_EXHAUSTED, so an overloaded recommender
 * refuses fast (the caller can retry with backoff or show a fallback) instead of queueing every call
 * on its event loop until all of them are late.
 */
export async function serveRecommendations(
  ports: RecommenderPorts,
  config: Pick<OrreryConfig, 'recommenderAddress' | 'downstreamTimeoutMs' | 'recommenderMaxInFlight' | 'recommenderQueueWaitMs'>,
  logger: Logger,
  options: { readonly servingOnceBound?: boolean } = {},
): Promise<ServingRecommender> {
  const budget = (requestDeadlineMs: number): DownstreamBudget => ({ perCallTimeoutMs: config.downstreamTimeoutMs, requestDeadlineMs, now: Date.now });
  const inFlight = new InFlightBudget(
    config.recommenderMaxInFlight,
    config.recommenderQueueWaitMs,
    ({ inFlight: serving, capacity, waitedMs }) =>
      `the recommender is overloaded (${serving} of ${capacity} calls in flight, ORRERY_RECOMMENDER_MAX_IN_FLIGHT; waited ${waitedMs} ms): retry with backoff or show a fallback`,
  );
  const served = <T>(work: () => Promise<T>): Promise<T> =>
    inFlight.run(1, async () => {
      recommenderInFlight.inc();
      try {
        return await work();
      } finally {
        recommenderInFlight.dec();
      }
    });

  const answer = (method: string, list: RecommendationList): MessageInitShape<GenMessage<RecommendResponse>> => {
    annotateActiveSpan(list);
    if (list.degradedReasons.length > 0) logger.warn({ method, degradedReasons: list.degradedReasons }, 'degraded answer');
    for (const reason of list.degradedReasons) degradedAnswers.inc({ part: degradedPart(reason) });
    return {
      items: list.items.map((item) => ({ itemId: item.itemId, score: item.score, reasons: [...item.reasons] })),
      modelVersion: list.modelVersion,
      degraded: list.degradedReasons.length > 0,
      degradedReasons: [...list.degradedReasons],
    };
  };

  const server = await startGrpcServer({
    address: config.recommenderAddress,
    services: [
      bindService(RecommendationService, {
        recommend: async (request, call) => {
          const validated = validateRecommendRequest(request);
          trace.getActiveSpan()?.setAttribute('orrery.user_id', validated.userId);
          return answer('Recommend', await served(() => recommend(ports, validated, budget(call.deadline))));
        },
        similarItems: async (request, call) => {
          const validated = validateSimilarItemsRequest(request);
          trace.getActiveSpan()?.setAttribute('orrery.item_id', validated.itemId);
          return answer('SimilarItems', await served(() => similarItems(ports, validated, budget(call.deadline))));
        },
        popular: async (request, call) => {
          const validated = validatePopularRequest(request);
          return answer('Popular', await served(() => popular(ports, validated, budget(call.deadline))));
        },
      }),
    ],
    onInternalError: (error, path) => logger.error({ err: error, path }, 'internal error'),
    servingOnceBound: options.servingOnceBound ?? true,
  });

  return { port: server.port, setServing: (serving) => server.setServing(serving), close: () => server.shutdown() };
}

/** Records what the pipeline did on the active span (the gRPC server span from instrumentation). */
function annotateActiveSpan(list: RecommendationList): void {
  const span = trace.getActiveSpan();
  if (!span) return;
  span.setAttributes({
    'orrery.candidates.similar': list.stats.candidatesBySource.similar,
    'orrery.candidates.co_visited': list.stats.candidatesBySource['co-visited'],
    'orrery.candidates.trending': list.stats.candidatesBySource.trending,
    'orrery.candidates.merged': list.stats.merged,
    'orrery.candidates.eligible': list.stats.eligible,
    'orrery.ranking': list.stats.ranking,
    'orrery.results': list.items.length,
    'orrery.model_version': list.modelVersion,
    'orrery.degraded': list.degradedReasons.length > 0,
  });
  if (list.degradedReasons.length > 0) span.setAttribute('orrery.degraded_reasons', [...list.degradedReasons]);
}

/** The part a degraded reason names ('vector unavailable: …' → 'vector'): a bounded metric label. */
function degradedPart(reason: string): string {
  const cut = reason.indexOf(' unavailable');
  return cut > 0 ? reason.slice(0, cut) : 'other';
}
