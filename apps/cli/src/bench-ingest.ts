import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { Client } from 'pg';
import { readConfig } from '@orrery/config';
import { createIngestClient, ZmqEventEmitter } from '@orrery/client';
import { partitionOfKey, repairProduceEncoding } from '@orrery/kafka';
import { describeLatencies, nowMs, percentiles, sendOnSchedule, sentPerSecond, type Percentiles } from '@orrery/metrics';
import { controlKeys, createRedis, EVENT_SCOPE_TAG, projectionKeys, projectorGroupOf, readProjectionVersion, watermarkSource } from '@orrery/projections';
import { EventType } from '@orrery/proto';
import { createTestDatabase, createTestTopic, deleteTestTopic, dropTestDatabase } from '@orrery/testing';
import { readOutboxLag } from '@orrery/store';
import { startIsolatedPlatform, type IsolatedPlatform } from './isolated-platform';
import { CpuSnapshot, processesRunning, type ProcessGroups } from './process-cpu';
import { fetchCompleteTraces, sampledTraceContext, type JaegerTrace } from './jaeger';
import { renderWaterfall } from './trace-view';
import { formatStages, lagStages, type EventStages } from './lag-stages';
import { histogramTotalsIn, scrape, sumOf } from './prometheus-text';
import { reportLadder, type LadderKind, type LadderStep } from './rate-ladder';
import { BackgroundLookup } from './background-lookup';

export interface IngestBenchOptions {
  /** Duration of each phase. */
  readonly seconds: number;
  /** Events per TrackBatch / ZeroMQ batch in the throughput phases. */
  readonly batch: number;
  /** Concurrent callers in the throughput phases. */
  readonly concurrency: number;
  /** Events/s of the open-loop lag phase, rising: one phase each, and with more than one a ladder report and plot. */
  readonly rates: readonly number[];
  /** Where the lag ladder's plot goes. */
  readonly ladderPlot: string;
  /**
   * Events a user on average ingested (and applied) before the phases, so that the projector works on
   * a projection in use (recent lists as deep as its snapshot reads) rather than an empty one.
   */
  readonly history: number;
  /** Which phases to run (the accounting check at the end always runs). */
  readonly phases: ReadonlySet<IngestBenchPhase>;
  /** Where the command, ingestion and projector write a V8 CPU profile each when they stop (node --cpu-prof); none when undefined. */
  readonly cpuProfileDir?: string;
}

/** The write side's lag ladder: events/s, ack → projection applied under 100 ms at p99 (the write-side issue's goal at 5,000 events/s). */
const LAG_LADDER: LadderKind = { latency: 'ack → applied', unit: 'event', p99GoalMs: 100 };

/** The benchmark's phases, in the order they run. */
export const INGEST_BENCH_PHASES = ['ceilings', 'lag', 'throughput'] as const;
export type IngestBenchPhase = (typeof INGEST_BENCH_PHASES)[number];

const fmt = (p: Percentiles): string => describeLatencies(p, ['p50', 'p99'], 1);
const USERS = 10_000;
/** The lag phase polls the watermarks of at most this many of the oldest unapplied sampled events, every POLL_INTERVAL_MS. */
const POLLED_SAMPLES = 32;
/** At most how often the lag phase reads the positions of new sampled events from the event store (beside its polls, not between them). */
const POSITIONS_INTERVAL_MS = 100;
/** How long the lag phase keeps each polled watermark hash's history. */
const WATERMARK_HISTORY_MS = 5_000;
const POLL_INTERVAL_MS = 5;
/** The lag phase sends every this many batches with a sampled trace context, to read where its lag went from Jaeger. */
const TRACED_BATCH_EVERY = 20;
const ITEMS = 2_000;

/** A view event with a unique id, a random user and item (as a busy site would send). */
function syntheticEvent(run: string, n: number): { eventId: string; userId: string; itemId: string; type: EventType; value: number; context: Record<string, string> } {
  return {
    eventId: `${run}-${n}`,
    userId: `user-${Math.floor(Math.random() * USERS)}`,
    itemId: `item-${Math.floor(Math.random() * ITEMS)}`,
    type: EventType.VIEW,
    value: 1,
    context: { page: 'home' },
  };
}

