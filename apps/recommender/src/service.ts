// The RecommendationService server: validates requests, runs the pipelines against the query,
// vector and scoring clients, and annotates the active (gRPC server) span.
import type { OrreryConfig } from '@orrery/config';
import { bindService, startGrpcServer } from '@orrery/grpc';
import { degradedAnswers } from '@orrery/metrics';
import { RecommendationService, type RecommendResponse } from '@orrery/proto';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { GenMessage } from '@bufbuild/protobuf/codegenv2';
import { trace, type Logger } from '@orrery/telemetry';
import { createQueryClient, createScoringClient, createVectorClient } from './clients';
import { cachingItemFacts } from './item-facts-cache';
import type { DownstreamBudget } from './downstream';
import { popular, recommend, similarItems, type RecommendationList, type RecommenderPorts } from './pipeline';
import { validatePopularRequest, validateRecommendRequest, validateSimilarItemsRequest } from './validation';

export interface RunningRecommender {
  /** The port RecommendationService listens on (useful with port 0). */
  readonly port: number;
  /** Stops serving (in-flight calls finish) and closes the downstream clients. */
  close(): Promise<void>;
}

type Settings = Pick<OrreryConfig, 'recommenderAddress' | 'queryAddress' | 'vectorAddress' | 'scoringZmqEndpoint' | 'downstreamTimeoutMs'> &
  Partial<Pick<OrreryConfig, 'itemFactsCacheMs'>>;

/** Starts RecommendationService on config.recommenderAddress, wired to query, vector and scoring. */
export async function startRecommender(config: Settings, logger: Logger): Promise<RunningRecommender> {
  const query = createQueryClient(config.queryAddress, config.downstreamTimeoutMs);
  const vector = createVectorClient(config.vectorAddress, config.downstreamTimeoutMs);
  const scoring = createScoringClient(config.scoringZmqEndpoint, config.downstreamTimeoutMs);
  const features = cachingItemFacts(query, { ttlMs: config.itemFactsCacheMs ?? 0 });
  const ports: RecommenderPorts = { users: query, features, coVisitation: query, trending: query, candidates: vector, scorer: scoring };
  const budget = (requestDeadlineMs: number): DownstreamBudget => ({ perCallTimeoutMs: config.downstreamTimeoutMs, requestDeadlineMs, now: Date.now });

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
          return answer('Recommend', await recommend(ports, validated, budget(call.deadline)));
        },
        similarItems: async (request, call) => {
          const validated = validateSimilarItemsRequest(request);
          trace.getActiveSpan()?.setAttribute('orrery.item_id', validated.itemId);
          return answer('SimilarItems', await similarItems(ports, validated, budget(call.deadline)));
        },
        popular: async (request, call) => answer('Popular', await popular(ports, validatePopularRequest(request), budget(call.deadline))),
      }),
    ],
    onInternalError: (error, path) => logger.error({ err: error, path }, 'internal error'),
  });

  return {
    port: server.port,
    close: async () => {
      await server.shutdown();
      query.close();
      vector.close();
      await scoring.close();
    },
  };
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
