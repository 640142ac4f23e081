// The recommender over its real transports: an in-memory read model (what the projections and the
// ANN index would answer), a real ZeroMQ ROUTER standing in for scoring, and RecommendationService
// called through a gRPC client. (The end-to-end tests over real Redis, Postgres, Kafka and the real
// scoring service live in apps/cli.)
import { randomBytes } from 'node:crypto';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { decodeFeatureMatrix, RANKING_FEATURE_SCHEMA, RANKING_FEATURES } from '@orrery/ml';
import { createClient, ServiceError, status, type Client } from '@orrery/grpc';
import { RecommendationService, ScoreReplySchema, ScoreRequestSchema } from '@orrery/proto';
import { healthStatus } from '@orrery/testing';
import { serveZmqRequests, type RunningZmqServer } from '@orrery/zmq';
import { pino } from 'pino';
import { register } from 'prom-client';
import { createScoringClient, type ScoringClient } from '../src/clients';
import type { RecommenderPorts } from '../src/pipeline';
import type { ItemFacts } from '../src/ports';
import type { ReadModel } from '../src/read-model';
import { serveRecommendations, type RunningRecommender } from '../src/service';

const logger = pino({ level: 'silent' });

// u1 recently viewed r1 (and long ago s-old). Candidates: a, b (vector), c (co-visited with r1),
// t (trending); h is hidden, ghost unknown to the catalog, r1 and s-old already seen.
const catalog: Record<string, { categories: string[]; hidden?: boolean }> = {
  r1: { categories: ['books'] },
  's-old': { categories: ['books'] },
  a: { categories: ['books'] },
  b: { categories: ['music'] },
  c: { categories: ['books'] },
  t: { categories: ['games'] },
  h: { categories: ['books'], hidden: true },
};

const annScores: Record<string, number> = { a: 0.5, b: 0.9, h: 0.99, r1: 0.95, ghost: 0.97 };

function itemFacts(itemId: string): ItemFacts {
  const entry = catalog[itemId];
  if (!entry) return { itemId, exists: false, hidden: false, categories: [], publishedAtMs: undefined, popularity: 0, interactions: 0 };
  return { itemId, exists: true, categories: entry.categories, hidden: entry.hidden ?? false, publishedAtMs: Date.UTC(2025, 0, 1), popularity: 2, interactions: 5 };
}

/** The read model as the projections and the ANN index would answer for this catalog. */
const reads: ReadModel = {
  userContext: async (userId) =>
    userId === 'u1'
      ? { userId, known: true, recentItemIds: ['r1'], seenItemIds: ['r1', 's-old'], categoryAffinity: new Map([['books', 3]]), eventCounts: new Map([['VIEW', 1]]) }
      : { userId, known: false, recentItemIds: [], seenItemIds: [], categoryAffinity: new Map(), eventCounts: new Map() },
  items: async (itemIds) => itemIds.map(itemFacts),
  coVisited: async (itemIds) => (itemIds.includes('r1') ? [{ itemId: 'c', score: 4, becauseOfItemId: 'r1' }, { itemId: 's-old', score: 3, becauseOfItemId: 'r1' }] : []),
  trending: async (_count, category) =>
    category === '' || category === 'games'
      ? [{ itemId: 't', score: 10, becauseOfItemId: '' }, { itemId: 'h', score: 9, becauseOfItemId: '' }, { itemId: 'r1', score: 8, becauseOfItemId: '' }]
      : [],
  similarForUser: async (recentItemIds) => ({
    items: Object.entries(annScores).map(([itemId, score]) => ({ itemId, score, becauseOfItemId: recentItemIds[0] ?? '' })),
    modelVersion: 'als-test',
  }),
  similarTo: async (itemId) => ({
    items: itemId === 'a' ? [{ itemId: 'a', score: 1, becauseOfItemId: 'a' }, { itemId: 'c', score: 0.8, becauseOfItemId: 'a' }, { itemId: 'h', score: 0.7, becauseOfItemId: 'a' }] : [],
    modelVersion: 'als-test',
  }),
};

