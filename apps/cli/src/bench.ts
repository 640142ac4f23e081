import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import type { Metadata } from '@grpc/grpc-js';
import { createClient } from '@orrery/grpc';
import { EventType, IngestService, RecommendationService } from '@orrery/proto';
import { readConfig } from '@orrery/config';
import { describeLatencies, percentiles, sentPerSecond, watchOwnPauses, type Percentiles } from '@orrery/metrics';
import { lastItemByUser, waitUntilProjected } from './caught-up';
import { fetchCompleteTraces, sampledTraceContext } from './jaeger';
import { startIsolatedPlatform } from './isolated-platform';
import { seedDemoData } from './seed';
import { histogramTotals } from './prometheus-text';
import { CpuSnapshot, processesRunning, withChildren, type ProcessGroups } from './process-cpu';
import { describeOwnPauses } from './own-pauses';
import { RECOMMEND_LADDER, reportLadder, type LadderStep } from './rate-ladder';
import { formatRecommendStages, recommendServerSpan, recommendStages, type ClientTiming } from './recommend-stages';
import { topReasons } from './stats';
import { describeWriteLoad, startWriteLoad } from './write-load';

/** Connections the load generator spreads its Recommend calls over. */
const BENCH_CONNECTIONS = 4;
/** Every so many Recommend calls of an open-loop phase carry a sampled trace context, read back from Jaeger to split their latency by stage. */
const TRACED_CALL_EVERY = 5;

export interface BenchOptions {
  readonly seconds: number;
  readonly rate: number;
  readonly concurrency: number;
  /** ORRERY_TRACE_SAMPLE_RATIO of the benchmarked services (1 traces every request), or 'off' (ORRERY_TRACING=false). */
  readonly traceSampleRatio: number | 'off';
  /** ORRERY_RECOMMENDER_WORKERS of the benchmarked recommender. */
  readonly recommenderWorkers: number;
  /** Events/s ingested in the background while Recommend and freshness are measured again (0: that phase is skipped). */
  readonly writeRate: number;
  /** Rising Recommend rates measured one after the other (empty: the ladder is skipped). */
  readonly ladder: readonly number[];
  /** Seconds at each rate of the ladder. */
  readonly ladderSeconds: number;
  /** Where the ladder's latency-by-rate SVG is written. */
  readonly ladderPlot: string;
}

const ms = (nanoseconds: bigint): number => Number(nanoseconds) / 1e6;
const format = (p: Percentiles): string => describeLatencies(p, ['p50', 'p90', 'p99', 'p999'], 2);

/**
 * Starts an isolated platform on the local engines, seeds and trains it, then measures Recommend
 * latency (open loop at a fixed rate, and closed loop at a fixed concurrency), durable ingest
 * throughput over gRPC batches, and click-to-recommendation freshness. Prints a markdown report.
 */
