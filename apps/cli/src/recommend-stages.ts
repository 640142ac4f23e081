// What a Recommend's latency is made of, read back from Jaeger: the client's latency against the
// recommender's SERVER span and the spans under it (the user's read, the ANN search, shared reads
// that missed the cache, the score call). The services' own spans say it; nothing is added to them.
import { formatPercentile, percentiles } from '@orrery/metrics';
import type { JaegerSpan } from './jaeger';

/** What recommendStages reads of a span. */
export type TimedSpan = Pick<JaegerSpan, 'service' | 'operationName' | 'startMs' | 'endMs'>;

/** Where one Recommend's time went, in ms (see recommendStages). */
export interface RecommendStages {
  /** How late the load generator sent the call after it was due (its timer's granularity, its event loop, its collections). */
  readonly sentLate: number;
  /** From sending to the reply, less the recommender's SERVER span: the client's gRPC stack, the network, HTTP/2 and the recommender's event loop before its handler ran, and the reply's way back. */
  readonly outsideHandler: number;
  /** The user's own read (`redis read user`). */
  readonly userRead: number;
  /** The ANN search for the user's candidates (`ann search`). */
  readonly annSearch: number;
  /** Shared reads that missed the cache and were read in the request (every other `redis read …`, summed). */
  readonly sharedReads: number;
  /** The score call over ZeroMQ (`scoring request`); 0 when the request's candidates went in a call another request made (score calls made together are merged). */
  readonly scoreCall: number;
  /** The SERVER span less the time covered by the spans above: the handler's own work, and its waits for the event loop and for a read or score call another request started. */
  readonly restOfHandler: number;
  /** The client's latency, from when the call was due. */
  readonly total: number;
}

export const RECOMMEND_STAGE_NAMES: Readonly<Record<keyof RecommendStages, string>> = {
  sentLate: 'sent late by the load generator',
  outsideHandler: 'before and after the handler (gRPC, HTTP/2, event loop)',
  userRead: 'user read (Redis)',
  annSearch: 'ANN search',
  sharedReads: 'shared reads missed by the cache (Redis)',
  scoreCall: 'score call (ZeroMQ, scoring)',
  restOfHandler: "rest of the handler (own work, event loop, another request's read or score call)",
  total: 'client latency',
};

const SERVER_SPAN = 'grpc.orrery.v1.RecommendationService/Recommend';
const USER_READ = 'redis read user';
const READ = /^redis read /;

/** When the client sent a call and how long it took, in ms from when it was due. */
export interface ClientTiming {
  /** Due → sent. */
  readonly sentLateMs: number;
  /** Due → answered. */
  readonly latencyMs: number;
}

/**
 * The stages of one Recommend from its trace and what its client measured; undefined when the trace
 * has no recommender SERVER span (not exported yet, or the call never reached the handler). Only the
 * recommender's spans count (scoring's own `scoring serve` is inside `scoring request`). Each stage
 * is its spans' total; spans that ran side by side (the user's read beside a trending read, the ANN
 * search beside the co-visit read) overlap, so the rest of the handler is what none of them covers.
 * OpenTelemetry JS starts a span at a whole millisecond (its duration is exact), so that rest is
 * right to about a millisecond.
 */
export function recommendStages(spans: readonly TimedSpan[], client: ClientTiming): RecommendStages | undefined {
  const server = recommendServerSpan(spans);
  if (!server) return undefined;
  let userRead = 0;
  let annSearch = 0;
  let sharedReads = 0;
  let scoreCall = 0;
  const covered: [number, number][] = [];
  for (const span of spans) {
    if (span.service !== 'recommender' || span === server) continue;
    const took = span.endMs - span.startMs;
    if (span.operationName === USER_READ) userRead += took;
    else if (READ.test(span.operationName)) sharedReads += took;
    else if (span.operationName === 'ann search') annSearch += took;
    else if (span.operationName === 'scoring request') scoreCall += took;
    else continue;
    covered.push([Math.max(span.startMs, server.startMs), Math.min(span.endMs, server.endMs)]);
  }
  const handler = server.endMs - server.startMs;
  return {
    sentLate: client.sentLateMs,
    outsideHandler: Math.max(0, client.latencyMs - client.sentLateMs - handler),
    userRead,
    annSearch,
    sharedReads,
    scoreCall,
    restOfHandler: Math.max(0, handler - unionLength(covered)),
    total: client.latencyMs,
  };
}

/** The recommender's SERVER span of a Recommend among `spans` (undefined until it is exported). */
export function recommendServerSpan<S extends TimedSpan>(spans: readonly S[]): S | undefined {
  return spans.find((span) => span.service === 'recommender' && span.operationName === SERVER_SPAN);
}

/** How much of the line the intervals cover together. */
function unionLength(intervals: [number, number][]): number {
  let total = 0;
  let end = -Infinity;
  for (const [from, to] of intervals.sort((a, b) => a[0] - b[0])) {
    if (to <= end) continue;
    total += to - Math.max(from, end);
    end = to;
  }
  return total;
}

/**
 * A markdown table: per stage, its p50, p99 (`≤max` with too few calls for one: formatPercentile) and
 * max over every traced call, and its mean over the slowest
 * 1% of them by client latency (at least one call) with its share of their latency: what the tail is
 * made of, which percentiles of each stage alone do not say. Side by side stages overlap, so the
 * shares can add up to more than 100%.
 */
export function formatRecommendStages(calls: readonly RecommendStages[]): string[] {
  if (calls.length === 0) return [];
  const slowest = [...calls].sort((a, b) => b.total - a.total).slice(0, Math.max(1, Math.round(calls.length / 100)));
  const mean = (stage: keyof RecommendStages): number => slowest.reduce((sum, call) => sum + call[stage], 0) / slowest.length;
  const slowestTotal = mean('total');
  const rows = (Object.keys(RECOMMEND_STAGE_NAMES) as (keyof RecommendStages)[]).map((stage) => {
    const { count, p50, p99, max } = percentiles(calls.map((call) => call[stage]));
    const share = slowestTotal > 0 ? ` (${((100 * mean(stage)) / slowestTotal).toFixed(0)}%)` : '';
    const cells = [formatPercentile('p50', p50, count, 2), formatPercentile('p99', p99, count, 2), max.toFixed(2), `${mean(stage).toFixed(2)}${stage === 'total' ? '' : share}`];
    return `| ${RECOMMEND_STAGE_NAMES[stage]} | ${cells.join(' | ')} |`;
  });
  return [`| stage | p50 ms | p99 ms | max ms | mean of the slowest ${slowest.length} of ${calls.length} ms |`, '| --- | --- | --- | --- | --- |', ...rows];
}
