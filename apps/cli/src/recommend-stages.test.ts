import { formatRecommendStages, recommendStages, type RecommendStages, type TimedSpan } from './recommend-stages';

const span = (service: string, operationName: string, startMs: number, endMs: number): TimedSpan => ({ service, operationName, startMs, endMs });
const SERVER = 'grpc.orrery.v1.RecommendationService/Recommend';

describe('recommendStages', () => {
  it('when a call is traced, its latency splits into the generator sending late, the time outside the handler, each read, the search, the score call and the rest of the handler', () => {
    const spans = [
      span('recommender', SERVER, 100, 104),
      span('recommender', 'redis read user', 100.2, 101.2),
      span('recommender', 'ann search', 101.3, 101.8),
      span('recommender', 'scoring request', 102, 103.5),
      span('scoring', 'scoring serve', 102.4, 103),
    ];
    expect(recommendStages(spans, { sentLateMs: 0.5, latencyMs: 6 })).toEqual({
      sentLate: 0.5,
      outsideHandler: 1.5,
      userRead: 1,
      annSearch: 0.5,
      sharedReads: 0,
      scoreCall: 1.5,
      restOfHandler: 1,
      total: 6,
    });
  });

  it("when shared reads missed the cache, each is summed; another service's spans of the same names are not the recommender's", () => {
    const spans = [
      span('recommender', SERVER, 0, 10),
      span('recommender', 'redis read user', 0, 1),
      span('recommender', 'redis read items', 1, 4),
      span('recommender', 'redis read co-visits', 4, 6),
      span('query', 'redis read items', 0, 9),
      span('query', SERVER, 0, 50),
    ];
    const stages = recommendStages(spans, { sentLateMs: 0, latencyMs: 12 })!;
    expect(stages.sharedReads).toBe(5);
    expect(stages.restOfHandler).toBe(4);
    expect(stages.outsideHandler).toBe(2);
  });

  it('when spans ran side by side, each stage keeps its whole span and the rest of the handler is what none of them covers', () => {
    const spans = [
      span('recommender', SERVER, 0, 10),
      span('recommender', 'redis read user', 0, 2),
      span('recommender', 'redis read trending', 1, 3),
      span('recommender', 'ann search', 4, 5),
      span('recommender', 'redis read co-visits', 4, 6),
      // A span past the handler's end (clocks a millisecond apart) covers only the handler's part.
      span('recommender', 'scoring request', 9, 11),
    ];
    expect(recommendStages(spans, { sentLateMs: 0, latencyMs: 12 })).toMatchObject({ userRead: 2, sharedReads: 4, annSearch: 1, scoreCall: 2, restOfHandler: 4 });
  });

  it('when the clocks disagree, no stage is negative', () => {
    const spans = [span('recommender', SERVER, 0, 2), span('recommender', 'redis read user', -0.5, 2.5)];
    expect(recommendStages(spans, { sentLateMs: 0.2, latencyMs: 1.5 })).toMatchObject({ outsideHandler: 0, userRead: 3, restOfHandler: 0, total: 1.5 });
  });

  it('when the trace has no SERVER span of the recommender (not exported yet), there are no stages', () => {
    expect(recommendStages([span('recommender', 'redis read user', 0, 1), span('scoring', 'scoring serve', 1, 2)], { sentLateMs: 0, latencyMs: 5 })).toBeUndefined();
    expect(recommendStages([], { sentLateMs: 0, latencyMs: 5 })).toBeUndefined();
  });
});

describe('formatRecommendStages', () => {
  const call = (total: number, outsideHandler: number): RecommendStages => ({
    sentLate: 0,
    outsideHandler,
    userRead: 1,
    annSearch: 0.5,
    sharedReads: 0,
    scoreCall: 1,
    restOfHandler: total - outsideHandler - 2.5,
    total,
  });

  it('gives a row per stage with p50, p99 (≤max: 300 calls are too few for one), max and the mean of the slowest 1% and its share of their latency', () => {
    // 296 calls of 5 ms (1 outside the handler) and 4 of 45 ms (40 outside): the slowest 1% are 3 of those.
    const calls = [call(45, 40), ...Array.from({ length: 296 }, () => call(5, 1)), call(45, 40), call(45, 40), call(45, 40)];
    const table = formatRecommendStages(calls);
    expect(table[0]).toBe('| stage | p50 ms | p99 ms | max ms | mean of the slowest 3 of 300 ms |');
    expect(table).toHaveLength(2 + 8);
    expect(table).toContain('| before and after the handler (gRPC, HTTP/2, event loop) | 1.00 | ≤max | 40.00 | 40.00 (89%) |');
    expect(table).toContain('| user read (Redis) | 1.00 | ≤max | 1.00 | 1.00 (2%) |');
    expect(table.at(-1)).toBe('| client latency | 5.00 | ≤max | 45.00 | 45.00 |');
  });

  it('when fewer than 100 calls were traced, the slowest one stands for the tail; with none there is no table', () => {
    expect(formatRecommendStages([call(5, 1), call(9, 2)])[0]).toContain('mean of the slowest 1 of 2 ms');
    expect(formatRecommendStages([])).toEqual([]);
  });
});