export async function runBenchmarks(options: BenchOptions): Promise<void> {
  const log = (line: string): void => void process.stdout.write(`${line}\n`);
  log(`# Orrery benchmark — ${new Date().toISOString()}`);
  log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}; load generator and all services on the same machine`);
  const tracingOff = options.traceSampleRatio === 'off';
  const platform = await startIsolatedPlatform({
    ...(tracingOff ? { ORRERY_TRACING: 'false' } : { ORRERY_TRACE_SAMPLE_RATIO: String(options.traceSampleRatio) }),
    ORRERY_RECOMMENDER_WORKERS: String(options.recommenderWorkers),
  });
  log(`tracing: ${tracingOff ? 'off (ORRERY_TRACING=false)' : `${Number(options.traceSampleRatio) * 100}% of new traces sampled, and every ${TRACED_CALL_EVERY}th call of an open-loop phase`}; recommender workers: ${options.recommenderWorkers}; load generator: ${BENCH_CONNECTIONS} connections`);
  try {
    const seedStarted = process.hrtime.bigint();
    const seeded = await seedDemoData({ ingestAddress: platform.ingestAddress, users: 1_000, items: 600, eventsPerUser: 40, seed: 42, progress: true });
    const seedSeconds = ms(process.hrtime.bigint() - seedStarted) / 1000;
    log(`data: ${seeded.dataset.items.length} items, ${seeded.dataset.users.length} users, ${seeded.accepted} events (seeded in ${seedSeconds.toFixed(1)} s through TrackBatch of 1000)`);
    // Measured on a settled platform: the projector has applied the whole seed.
    await waitUntilProjected(readConfig(platform.env).queryAddress, lastItemByUser(seeded.dataset.events));
    platform.train();
    // Calls spread over several connections, as many clients' would (each worker behind the port gets some).
    const connections = Array.from({ length: BENCH_CONNECTIONS }, () => createClient(RecommendationService, platform.recommenderAddress, { timeoutMs: 5_000, ownConnection: true }));
    let nextConnection = 0;
    const recommender: Recommender = {
      recommend: (request, metadata) => connections[nextConnection++ % connections.length]!.recommend(request, metadata ? { metadata } : {}),
    };
    const ingest = createClient(IngestService, platform.ingestAddress, { timeoutMs: 30_000 });
    const users = seeded.dataset.users.map((user) => user.userId);
    const randomUser = (): string => users[Math.floor(Math.random() * users.length)]!;

    // Warm-up: JIT, connections, caches; then 3 s at the measured rate (unreported), without which
    // the first phase measured a platform still optimizing code and filling its shared-reads cache.
    for (let i = 0; i < 300; i += 1) await recommender.recommend({ userId: randomUser(), count: 10 });
    await openLoopRecommend(recommender, randomUser, options.rate, 3);

    const config = readConfig(platform.env);
    const traceEvery = config.tracingEnabled ? TRACED_CALL_EVERY : 0;
    const scoringMetrics = `http://${config.metricsHost}:${config.metricsPorts.scoring}/metrics`;
    const openLoopPhase = async (heading: string): Promise<void> => {
      const rowsBefore = await histogramTotals(scoringMetrics, 'orrery_scoring_batch_rows');
      const ownPauses = watchOwnPauses();
      const result = await openLoopRecommend(recommender, randomUser, options.rate, options.seconds, traceEvery);
      const paused = ownPauses.stop();
      log(`\n## ${heading}`);
      log(format(percentiles(result.latencies)));
      log(describeOwnPauses(paused));
      const degradedReasons = topReasons(result.degradedReasons);
      const errorReasons = topReasons(result.errorReasons);
      log(`degraded responses: ${result.degraded}${degradedReasons ? ` (${degradedReasons})` : ''}, errors: ${result.errors}${errorReasons ? ` (${errorReasons})` : ''}`);
      const rowsAfter = await histogramTotals(scoringMetrics, 'orrery_scoring_batch_rows');
      const batches = rowsAfter.count - rowsBefore.count;
      // The recommender merges the score calls of requests served together, so rows are counted per Recommend, not per batch.
      const answered = result.latencies.length;
      if (batches > 0 && answered > 0) log(`candidates scored per Recommend: mean ${((rowsAfter.sum - rowsBefore.sum) / answered).toFixed(0)} (scoring's orrery_scoring_batch_rows: ${answered} requests in ${batches} scoring batches)`);
      log(await recommendStagesReport(config.jaegerQueryUrl, config.tracingEnabled, result.traced));
    };
    await openLoopPhase(`Recommend, open loop at ${options.rate} req/s for ${options.seconds} s (count=10)`);

    if (options.ladder.length > 0) {
      const redisPort = new URL(config.redisUrl).port;
      const pidOf = (name: string): number[] => platform.services.filter((service) => service.name === name).map((service) => service.pid);
      const groups = (): ProcessGroups => ({
        recommender: pidOf('recommender').flatMap(withChildren),
        scoring: pidOf('scoring'),
        'redis*': processesRunning(`redis-server 127.0.0.1:${redisPort}`),
        'load generator': [process.pid],
      });
      const steps: LadderStep[] = [];
      for (const rate of options.ladder) {
        const before = CpuSnapshot.take(groups());
        const result = await openLoopRecommend(recommender, randomUser, rate, options.ladderSeconds);
        const used = CpuSnapshot.take(groups(), before).since(before).seconds;
        const answered = result.latencies.length + result.errors;
        steps.push({
          askedRate: rate,
          achievedRate: sentPerSecond(result.sent, result.lastSentMs, options.ladderSeconds * 1000),
          latency: percentiles(result.latencies),
          errors: result.errors,
          degraded: result.degraded,
          errorReasons: topReasons(result.errorReasons),
          cpuMsPerUnit: Object.fromEntries(Object.entries(used).map(([group, cpuSeconds]) => [group, answered === 0 ? 0 : (cpuSeconds * 1000) / answered])),
        });
      }
      reportLadder(steps, RECOMMEND_LADDER, `Recommend by rate: open loop, ${options.ladderSeconds} s at each rate (redis*: the whole Redis server, shared with anything else using it)`, options.ladderPlot, log);
    }

    // Closed loop: the highest rate the platform sustains at a fixed concurrency.
    const closedLoop: number[] = [];
    const closedLoopPauses = watchOwnPauses();
    const deadline = Date.now() + options.seconds * 1000;
    const closedStarted = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        while (Date.now() < deadline) {
          const sent = process.hrtime.bigint();
          await recommender.recommend({ userId: randomUser(), count: 10 });
          closedLoop.push(ms(process.hrtime.bigint() - sent));
        }
      }),
    );
    const closedSeconds = ms(process.hrtime.bigint() - closedStarted) / 1000;
    log(`\n## Recommend, closed loop with ${options.concurrency} concurrent callers for ${options.seconds} s`);
    log(`throughput ${(closedLoop.length / closedSeconds).toFixed(0)} req/s; ${format(percentiles(closedLoop))}`);
    log(describeOwnPauses(closedLoopPauses.stop()));

    // Freshness: a new user's first view, acknowledged, until their recommendations reflect it.
    // Measured before the ingest benchmark, whose backlog would otherwise be measured instead.
    const visibleItems = seeded.dataset.items.filter((item) => !item.hidden).map((item) => item.itemId);
    const freshnessPhase = async (heading: string): Promise<void> => {
      const { latencies, missed } = await measureFreshness(ingest, recommender, visibleItems, 30);
      log(`\n## ${heading}`);
      log(`${format(percentiles(latencies))}; not reflected within 5 s: ${missed}`);
    };
    await freshnessPhase('Freshness: acknowledged view → first Recommend that reflects it (30 new users, polled back to back)');

    // The same two measures while the write side is busy: random views and clicks of the seeded users
    // and items at a fixed rate, through ingestion, command, Kafka and the projector into Redis.
    if (options.writeRate > 0) {
      const writeLoad = startWriteLoad(ingest, users, seeded.dataset.items.map((item) => item.itemId), options.writeRate);
      try {
        await new Promise((resolve) => setTimeout(resolve, 2_000)); // the write path warms up first
        await openLoopPhase(`Recommend at ${options.rate} req/s for ${options.seconds} s while ${options.writeRate} events/s are ingested`);
        await freshnessPhase(`Freshness while ${options.writeRate} events/s are ingested (30 new users)`);
      } finally {
        log(describeWriteLoad(await writeLoad.stop(), options.writeRate));
      }
    }

    // Durable ingest: every acknowledged event is committed in Postgres.
    const ackLatency: number[] = [];
    let acknowledged = 0;
    const ingestDeadline = Date.now() + options.seconds * 1000;
    const ingestStarted = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (Date.now() < ingestDeadline) {
          const events = Array.from({ length: 500 }, () => ({ userId: randomUser(), itemId: seeded.dataset.items[Math.floor(Math.random() * seeded.dataset.items.length)]!.itemId, type: EventType.VIEW }));
          const sent = process.hrtime.bigint();
          const reply = await ingest.trackBatch({ events });
          ackLatency.push(ms(process.hrtime.bigint() - sent));
          acknowledged += reply.accepted;
        }
      }),
    );
    const ingestSeconds = ms(process.hrtime.bigint() - ingestStarted) / 1000;
    log(`\n## Ingest, gRPC TrackBatch of 500 events, 4 concurrent callers for ${options.seconds} s`);
    log(`throughput ${(acknowledged / ingestSeconds).toFixed(0)} acknowledged events/s; batch ack latency ${format(percentiles(ackLatency))}`);

    for (const connection of connections) connection.close();
    ingest.close();
  } finally {
    await platform.stop();
  }
}

