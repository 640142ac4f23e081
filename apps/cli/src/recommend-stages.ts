// What a Recommend's latency is made of, read back from Jaeger: the client's latency against the
// recommender's SERVER span and the spans under it (the user's read, the ANN search, shared reads
// that missed the cache, the score call). The services' own spans say it; nothing is added to them.
import { percentiles } from '@orrery/metrics';
import type { JaegerSpan } from './jaeger';

/** What recommendStages reads of a span. */
export type TimedSpan = Pick<JaegerSpan, 'service' | 'operationName' | 'startMs' | 'endMs'>;

/** Where one Recommend's time went, in ms (see recommendStages). */
export interface RecommendStages {
  /** The client's latency less the recommender's SERVER span: the caller's queue, the network, HTTP/2 and the recommender's event loop before its handler ran, and the reply's way back. */
  readonly outsideHandler: number;
  /** The user's own read (`redis read user`). */
  readonly userRead: number;
  /** The ANN search for the user's candidates (`ann search`). */
  readonly annSearch: number;
  /** Shared reads that missed the cache and were read in the request (every other `redis read …`, summed). */
  readonly sharedReads: number;
  /** The score call over ZeroMQ (`scoring request`); 0 when the request's candidates went in a call another request made (score calls made together are merged). */
  readonly scoreCall: number;
  /** The SERVER span less the spans above: the handler's own work, and its waits for the event loop and for a score call it shared. */
  readonly restOfHandler: number;
  /** The client's latency. */
  readonly total: number;
}

export const RECOMMEND_STAGE_NAMES: Readonly<Record<keyof RecommendStages, string>> = {
  outsideHandler: 'before and after the handler (queues, HTTP/2, event loop)',
  userRead: 'user read (Redis)',
  annSearch: 'ANN search',
  sharedReads: 'shared reads missed by the cache (Redis)',
  scoreCall: 'score call (ZeroMQ, scoring)',
  restOfHandler: 'rest of the handler (own work, event loop, a shared score call)',
  total: 'client latency',
};

const SERVER_SPAN = 'grpc.orrery.v1.RecommendationService/Recommend';
const USER_READ = 'redis read user';
const READ = /^redis read /;

/**
 * The stages of one Recommend from its trace and the latency its client measured; undefined when the
 * trace has no recommender SERVER span (not exported yet, or the call never reached the handler).
 * Only the recommender's spans count (scoring's own `scoring serve` is inside `scoring request`).
 * Spans that ran side by side (the user's read beside a trending read) are both counted, so the rest
 * of the handler is floored at 0.
 */
export function recommendStages(spans: readonly TimedSpan[], clientMs: number): RecommendStages | undefined {
  let server: TimedSpan | undefined;
  let userRead = 0;
  let annSearch = 0;
  let sharedReads = 0;
  let scoreCall = 0;
  for (const span of spans) {
    if (span.service !== 'recommender') continue;
    const took = span.endMs - span.startMs;
    if (span.operationName === SERVER_SPAN) server = span;
    else if (span.operationName === USER_READ) userRead += took;
    else if (READ.test(span.operationName)) sharedReads += took;
    else if (span.operationName === 'ann search') annSearch += took;
    else if (span.operationName === 'scoring request') scoreCall += took;
  }
  if (!server) return undefined;
  const handler = server.endMs - server.startMs;
  return {
    outsideHandler: Math.max(0, clientMs - handler),
    userRead,
    annSearch,
    sharedReads,
    scoreCall,
    restOfHandler: Math.max(0, handler - userRead - annSearch - sharedReads - scoreCall),
    total: clientMs,
  };
}

/**
 * A markdown table: per stage, its p50 and p99 over every traced call, and its mean over the slowest
 * 1% of them by client latency (at least one call) with its share of their latency: what the tail is
 * made of, which percentiles of each stage alone do not say.
 */
export function formatRecommendStages(calls: readonly RecommendStages[]): string[] {
  if (calls.length === 0) return [];
  const slowest = [...calls].sort((a, b) => b.total - a.total).slice(0, Math.max(1, Math.round(calls.length / 100)));
  const mean = (stage: keyof RecommendStages): number => slowest.reduce((sum, call) => sum + call[stage], 0) / slowest.length;
  const slowestTotal = mean('total');
  const rows = (Object.keys(RECOMMEND_STAGE_NAMES) as (keyof RecommendStages)[]).map((stage) => {
    const { p50, p99 } = percentiles(calls.map((call) => call[stage]));
    const share = slowestTotal > 0 ? ` (${((100 * mean(stage)) / slowestTotal).toFixed(0)}%)` : '';
    return `| ${RECOMMEND_STAGE_NAMES[stage]} | ${p50.toFixed(2)} | ${p99.toFixed(2)} | ${mean(stage).toFixed(2)}${stage === 'total' ? '' : share} |`;
  });
  return [`| stage | p50 ms | p99 ms | mean of the slowest ${slowest.length} (1%) ms |`, '| --- | --- | --- | --- |', ...rows];
}
