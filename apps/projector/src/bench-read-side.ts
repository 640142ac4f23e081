// Read-side benchmark (prints figures; not a test). On the local engines, in a fresh topic and Redis
// prefix (both removed at the end):
//   1. projector throughput: a topic pre-loaded with N domain events, consumed from the start;
//   2. projector lag (from committed_at, i.e. the command-side commit) at a fixed input rate;
//   3. query p50/p99 per call at a fixed concurrency, over what 1. projected (the built query
//      service as its own process, called over gRPC from this one);
//   4. redis-benchmark on the same Redis, for scale.
// Run: npm run build && node apps/projector/dist/bench-read-side.js [--events 200000] [--rate 5000]
//      [--seconds 10] [--concurrency 8] [--projector-only: phases 1 and 2]   (engines: bash /work/main/infra/local/stack.sh env)
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { Partitioners } from 'kafkajs';
import { integerOption, parseOptions, readCommandLine, readConfig, type OrreryConfig } from '@orrery/config';
import { createClient } from '@orrery/grpc';
import { createKafka, domainEventKey, encodeDomainEvent, ensureTopic } from '@orrery/kafka';
import { describeLatencies, formatPercentile, percentiles, sendOnSchedule, sentPerSecond, type PercentileName } from '@orrery/metrics';
import { createRedis, unlinkKeys } from '@orrery/projections';
import { DomainEventSchema, EventType, QueryService, type DomainEvent } from '@orrery/proto';
import { createLogger } from '@orrery/telemetry';
import { costSnapshot, describeCost } from './bench-cost';
import { Freshness } from './freshness';
import { groupLag } from './rebuild';
import { startProjector } from './service';

const USERS = 10_000;
const ITEMS = 2_000;
const CATEGORIES = 20;

const USAGE = 'usage: node apps/projector/dist/bench-read-side.js [--events 200000] [--rate 5000] [--seconds 10] [--concurrency 8] [--projector-only]';

function options(argv: readonly string[]): { events: number; rate: number; seconds: number; concurrency: number; projectorOnly: boolean } {
  const { values } = parseOptions({
    args: [...argv],
    options: {
      events: { type: 'string', default: '200000' },
      rate: { type: 'string', default: '5000' },
      seconds: { type: 'string', default: '10' },
      concurrency: { type: 'string', default: '8' },
      'projector-only': { type: 'boolean', default: false },
    },
  });
  return {
    events: integerOption('events', values.events, 1),
    rate: integerOption('rate', values.rate, 1),
    seconds: integerOption('seconds', values.seconds, 1),
    concurrency: integerOption('concurrency', values.concurrency, 1),
    projectorOnly: values['projector-only'],
  };
}

/**
 * Commit sequences, one counter for every event the bench publishes: the projector treats an event at
 * or below its partition's watermark as already applied, so no two may share one.
 */
function sequenceCounter(): () => bigint {
  let sequence = 0n;
  return () => ++sequence;
}

/** A deterministic stream generator: skewed item popularity, per-user session clocks. */
function generator(seed: number, nextSequence: () => bigint): () => DomainEvent {
  let state = seed;
  const random = (): number => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
  const types = [EventType.VIEW, EventType.VIEW, EventType.VIEW, EventType.VIEW, EventType.CLICK, EventType.CLICK, EventType.ADD_TO_CART, EventType.PURCHASE, EventType.LIKE];
  const clocks = new Map<number, number>();
  const start = Date.now() - 7 * 86_400_000;
  return () => {
    const user = Math.floor(random() * USERS);
    const at = Math.floor((clocks.get(user) ?? start + random() * 86_400_000) + random() * 600_000);
    clocks.set(user, at);
    return create(DomainEventSchema, {
      sequence: nextSequence(),
      committedAt: timestampFromMs(Date.now()),
      payload: {
        case: 'interaction',
        value: { eventId: randomUUID(), userId: `user-${user}`, itemId: `item-${Math.floor(random() ** 2 * ITEMS)}`, type: types[Math.floor(random() * types.length)]!, occurredAt: timestampFromMs(at) },
      },
    });
  };
}