/** The Recommend call of the benchmark's load generator (with metadata: a trace context). */
interface Recommender {
  recommend(request: { userId: string; count: number }, metadata?: Metadata): Promise<{ degraded: boolean; degradedReasons: string[]; items: { reasons: string[] }[] }>;
}

/**
 * Open loop: `rate` Recommend calls a second for `seconds`, sent on schedule whatever the latency, so
 * queueing shows in the tail. Requests due by now are sent, then the generator sleeps ~1 ms: a
 * busy-wait would take a core from the services on a small machine. Latency counts from the due
 * time (no coordinated omission). Every `traceEvery`th call (none for 0) carries a sampled trace
 * context; `traced` pairs each answered one's trace id with its latency. `lastSentMs`: when the last
 * call left, after the start (sentPerSecond).
 */
async function openLoopRecommend(
  recommender: Recommender,
  randomUser: () => string,
  rate: number,
  seconds: number,
  traceEvery = 0,
): Promise<{ latencies: number[]; degraded: number; errors: number; degradedReasons: Map<string, number>; errorReasons: Map<string, number>; traced: TracedCall[]; sent: number; lastSentMs: number }> {
  const latencies: number[] = [];
  const traced: TracedCall[] = [];
  const degradedReasons = new Map<string, number>();
  const errorReasons = new Map<string, number>();
  let degraded = 0;
  let errors = 0;
  const total = rate * seconds;
  const started = process.hrtime.bigint();
  const inFlight: Promise<void>[] = [];
  let lastSentMs = 0;
  for (let i = 0; i < total; ) {
    const now = process.hrtime.bigint();
    while (i < total) {
      const due = started + BigInt(Math.round((i * 1e9) / rate));
      if (due > now) break;
      const trace = traceEvery > 0 && i % traceEvery === 0 ? sampledTraceContext() : undefined;
      const sentLateMs = trace ? ms(process.hrtime.bigint() - due) : 0;
      inFlight.push(
        recommender.recommend({ userId: randomUser(), count: 10 }, trace?.metadata).then(
          (reply) => {
            const latency = ms(process.hrtime.bigint() - due);
            latencies.push(latency);
            if (trace) traced.push({ traceId: trace.traceId, sentLateMs, latencyMs: latency });
            if (reply.degraded) degraded += 1;
            for (const reason of reply.degradedReasons) degradedReasons.set(reason, (degradedReasons.get(reason) ?? 0) + 1);
          },
          (error: unknown) => {
            errors += 1;
            const reason = error instanceof Error ? error.message : String(error);
            errorReasons.set(reason, (errorReasons.get(reason) ?? 0) + 1);
          },
        ),
      );
      i += 1;
      lastSentMs = ms(process.hrtime.bigint() - started);
    }
    if (i < total) await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(inFlight);
  return { latencies, degraded, errors, degradedReasons, errorReasons, traced, sent: total, lastSentMs };
}

/** A call sent with a trace context of its own, and what its client measured. */
interface TracedCall extends ClientTiming {
  readonly traceId: string;
}

/**
 * Where the traced calls' latency went, stage by stage (recommend-stages.ts), from their traces in
 * Jaeger; a trace still without the recommender's SERVER span after a few tries is left out.
 */
async function recommendStagesReport(jaegerUrl: string, tracingEnabled: boolean, calls: readonly TracedCall[]): Promise<string> {
  if (!tracingEnabled) return 'where the time went: not read (ORRERY_TRACING=false)';
  if (calls.length === 0) return 'where the time went: no call was traced';
  try {
    const traces = await fetchCompleteTraces(jaegerUrl, calls.map((call) => call.traceId), (trace) => recommendServerSpan(trace.spans) !== undefined, 4);
    const stages = calls.flatMap((call) => {
      const trace = traces.get(call.traceId);
      return trace ? (recommendStages(trace.spans, call) ?? []) : [];
    });
    const slowest = calls.filter((call) => traces.has(call.traceId)).reduce<TracedCall | undefined>((worst, call) => (worst === undefined || call.latencyMs > worst.latencyMs ? call : worst), undefined);
    return [
      `where the time went (Jaeger: ${stages.length} of ${calls.length} traced calls, every ${TRACED_CALL_EVERY}th sent with a sampled trace context whatever the sample ratio):`,
      ...formatRecommendStages(stages),
      ...(slowest ? [`the slowest traced call took ${slowest.latencyMs.toFixed(2)} ms: orrery trace ${slowest.traceId}`] : []),
    ].join('\n');
  } catch (error) {
    return `where the time went: not read from Jaeger at ${jaegerUrl} (${error instanceof Error ? error.message : String(error)})`;
  }
}

/**
 * `samples` new users each view one of `itemIds`; after each acknowledgement Recommend is polled back
 * to back until an item is explained by the viewed one (similar-to / co-visited), for up to 5 s.
 */
async function measureFreshness(
  ingest: { track(request: { event: { userId: string; itemId: string; type: EventType } }): Promise<unknown> },
  recommender: Recommender,
  itemIds: readonly string[],
  samples: number,
): Promise<{ latencies: number[]; missed: number }> {
  const latencies: number[] = [];
  let missed = 0;
  for (let i = 0; i < samples; i += 1) {
    const userId = `bench-fresh-${randomBytes(4).toString('hex')}`;
    const itemId = itemIds[Math.floor(Math.random() * itemIds.length)]!;
    await ingest.track({ event: { userId, itemId, type: EventType.VIEW } });
    const acked = process.hrtime.bigint();
    for (;;) {
      const reply = await recommender.recommend({ userId, count: 10 });
      if (reply.items.some((item) => item.reasons.some((reason) => reason.endsWith(`:${itemId}`)))) break;
      if (ms(process.hrtime.bigint() - acked) > 5_000) {
        missed += 1;
        break;
      }
    }
    latencies.push(ms(process.hrtime.bigint() - acked));
  }
  return { latencies, missed };
}