/**
 * The write side's figures: raw ceilings of this machine's Postgres (multi-row INSERT loop) and
 * Kafka (kafkajs producer loop), then — on an isolated command + ingestion + projector — acked
 * events/s over gRPC TrackBatch, TrackStream and the ZeroMQ emitter with ack latency, and at
 * each open-loop --rate the ack latency and ack → projection-applied lag (with several, a ladder). Ends
 * by checking acked == stored.
 */
export async function runIngestBenchmarks(options: IngestBenchOptions): Promise<void> {
  const log = (line: string): void => void process.stdout.write(`${line}\n`);
  log(`# Orrery write-side benchmark — ${new Date().toISOString()}`);
  log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} at start`);
  log(`phases of ${options.seconds} s; batches of ${options.batch}, ${options.concurrency} concurrent callers; events: random user of ${USERS}, item of ${ITEMS}, one context entry`);

  if (options.phases.has('ceilings')) {
    log('\n## Raw ceilings of this machine (no Orrery code)');
    log(`Postgres, multi-row INSERT (unnest) of ${options.batch} rows into an events-shaped table, ${options.concurrency} connections: ${(await postgresCeiling(options)).toFixed(0)} rows/s`);
    log(`Kafka, kafkajs idempotent producer as released (acks=all, one send in flight), ${options.batch} messages per send: ${(await kafkaCeiling(options)).toFixed(0)} messages/s`);
    // From here on every kafkajs producer of this process encodes as the relay's does.
    repairProduceEncoding();
    log(`Kafka, the same with Produce requests encoded in one pass (repairProduceEncoding, as the relay): ${(await kafkaCeiling(options)).toFixed(0)} messages/s`);
  }

  const profiling = options.cpuProfileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`];
  const platform = await startIsolatedPlatform({ ORRERY_TRACE_SAMPLE_RATIO: process.env.ORRERY_TRACE_SAMPLE_RATIO ?? '1' }, ['command', 'ingestion', 'projector'], profiling);
  const config = readConfig(platform.env);
  const ingest = createIngestClient(platform.ingestAddress, { timeoutMs: 60_000 });
  const cpu = await cpuMeter(platform, config.redisUrl);
  let acknowledged = 0;
  try {
    const run = randomBytes(3).toString('hex');
    let n = 0;
    const nextBatch = (size: number) => Array.from({ length: size }, () => syntheticEvent(run, n++));
    // Warm-up (JIT, connections, topic metadata), until the projector (which joins its consumer
    // group after it logs ready) has applied it all (idle, below): lag is measured from there.
    for (let i = 0; i < 5; i += 1) acknowledged += (await ingest.trackBatch({ events: nextBatch(options.batch) })).accepted;

    const projectorGroup = await (async () => {
      const redis = createRedis(config, 'bench-version');
      const version = await readProjectionVersion(redis, controlKeys(config.redisPrefix));
      redis.disconnect();
      return projectorGroupOf(config.projectorGroup, version);
    })();
    const idle = async (): Promise<void> => {
      const left = await waitUntilIdle(platform.databaseUrl, config.eventsTopic, projectorGroup);
      if (left) log(`  (not idle: ${left})`);
    };
    await idle();

    if (options.history > 0 && (options.phases.has('lag') || options.phases.has('throughput'))) {
      const events = options.history * USERS;
      const started = nowMs();
      let sent = 0;
      await Promise.all(
        Array.from({ length: options.concurrency }, async () => {
          while (sent < events) {
            const size = Math.min(options.batch, events - sent);
            sent += size;
            // Read after the call: `acknowledged += await …` would add to the value read before it, losing the other callers' counts.
            const { accepted } = await ingest.trackBatch({ events: nextBatch(size) });
            acknowledged += accepted;
          }
        }),
      );
      await idle();
      log(`\nhistory: ${events} events (${options.history} a user) ingested and applied in ${((nowMs() - started) / 1000).toFixed(1)} s before the phases`);
    }

    /** The open loop at `rate` events/s: ack latency, ack → projection-applied lag, CPU per event, where the lag went. */
    const lagPhase = async (rate: number): Promise<LadderStep> => {
      log(`\n## Open loop at ${rate} events/s for ${options.seconds} s (TrackBatch every 10 ms), one sampled event per batch`);
      const redis = createRedis(config, 'bench');
      const keys = projectionKeys(config.redisPrefix);
      // A sampled event is applied once the projector's watermark of its partition (in the one
      // event-scope hash, or the user's slot on a cluster) reaches its sequence: the partition is the
      // relay's (the producer's default partitioner of its key, the user id), the sequence is read
      // from the event store. (A consumer of the topic would tell when it reached Kafka, but fetching
      // and decoding every message cost this process ~18 µs per event, on the cores it measures.)
      const positions = await positionsOfEvents(platform.databaseUrl, config.eventsTopic);
      const watermarksOf = (userId: string): string => keys.applied(config.redisCluster ? keys.user(userId).tag : EVENT_SCOPE_TAG);
      const ackLatency: number[] = [];
      const lag: number[] = [];
      // Sampled event id -> its user, ack time and (once read) its position in the stream.
      const watching = new Map<string, { readonly userId: string; readonly ackedMs: number; position?: { readonly source: string; readonly sequence: bigint } }>();
      // What each polled watermark hash held when: a sample whose position is read later is applied
      // at the first poll that saw its sequence, not when its position was read.
      const seen = new Map<string, { readonly atMs: number; readonly watermarks: Record<string, string> }[]>();
      let polling = true;
      let pollUntil = Infinity;
      const positionLookup = new BackgroundLookup<{ eventId: string; key: string }, string, { source: string; sequence: bigint }>(
        (events) => positions.of(events),
        POSITIONS_INTERVAL_MS,
      );
      // Polls the watermark hashes of the oldest sampled events not applied yet (one hash in all on a
      // standalone Redis): a bounded poll, since one that grew with the backlog would load Redis and
      // this process more the further the projector fell behind, and so measure its own cost. The
      // samples' positions are read in one query at most every POSITIONS_INTERVAL_MS, beside the polls
      // (BackgroundLookup): awaited between two polls, it delayed the next one, and the lags read there.
      // A sample just placed is looked up in the whole history; one placed before, only in the newest poll.
      const appliedAt = (key: string, ackedMs: number, { source, sequence }: { source: string; sequence: bigint }, justPlaced: boolean): number | undefined => {
        const history = seen.get(key) ?? [];
        const polls = justPlaced ? history : history.slice(-1);
        return polls.find(({ atMs, watermarks }) => atMs >= ackedMs && BigInt(watermarks[source] ?? -1) >= sequence)?.atMs;
      };
      const poller = (async () => {
        while (polling || watching.size > 0) {
          const polled = [...new Set([...watching.values()].slice(0, POLLED_SAMPLES).map(({ userId }) => watermarksOf(userId)))];
          const found = await redis.pipeline(polled.map((key) => ['hgetall', key])).exec();
          const atMs = nowMs();
          polled.forEach((key, index) => {
            const history = seen.get(key) ?? [];
            history.push({ atMs, watermarks: (found?.[index]?.[1] ?? {}) as Record<string, string> });
            while (history.length > 0 && history[0]!.atMs < atMs - WATERMARK_HISTORY_MS) history.shift();
            seen.set(key, history);
          });
          const justPlaced = new Set<string>();
          for (const [eventId, position] of positionLookup.take()) {
            const sample = watching.get(eventId);
            if (sample === undefined) continue;
            sample.position = position;
            justPlaced.add(eventId);
          }
          const unplaced = [...watching.entries()].filter(([, sample]) => sample.position === undefined);
          positionLookup.request(unplaced.map(([eventId, { userId }]) => ({ eventId, key: userId })), atMs);
          for (const [eventId, { userId, ackedMs, position }] of watching) {
            const at = position && appliedAt(watermarksOf(userId), ackedMs, position, justPlaced.has(eventId));
            if (at !== undefined) {
              lag.push(at - ackedMs);
              watching.delete(eventId);
            }
          }
          await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
          if (!polling && Date.now() > pollUntil) break;
        }
      })();
      const cpuAtStart = await cpu.snapshot();
      const ackedBefore = acknowledged;
      const started = nowMs();
      const inFlight: Promise<void>[] = [];
      const tracedBatches: string[] = [];
      let lost = 0;
      let failedBatches = 0;
      let batchesSent = 0;
      const loop = await sendOnSchedule(rate, 100, options.seconds, (size) => {
        const events = nextBatch(size);
        const sample = events[0]!;
        const traced = config.tracingEnabled && batchesSent % TRACED_BATCH_EVERY === 0 ? sampledTraceContext() : undefined;
        batchesSent += 1;
        if (traced) tracedBatches.push(traced.traceId);
        const sent = nowMs();
        inFlight.push(
          ingest.trackBatch({ events }, traced ? { metadata: traced.metadata } : {}).then(
            (reply) => {
              const acked = nowMs();
              acknowledged += reply.accepted;
              ackLatency.push(acked - sent);
              watching.set(sample.eventId, { userId: sample.userId, ackedMs: acked });
            },
            () => {
              lost += size;
              failedBatches += 1;
            },
          ),
        );
      });
      // On schedule the last batch leaves one tick before the run's end; late when this process is starved of CPU.
      const sentRate = sentPerSecond(loop.sent, loop.lastSentMs, loop.scheduledMs);
      await Promise.all(inFlight);
      const ackedSeconds = (nowMs() - started) / 1000;
      pollUntil = Date.now() + 10_000;
      polling = false;
      await poller;
      log(`sent ${loop.sent} events in ${(Math.max(loop.lastSentMs, loop.scheduledMs) / 1000).toFixed(1)} s (${sentRate.toFixed(0)} events/s), the last acknowledged at ${ackedSeconds.toFixed(1)} s; failed calls' events: ${lost}`);
      log(`batch ack latency: ${fmt(percentiles(ackLatency))}`);
      await positionLookup.settled();
      await positions.close();
      log(`ack → projection applied (the first poll of the projector's watermark in Redis past the event's sequence, the hashes of the ${POLLED_SAMPLES} oldest unapplied samples polled every ~${POLL_INTERVAL_MS} ms, so up to that late): ${fmt(percentiles(lag))}; not seen within 10 s: ${watching.size}`);
      await idle();
      const cpuPerEvent = await cpu.perEvent(cpuAtStart, acknowledged - ackedBefore);
      log(cpuPerEvent.text);
      redis.disconnect();
      log(await lagStagesReport(config.jaegerQueryUrl, config.tracingEnabled, tracedBatches));
      // Errors count batches, as the lags do (one sample a batch): the failed ones, and those whose
      // sample was never seen applied (its lag unknown, beyond 10 s).
      return { askedRate: rate, achievedRate: sentRate, latency: percentiles(lag), errors: failedBatches + watching.size, cpuMsPerUnit: cpuPerEvent.msPerEvent };
    };
    if (options.phases.has('lag')) {
      const steps: LadderStep[] = [];
      for (const rate of options.rates) steps.push(await lagPhase(rate));
      if (steps.length > 1) reportLadder(steps, LAG_LADDER, `Ack → projection applied by rate: open loop, ${options.seconds} s at each rate (kafka*, redis*: the whole broker and server)`, options.ladderPlot, log);
    }

    if (options.phases.has('throughput')) {
      log(`\n## Durable ingest (acked = committed in Postgres), trace sampling ${config.traceSampleRatio}`);
      // Each phase starts on an idle write side, and its CPU is read until the relay has published
      // and the projector applied what it acknowledged (the next phase's start).
      await idle();
      let phase: { cpu: MeterReading; acked: number } | undefined;
      const reportPhaseCpu = async (): Promise<void> => {
        if (!phase) return;
        await idle();
        log(`  ${(await cpu.perEvent(phase.cpu, phase.acked)).text}`);
      };
      const closedLoop = async (callers: number, once: () => Promise<number>) => {
        await reportPhaseCpu();
        const started = await cpu.snapshot();
        const result = await runClosedLoop(callers, options.seconds, once);
        phase = { cpu: started, acked: result.rate.acked };
        return result;
      };
      {
        const { rate, latency } = await closedLoop(options.concurrency, async () => (await ingest.trackBatch({ events: nextBatch(options.batch) })).accepted);
        acknowledged += rate.acked;
        log(`gRPC TrackBatch of ${options.batch}, ${options.concurrency} callers: ${rate.perSecond.toFixed(0)} acked events/s; batch ack latency ${fmt(latency)}`);
      }
      {
        const streamLength = options.batch * 10;
        const { rate, latency } = await closedLoop(options.concurrency, async () => {
          async function* requests() {
            for (let i = 0; i < streamLength; i += 1) yield { event: syntheticEvent(run, n++) };
          }
          return (await ingest.trackStream(requests())).accepted;
        });
        acknowledged += rate.acked;
        log(`gRPC TrackStream of ${streamLength}, ${options.concurrency} callers: ${rate.perSecond.toFixed(0)} acked events/s; stream ack latency ${fmt(latency)}`);
      }
      {
        const emitter = new ZmqEventEmitter({ endpoint: config.ingestZmqEndpoint, maxBatchEvents: options.batch, maxInFlightBatches: options.concurrency, requestTimeoutMs: 60_000 });
        const { rate, latency } = await closedLoop(options.concurrency, async () => {
          const outcomes = await Promise.all(nextBatch(options.batch).map((event) => emitter.emit(event)));
          return outcomes.filter((outcome) => outcome.accepted).length;
        });
        await emitter.close();
        acknowledged += rate.acked;
        log(`ZeroMQ emitter (@orrery/client), ${options.concurrency} × ${options.batch} events awaited together: ${rate.perSecond.toFixed(0)} acked events/s; latency until all ${options.batch} acked ${fmt(latency)}`);
      }
      {
        const callers = 64;
        const { rate, latency } = await closedLoop(callers, async () => ((await ingest.track({ event: nextBatch(1)[0]! })).duplicate ? 0 : 1));
        acknowledged += rate.acked;
        log(`gRPC Track (one event per call), ${callers} callers (coalesced into shared commands): ${rate.perSecond.toFixed(0)} acked events/s; ack latency ${fmt(latency)}`);
      }

      await reportPhaseCpu();
    }
    log('\n## Accounting');
    const stored = await countEvents(platform.databaseUrl);
    const published = await topicMessageCount(config.eventsTopic);
    log(`acknowledged ${acknowledged}; in the event store ${stored}; on Kafka ${published} (${acknowledged === stored && stored === published ? 'equal' : 'NOT EQUAL'})`);
  } finally {
    ingest.close();
    await cpu.close();
    await platform.stop();
  }
  if (options.cpuProfileDir !== undefined) {
    const pids = platform.services.map(({ name, pid }) => `${name} ${pid}`).join(', ');
    log(`\nCPU profiles (CPU.<date>.<time>.<pid>.*.cpuprofile; ${pids}) in ${options.cpuProfileDir}: open them in Chrome DevTools (Performance) or speedscope`);
  }
}