async function main(): Promise<void> {
  const commandLine = readCommandLine(process.argv.slice(2), USAGE, options);
  if ('exitCode' in commandLine) return void (process.exitCode = commandLine.exitCode);
  const { events, rate, seconds, concurrency, projectorOnly } = commandLine.options;
  const suffix = randomUUID().slice(0, 8);
  const config: OrreryConfig = {
    ...readConfig(),
    eventsTopic: `orrery-bench-${suffix}`,
    eventsTopicPartitions: 4,
    projectorGroup: `orrery-bench-${suffix}`,
    redisPrefix: `bench_${suffix}`,
    queryAddress: '127.0.0.1:0',
    tracingEnabled: false,
    logLevel: 'warn',
  };
  const logger = createLogger('bench-read-side', 'warn');
  const kafka = createKafka(config, 'bench');
  await ensureTopic(kafka, config.eventsTopic, config.eventsTopicPartitions);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  const admin = kafka.admin();
  await Promise.all([producer.connect(), admin.connect()]);
  const redis = createRedis(config, 'bench');
  const send = (batch: readonly DomainEvent[]): Promise<unknown> =>
    producer.send({ topic: config.eventsTopic, messages: batch.map((event) => ({ key: domainEventKey(event), value: encodeDomainEvent(event) })) });
  const nextSequence = sequenceCounter();
  const next = generator(42, nextSequence);

  try {
    // The catalog, then the pre-loaded interactions.
    const catalog = Array.from({ length: ITEMS }, (_, index) =>
      create(DomainEventSchema, {
        sequence: nextSequence(),
        committedAt: timestampFromMs(Date.now()),
        payload: { case: 'itemUpserted', value: { itemId: `item-${index}`, categories: [`cat-${index % CATEGORIES}`, `cat-${(index * 7) % CATEGORIES}`] } },
      }),
    );
    await send(catalog);
    process.stdout.write(`pre-loading ${events} interactions (${USERS} users, ${ITEMS} items)…\n`);
    for (let sent = 0; sent < events; sent += 5_000) await send(Array.from({ length: Math.min(5_000, events - sent) }, next));

    // 1. Throughput from the start of the topic.
    const freshness = new Freshness();
    const startedMs = Date.now();
    const costBefore = await costSnapshot(redis);
    const projector = await startProjector(config, logger, { freshness });
    let firstMs = 0;
    const total = events + ITEMS;
    for (;;) {
      const applied = freshness.report().fromCommitted.count;
      if (applied > 0 && firstMs === 0) firstMs = Date.now();
      if (applied >= total) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const doneMs = Date.now();
    const throughput = total / ((doneMs - firstMs) / 1000);
    process.stdout.write(
      `projector throughput: ${total} events applied in ${((doneMs - firstMs) / 1000).toFixed(2)} s from the first apply = ${Math.round(throughput)} events/s ` +
        `(${((doneMs - startedMs) / 1000).toFixed(2)} s including the consumer group join)\n`,
    );
    process.stdout.write(`  cost per event: ${describeCost(costBefore, await costSnapshot(redis), total)}\n`);

    // 2. Lag at a fixed input rate.
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // offsets committed
    freshness.takeReport();
    // A batch every 20 ms, each due at its time counted from the start (sendOnSchedule), so a timer that
    // fires late does not lower the rate; the rate sent is printed beside the one asked.
    const lagCostBefore = await costSnapshot(redis);
    const sends: Promise<unknown>[] = [];
    const loop = await sendOnSchedule(rate, 50, seconds, (size) => void sends.push(send(Array.from({ length: size }, next))));
    const produced = loop.sent;
    await Promise.all(sends);
    while (freshness.report().fromCommitted.count < produced) await new Promise((resolve) => setTimeout(resolve, 20));
    const lag = freshness.report().fromCommitted;
    // Bucket bounds: each percentile is at most the bound printed (≤max: too few events for it).
    const bound = (name: PercentileName, valueMs: number): string => {
      const text = formatPercentile(name, valueMs, lag.count, 0);
      return text === '≤max' || text === '—' ? text : `≤ ${text} ms`;
    };
    process.stdout.write(
      `projector lag at ${rate} events/s asked, ${sentPerSecond(loop.sent, loop.lastSentMs, loop.scheduledMs).toFixed(0)} sent, for ${seconds} s (${produced} events; commit → applied, bucket bounds): p50 ${bound('p50', lag.p50Ms)}, p90 ${bound('p90', lag.p90Ms)}, p99 ${bound('p99', lag.p99Ms)}, max ${lag.maxMs} ms (n=${lag.count})\n`,
    );
    process.stdout.write(`  cost per event (producer in this process too): ${describeCost(lagCostBefore, await costSnapshot(redis), produced)}\n`);
    await eventually0(async () => (await groupLag(admin, config.eventsTopic, config.projectorGroup)) === 0);
    if (projectorOnly) {
      await projector.close();
      return;
    }

    // 3. Query latency per call.
    // The built query service as its own process (as deployed), on a free port.
    const port = await freePort();
    const query = spawn(process.execPath, [join(__dirname, '..', '..', 'query', 'dist', 'main.js')], {
      // Metrics port 0: a query already running on this machine holds the default one.
      env: { ...process.env, ORRERY_QUERY_ADDRESS: `127.0.0.1:${port}`, ORRERY_REDIS_PREFIX: config.redisPrefix, ORRERY_TRACING: 'false', ORRERY_LOG_LEVEL: 'warn', ORRERY_METRICS_PORT_QUERY: '0' },
      stdio: 'inherit',
    });
    const client = createClient(QueryService, `127.0.0.1:${port}`);
    await eventually0(() => client.getTrending({ count: 1 }).then(() => true, () => false));
    const pick = (count: number, prefix: string, of: number): string[] => Array.from({ length: count }, () => `${prefix}-${Math.floor(Math.random() ** 2 * of)}`);
    const calls: [string, () => Promise<unknown>][] = [
      ['GetUserContext', () => client.getUserContext({ userId: pick(1, 'user', USERS)[0]!, recentLimit: 50 })],
      ['GetCoVisited(5 items)', () => client.getCoVisited({ itemIds: pick(5, 'item', ITEMS), countPerItem: 20 })],
      ['GetTrending', () => client.getTrending({ count: 50 })],
      ['GetTrending(category)', () => client.getTrending({ count: 50, category: `cat-${Math.floor(Math.random() * CATEGORIES)}` })],
      ['GetItems(50 items)', () => client.getItems({ itemIds: pick(50, 'item', ITEMS) })],
      ['CheckSeen(50 items)', () => client.checkSeen({ userId: pick(1, 'user', USERS)[0]!, itemIds: pick(50, 'item', ITEMS) })],
    ];
    for (const [name, call] of calls) {
      for (let warm = 0; warm < 200; warm += 1) await call();
      const latencies: number[] = [];
      const until = Date.now() + 3_000;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (Date.now() < until) {
            const begin = process.hrtime.bigint();
            await call();
            latencies.push(Number(process.hrtime.bigint() - begin) / 1e6);
          }
        }),
      );
      process.stdout.write(
        `query ${name.padEnd(22)} concurrency ${concurrency}: ${latencies.length} calls in 3 s (${Math.round(latencies.length / 3)}/s), ${describeLatencies(percentiles(latencies), ['p50', 'p99'], 2)}\n`,
      );
    }
    client.close();
    query.kill('SIGTERM');
    await projector.close();

    // 4. The same Redis, measured by its own tool.
    const url = new URL(config.redisUrl);
    const benchmark = spawnSync('redis-benchmark', ['-h', url.hostname, '-p', url.port || '6379', '-q', '-n', '100000', '-t', 'set,get,incr,lpush,zadd,hset'], { encoding: 'utf8' });
    const pipelined = spawnSync('redis-benchmark', ['-h', url.hostname, '-p', url.port || '6379', '-q', '-n', '200000', '-P', '16', '-t', 'set,get,zadd'], { encoding: 'utf8' });
    process.stdout.write(`redis-benchmark -q -n 100000 (50 clients):\n${clean(benchmark.stdout)}redis-benchmark -q -n 200000 -P 16 (pipelined):\n${clean(pipelined.stdout)}`);
  } finally {
    await unlinkKeys(redis, `${config.redisPrefix}:*`);
    await admin.deleteTopics({ topics: [config.eventsTopic] }).catch(() => undefined);
    await admin.deleteGroups([config.projectorGroup]).catch(() => undefined);
    await Promise.all([producer.disconnect(), admin.disconnect()]);
    await redis.quit();
  }
}

/** redis-benchmark -q progress lines end in \r: keep only the final figures. */
function clean(output: string): string {
  return output
    .split('\n')
    .map((line) => line.split('\r').at(-1)!.trim())
    .filter((line) => line.length > 0)
    .map((line) => `  ${line}\n`)
    .join('');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function eventually0(probe: () => Promise<boolean>): Promise<void> {
  while (!(await probe())) await new Promise((resolve) => setTimeout(resolve, 100));
}

main().then(
  () => process.exit(),
  (error: unknown) => {
    console.error('bench failed:', error);
    process.exit(1);
  },
);