describe('RecommendationService over gRPC and ZeroMQ', () => {
  let scoring: ScoringClient;
  let nobodyScoring: ScoringClient;
  let scorer: RunningZmqServer;
  let recommender: RunningRecommender;
  let withoutScorer: RunningRecommender;
  let client: Client<typeof RecommendationService>;
  let clientWithoutScorer: Client<typeof RecommendationService>;
  const scoreRequests: { featureCount: number; rows: number; schema: string }[] = [];
  const scoringEndpoint = `ipc:///tmp/orrery-recommender-test-${process.pid}-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    // The fake model scores a row by its ann_score column and refuses another feature schema.
    scorer = await serveZmqRequests({
      endpoint: scoringEndpoint,
      name: 'scoring',
      logger,
      handler: async (payload) => {
        const request = fromBinary(ScoreRequestSchema, payload);
        if (request.featureSchema !== RANKING_FEATURE_SCHEMA) throw new ServiceError(status.FAILED_PRECONDITION, `feature_schema: expected ${RANKING_FEATURE_SCHEMA}`);
        const features = decodeFeatureMatrix(request.featureMatrix);
        const rows = features.length / request.featureCount;
        scoreRequests.push({ featureCount: request.featureCount, rows, schema: request.featureSchema });
        const annColumn = RANKING_FEATURES.indexOf('ann_score');
        const scores = Array.from({ length: rows }, (_, row) => features[row * request.featureCount + annColumn] ?? 0);
        return toBinary(ScoreReplySchema, create(ScoreReplySchema, { scores, modelVersion: 'ranker-test' }));
      },
    });
    const config = { recommenderAddress: '127.0.0.1:0', downstreamTimeoutMs: 2_000, recommenderMaxInFlight: 64, recommenderQueueWaitMs: 50 };
    scoring = createScoringClient(scoringEndpoint, 2_000);
    nobodyScoring = createScoringClient(`${scoringEndpoint}-nobody`, 500);
    const ports = (scorer: ScoringClient): RecommenderPorts => ({ users: reads, features: reads, coVisitation: reads, trending: reads, candidates: reads, scorer });
    recommender = await serveRecommendations(ports(scoring), config, logger);
    withoutScorer = await serveRecommendations(ports(nobodyScoring), { ...config, downstreamTimeoutMs: 500 }, logger);
    client = createClient(RecommendationService, `127.0.0.1:${recommender.port}`);
    clientWithoutScorer = createClient(RecommendationService, `127.0.0.1:${withoutScorer.port}`);
  });

  afterAll(async () => {
    client?.close();
    clientWithoutScorer?.close();
    await recommender?.close();
    await withoutScorer?.close();
    await scoring?.close();
    await nobodyScoring?.close();
    await scorer?.close();
  });

  it('Recommend returns candidates ranked by the scorer, without seen, hidden or unknown items', async () => {
    const response = await client.recommend({ userId: 'u1', count: 10 });
    expect(response.degraded).toBe(false);
    expect(response.degradedReasons).toEqual([]);
    expect(response.modelVersion).toBe('ranker-test');
    expect(response.items.map((item) => item.itemId)).toEqual(['b', 'a', 'c', 't']);
    expect(response.items[0]!.score).toBeCloseTo(0.9, 5);
    expect(response.items.find((item) => item.itemId === 'c')?.reasons).toEqual(['co-visited:r1']);
    expect(response.items.find((item) => item.itemId === 'b')?.reasons).toEqual(['similar-to:r1']);
    expect(response.items.find((item) => item.itemId === 't')?.reasons).toEqual(['trending']);
    expect(scoreRequests.at(-1)).toEqual({ featureCount: RANKING_FEATURES.length, rows: 4, schema: RANKING_FEATURE_SCHEMA });
  });

  it('Recommend applies the caller filter', async () => {
    const response = await client.recommend({ userId: 'u1', count: 10, filter: { includeCategories: ['books', 'games'], excludeItemIds: ['t'] } });
    expect(response.items.map((item) => item.itemId)).toEqual(['a', 'c']);
  });

  it('an unknown user gets trending items', async () => {
    const response = await client.recommend({ userId: 'someone-new', count: 5 });
    expect(response.degraded).toBe(false);
    expect(response.items.map((item) => item.itemId)).toEqual(['t', 'r1']);
  });

  it('when the scorer is not running, Recommend answers degraded from the remaining sources', async () => {
    const response = await clientWithoutScorer.recommend({ userId: 'u1', count: 10 });
    expect(response.degraded).toBe(true);
    expect(response.degradedReasons).toEqual([expect.stringMatching(/^scoring unavailable: /)]);
    expect(response.modelVersion).toBe('als-test');
    expect(response.items.map((item) => item.itemId).sort()).toEqual(['a', 'b', 'c', 't']);
  });

  it('SimilarItems returns neighbours and never the item itself or hidden ones', async () => {
    const response = await client.similarItems({ itemId: 'a', count: 10 });
    expect(response.items.map((item) => item.itemId)).toEqual(['c']);
    expect(response.items[0]!.reasons).toEqual(['similar-to:a']);
    expect(response.modelVersion).toBe('als-test');
  });

  it('Popular returns trending items that are visible', async () => {
    const response = await client.popular({ count: 10 });
    expect(response.items.map((item) => item.itemId)).toEqual(['t', 'r1']);
  });

  it('bad input is refused with INVALID_ARGUMENT naming the field', async () => {
    await expect(client.recommend({ userId: '', count: 10 })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: 'user_id: must not be empty' });
    await expect(client.recommend({ userId: 'u1', count: 501 })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: 'count: must be between 0 and 500' });
    await expect(client.similarItems({ itemId: 'x'.repeat(300) })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: 'item_id: must be at most 256 characters' });
    await expect(client.popular({ count: -1 })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: 'count: must be between 0 and 500' });
  });
});

/** The recommender's orrery_recommender_in_flight_calls gauge, as /metrics would report it. */
async function inFlightGauge(): Promise<number> {
  const metric = await register.getSingleMetric('orrery_recommender_in_flight_calls')?.get();
  return metric?.values[0]?.value ?? Number.NaN;
}

describe('RecommendationService while it warms up', () => {
  it('reports NOT_SERVING until told it is warm, and answers calls meanwhile (the warm-up sends them)', async () => {
    const scorer = { score: async (matrix: { rows: number }) => ({ scores: Array.from({ length: matrix.rows }, () => 0), modelVersion: 'flat' }) };
    const ports: RecommenderPorts = { users: reads, features: reads, coVisitation: reads, trending: reads, candidates: reads, scorer };
    const config = { recommenderAddress: '127.0.0.1:0', downstreamTimeoutMs: 2_000, recommenderMaxInFlight: 64, recommenderQueueWaitMs: 50 };
    const server = await serveRecommendations(ports, config, logger, { servingOnceBound: false });
    const address = `127.0.0.1:${server.port}`;
    const caller = createClient(RecommendationService, address);
    try {
      expect(await healthStatus(address)).toBe('NOT_SERVING');
      expect((await caller.recommend({ userId: 'u1', count: 10 })).items).toHaveLength(4);
      server.setServing(true);
      expect(await healthStatus(address)).toBe('SERVING');
    } finally {
      caller.close();
      await server.close();
    }
  });
});

describe('RecommendationService under overload', () => {
  it('serves at most recommenderMaxInFlight calls at once: one more waits recommenderQueueWaitMs, then gets RESOURCE_EXHAUSTED saying why, and the room comes back', async () => {
    // The user read of every call waits at this gate until the test opens it.
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    let userReads = 0;
    const gatedReads: ReadModel = {
      ...reads,
      userContext: async (userId, limits) => {
        userReads += 1;
        await opened;
        return reads.userContext(userId, limits);
      },
    };
    const scorer = { score: async (matrix: { rows: number }) => ({ scores: Array.from({ length: matrix.rows }, () => 0), modelVersion: 'flat' }) };
    const ports: RecommenderPorts = { users: gatedReads, features: gatedReads, coVisitation: gatedReads, trending: gatedReads, candidates: gatedReads, scorer };
    const server = await serveRecommendations(ports, { recommenderAddress: '127.0.0.1:0', downstreamTimeoutMs: 5_000, recommenderMaxInFlight: 2, recommenderQueueWaitMs: 30 }, logger);
    const caller = createClient(RecommendationService, `127.0.0.1:${server.port}`);
    try {
      const first = caller.recommend({ userId: 'u1', count: 10 });
      const second = caller.recommend({ userId: 'u1', count: 10 });
      while (userReads < 2) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(await inFlightGauge()).toBe(2);
      await expect(caller.recommend({ userId: 'u1', count: 10 })).rejects.toMatchObject({
        code: status.RESOURCE_EXHAUSTED,
        details: expect.stringMatching(/^the recommender is overloaded \(2 of 2 calls in flight, ORRERY_RECOMMENDER_MAX_IN_FLIGHT; waited 30 ms\)/),
      });
      // The refused call never reached the pipeline.
      expect(userReads).toBe(2);
      open();
      for (const answer of await Promise.all([first, second])) expect(answer.items.map((item) => item.itemId).sort()).toEqual(['a', 'b', 'c', 't']);
      expect((await caller.recommend({ userId: 'u1', count: 10 })).items).toHaveLength(4);
      expect((await caller.popular({ count: 10 })).items.map((item) => item.itemId)).toEqual(['t', 'r1']);
      expect(await inFlightGauge()).toBe(0);
    } finally {
      open();
      caller.close();
      await server.close();
    }
  });
});