/** The load generator and lag watchers: measured too, since they share the machine, but not part of the write side's total. */
const BENCH_PROCESS = 'bench';

/**
 * CPU per acknowledged event of each process of the write side, from /proc: the platform's services,
 * the Postgres backends of its database, and the shared Kafka broker and Redis server (which also
 * serve whatever else runs on the machine, hence marked *); and this process, reported apart.
 */
/** What the meter read at one moment: each process group's CPU, and the projector's chunk histogram totals. */
interface MeterReading {
  readonly cpu: CpuSnapshot;
  /** The projector's orrery_projector_chunk_events totals: events applied (sum) in how many chunks (count). */
  readonly chunks: { readonly sum: number; readonly count: number };
  /** The projector's orrery_projector_chained_chunks_total: chunks planned while the one before was in Redis, applied so or replanned. */
  readonly chained: { readonly applied: number; readonly replanned: number };
}

/** CPU per acknowledged event over a window: the report's line, and each group's milliseconds per event (the write side's total included, this bench process not). */
interface CpuPerEvent {
  readonly text: string;
  readonly msPerEvent: Readonly<Record<string, number>>;
}

async function cpuMeter(platform: IsolatedPlatform, redisUrl: string): Promise<{ snapshot(): Promise<MeterReading>; perEvent(from: MeterReading, events: number): Promise<CpuPerEvent>; close(): Promise<void> }> {
  const db = new Client({ connectionString: platform.databaseUrl, application_name: 'orrery-bench-cpu' });
  await db.connect();
  const redisPort = new URL(redisUrl).port;
  const groups = async (): Promise<ProcessGroups> => {
    const backends = await db.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
    return {
      ...Object.fromEntries(platform.services.map((service) => [service.name, [service.pid]])),
      postgres: backends.rows.map((row) => row.pid),
      'kafka*': processesRunning('kafka.Kafka'),
      'redis*': processesRunning(`redis-server 127.0.0.1:${redisPort}`),
      [BENCH_PROCESS]: [process.pid],
    };
  };
  // Read every 500 ms as well, so a Postgres backend that exits (the pool closes idle ones) keeps
  // what it used until shortly before.
  let latest = CpuSnapshot.take(await groups());
  const sampleCpu = async (): Promise<CpuSnapshot> => (latest = CpuSnapshot.take(await groups(), latest));
  const sampler = setInterval(() => void sampleCpu().catch(() => undefined), 500);
  // Zeros when the projector's /metrics cannot be read: the chunk line is then left out.
  const snapshot = async (): Promise<MeterReading> => {
    const samples = await scrape(platform.metricsUrls.projector).catch(() => []);
    const chained = (outcome: string): number => sumOf(samples, 'orrery_projector_chained_chunks_total', { outcome });
    return {
      cpu: await sampleCpu(),
      chunks: histogramTotalsIn(samples, 'orrery_projector_chunk_events'),
      chained: { applied: chained('applied'), replanned: chained('replanned') },
    };
  };
  return {
    snapshot,
    perEvent: async (from, events) => {
      const now = await snapshot();
      const window = now.cpu.since(from.cpu);
      const chunks = now.chunks.count - from.chunks.count;
      const [chained, replanned] = [now.chained.applied - from.chained.applied, now.chained.replanned - from.chained.replanned];
      const chunkLine =
        chunks > 0 ? `; projector chunks ${chunks}, mean ${((now.chunks.sum - from.chunks.sum) / chunks).toFixed(0)} events each, ${chained} planned while the one before was in Redis (${replanned} more replanned)` : '';
      const entries = Object.entries(window.seconds).filter(([name]) => name !== BENCH_PROCESS);
      const total = entries.reduce((sum, [, seconds]) => sum + seconds, 0);
      const micros = (seconds: number): string => (events > 0 ? ((seconds / events) * 1e6).toFixed(0) : '-');
      return {
        text: `CPU µs per acked event (${events} events): ${entries.map(([name, seconds]) => `${name} ${micros(seconds)}`).join(' | ')} | total ${micros(total)} (besides: this bench process ${micros(window.seconds[BENCH_PROCESS] ?? 0)})${chunkLine}`,
        msPerEvent: events > 0 ? Object.fromEntries([...entries, ['total', total] as const].map(([name, seconds]) => [name, (seconds / events) * 1e3])) : {},
      };
    },
    close: async () => {
      clearInterval(sampler);
      await db.end();
    },
  };
}

/** Runs `once` back to back from `callers` concurrent loops for `seconds`; `once` returns the events it got acked. */
async function runClosedLoop(callers: number, seconds: number, once: () => Promise<number>): Promise<{ rate: { acked: number; perSecond: number }; latency: Percentiles }> {
  const latency: number[] = [];
  let acked = 0;
  const deadline = Date.now() + seconds * 1000;
  const started = nowMs();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (Date.now() < deadline) {
        const sent = nowMs();
        const count = await once();
        acked += count;
        latency.push(nowMs() - sent);
      }
    }),
  );
  return { rate: { acked, perSecond: acked / ((nowMs() - started) / 1000) }, latency: percentiles(latency) };
}

async function postgresCeiling(options: IngestBenchOptions): Promise<number> {
  const url = await createTestDatabase();
  try {
    const setup = new Client({ connectionString: url });
    await setup.connect();
    await setup.query(`CREATE TABLE events (
      sequence bigserial PRIMARY KEY, event_id text NOT NULL UNIQUE, user_id text NOT NULL, item_id text NOT NULL, type text NOT NULL,
      value double precision NOT NULL, occurred_at timestamptz NOT NULL, context jsonb NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now())`);
    await setup.query('CREATE INDEX ON events (user_id, sequence)');
    await setup.query('CREATE INDEX ON events (occurred_at)');
    await setup.end();
    let rows = 0;
    let n = 0;
    const deadline = Date.now() + options.seconds * 1000;
    const started = nowMs();
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        const client = new Client({ connectionString: url });
        await client.connect();
        while (Date.now() < deadline) {
          const batch = Array.from({ length: options.batch }, () => syntheticEvent('pg', n++));
          const now = new Date().toISOString();
          await client.query(
            `INSERT INTO events (event_id, user_id, item_id, type, value, occurred_at, context)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::timestamptz[], $7::jsonb[])`,
            [batch.map((e) => e.eventId), batch.map((e) => e.userId), batch.map((e) => e.itemId), batch.map(() => 'view'), batch.map((e) => e.value), batch.map(() => now), batch.map((e) => JSON.stringify(e.context))],
          );
          rows += batch.length;
        }
        await client.end();
      }),
    );
    return rows / ((nowMs() - started) / 1000);
  } finally {
    await dropTestDatabase(url);
  }
}

async function kafkaCeiling(options: IngestBenchOptions): Promise<number> {
  const topic = await createTestTopic(4);
  const kafka = new Kafka({ clientId: 'orrery-bench', brokers: [...readConfig().kafkaBrokers], logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  try {
    await producer.connect();
    const value = Buffer.alloc(120, 7);
    let sent = 0;
    let n = 0;
    const deadline = Date.now() + options.seconds * 1000;
    const started = nowMs();
    while (Date.now() < deadline) {
      await producer.send({ topic, acks: -1, messages: Array.from({ length: options.batch }, () => ({ key: `user-${n++ % USERS}`, value })) });
      sent += options.batch;
    }
    return sent / ((nowMs() - started) / 1000);
  } finally {
    await producer.disconnect();
    await deleteTestTopic(topic);
  }
}

/** Where events sit in the stream the projector consumes: their partition and commit sequence. */
async function positionsOfEvents(
  databaseUrl: string,
  topic: string,
): Promise<{ of(events: readonly { eventId: string; key: string }[]): Promise<Map<string, { source: string; sequence: bigint }>>; close(): Promise<void> }> {
  const admin = new Kafka({ clientId: 'orrery-bench', brokers: [...readConfig().kafkaBrokers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const partitions = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]?.partitions.length ?? 0;
  await admin.disconnect();
  const db = new Client({ connectionString: databaseUrl, application_name: 'orrery-bench-positions' });
  await db.connect();
  return {
    async of(events) {
      const keyOf = new Map(events.map(({ eventId, key }) => [eventId, key]));
      // Prepared once (planning cost ~1 ms, more than running it).
      const { rows } = await db.query<{ event_id: string; sequence: string }>({
        name: 'bench-sample-positions',
        text: 'SELECT event_id, sequence::text FROM events WHERE event_id = ANY($1::text[])',
        values: [[...keyOf.keys()]],
      });
      return new Map(
        rows.map((row) => [row.event_id, { source: watermarkSource(topic, partitionOfKey(keyOf.get(row.event_id)!, partitions)), sequence: BigInt(row.sequence) }]),
      );
    },
    close: () => db.end(),
  };
}

async function countEvents(databaseUrl: string): Promise<number> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return Number((await client.query<{ count: string }>('SELECT count(*) FROM events')).rows[0]!.count);
  } finally {
    await client.end();
  }
}

/**
 * Waits (up to a minute) until the write side is idle: the relay has published every committed fact
 * and the projector's group has committed the topic's end. Returns what was left when it gave up ('' when idle).
 */
async function waitUntilIdle(databaseUrl: string, topic: string, projectorGroup: string): Promise<string> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  const admin = new Kafka({ clientId: 'orrery-bench', brokers: [...readConfig().kafkaBrokers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const deadline = nowMs() + 60_000;
  try {
    for (;;) {
      const { pendingRows } = await readOutboxLag(client);
      let unprojected = 0;
      if (pendingRows === 0) {
        const [ends, committed] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId: projectorGroup, topics: [topic] })]);
        const committedOf = new Map(committed[0]?.partitions.map((partition) => [partition.partition, Number(partition.offset)]) ?? []);
        unprojected = ends.reduce((sum, end) => sum + Math.max(0, Number(end.high) - Math.max(0, committedOf.get(end.partition) ?? 0)), 0);
        if (unprojected === 0) return '';
      }
      if (nowMs() > deadline) return `${pendingRows} facts unpublished, ${unprojected} messages not projected after 60 s`;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await admin.disconnect();
    await client.end();
  }
}

async function topicMessageCount(topic: string): Promise<number> {
  const admin = new Kafka({ clientId: 'orrery-bench', brokers: [...readConfig().kafkaBrokers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, partition) => sum + Number(partition.high) - Number(partition.low), 0);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Where the lag of the traced batches went, stage by stage, from their traces in Jaeger (the spans
 * are exported within ~0.5 s; a trace still missing after a few tries is left out).
 */
async function lagStagesReport(jaegerUrl: string, tracingEnabled: boolean, traceIds: readonly string[]): Promise<string> {
  if (!tracingEnabled) return 'where the lag went: not read (ORRERY_TRACING=false)';
  if (traceIds.length === 0) return 'where the lag went: no batch was traced';
  try {
    const traces = await fetchCompleteTraces(jaegerUrl, traceIds, (trace) => trace.spans.some((span) => span.service === 'projector'));
    const stages: EventStages[] = [];
    // The batch whose slowest event took longest from commit to applied, drawn span by span.
    let slowest: { trace: JaegerTrace; worstMs: number } | undefined;
    for (const trace of traces.values()) {
      for (const stage of lagStages(trace.spans)) {
        stages.push(stage);
        if (slowest === undefined || stage.total > slowest.worstMs) slowest = { trace, worstMs: stage.total };
      }
    }
    return [
      `where the lag went (Jaeger, ${stages.length} events of ${traces.size} of ${traceIds.length} traced batches — every ${TRACED_BATCH_EVERY}th sent with a sampled trace context; from the command's reply, so a little after the commit and before the ack):`,
      ...formatStages(stages),
      ...(slowest
        ? [
            `the traced batch with the slowest event (${slowest.worstMs.toFixed(1)} ms from commit to applied; \`orrery trace <trace id>\` draws any of them):`,
            renderWaterfall(slowest.trace, { width: 150, attributes: false, expand: false, color: false }),
          ]
        : []),
    ].join('\n');
  } catch (error) {
    return `where the lag went: not read from Jaeger at ${jaegerUrl} (${error instanceof Error ? error.message : String(error)})`;
  }
}
