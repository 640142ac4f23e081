#!/usr/bin/env node
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join, resolve as resolvePath } from 'node:path';
import { integerOption, numberOption, parseOptions, readConfig, UsageError, type OrreryConfig } from '@orrery/config';
import {
  clearServiceRecord,
  readServiceRecord,
  REPO_ROOT,
  startServices,
  stopServices,
  writeServiceRecord,
} from './platform';
import { runBenchmarks } from './bench';
import { DEFAULT_LADDER_RATES, parseLadder, parseRates, readGhzLadder, RECOMMEND_LADDER, reportLadder } from './rate-ladder';
import { readPlatformState, startupSteps } from './platform-state';
import { INGEST_BENCH_PHASES, runIngestBenchmarks, type IngestBenchPhase } from './bench-ingest';
import { ingestDataset, seedDemoData } from './seed';
import { checkIngestibleTimes, datasetFromRatings, readRatingFile, type Dataset } from './dataset';
import { runLiveEvaluation } from './eval';
import { ndcgRatio, EVAL_RECOMMENDERS } from './eval-report';
import { generateSyntheticDataset, syntheticId } from '@orrery/ml';
import { createClient } from '@orrery/grpc';
import { IngestService } from '@orrery/proto';
import { describeWriteLoad, startWriteLoad } from './write-load';
import { traceCommand } from './trace-command';
import { runCommandLine } from './command-line';

async function main(argv: string[]): Promise<number> {
  // Read when a command needs it: a malformed variable must not keep `orrery down` from stopping the services.
  let config: OrreryConfig | undefined;
  const configured = (): OrreryConfig => (config ??= readConfig());
  return runCommandLine(
    argv,
    {
      up: (args) => up(configured(), args),
      down: () => down(),
      status: () => status(),
      seed: (args) => seed(configured(), args),
      train: (args) => train(args),
      rebuild: (args) => rebuild(args),
      bench: (args) => bench(args),
      import: (args) => importData(configured(), args),
      eval: (args) => evaluate(args),
      'write-load': (args) => writeLoadCommand(configured(), args),
      trace: (args) => traceCommand(configured().jaegerQueryUrl, args),
    },
    { out: (text) => void process.stdout.write(text), err: (text) => void process.stderr.write(text) },
  );
}

async function up(config: OrreryConfig, args: string[]): Promise<number> {
  const { values } = parseOptions({ args, options: { 'no-seed': { type: 'boolean', default: false } } });
  const running = readServiceRecord();
  if (running.length > 0) {
    process.stdout.write(`services already running: ${running.map((service) => service.name).join(', ')} (orrery down stops them)\n`);
  } else {
    const services = await startServices({
      env: process.env,
      logDir: join(REPO_ROOT, '.orrery', 'logs'),
      detached: true,
      onProgress: (line) => process.stdout.write(`  ${line}\n`),
    });
    writeServiceRecord(services);
  }
  if (!values['no-seed']) {
    for (const step of startupSteps(await readPlatformState(config))) {
      switch (step) {
        case 'seed': {
          process.stdout.write('seeding demo data (synthetic catalog with planted tastes)…\n');
          const result = await seedDemoData({ ingestAddress: config.ingestAddress, users: 1_000, items: 600, eventsPerUser: 40, seed: 42, progress: true });
          process.stdout.write(`  ${result.dataset.items.length} items, ${result.dataset.users.length} users, ${result.accepted} events\n`);
          break;
        }
        case 'rebuild-projections':
          // The event store and Kafka kept the history but Redis did not (e.g. restarted without its data).
          process.stdout.write('the event store holds events but the Redis projections are empty: replaying Kafka into them…\n');
          if (rebuild([]) !== 0) return 1;
          break;
        case 'train':
          process.stdout.write('training the first model…\n');
          if (train([], { ...process.env, ORRERY_LOG_LEVEL: 'warn' }) !== 0) return 1;
          break;
        default: {
          const unreachable: never = step;
          throw new Error(`unknown startup step ${String(unreachable)}`);
        }
      }
    }
  }
  process.stdout.write(howToCall(config));
  return 0;
}

async function down(): Promise<number> {
  const running = readServiceRecord();
  await stopServices(running);
  clearServiceRecord();
  process.stdout.write(running.length > 0 ? `stopped ${running.map((service) => service.name).join(', ')}\n` : 'no services were running\n');
  return 0;
}

function status(): number {
  const running = readServiceRecord();
  if (running.length === 0) process.stdout.write('no services running (npm start starts them)\n');
  for (const service of running) process.stdout.write(`${service.name.padEnd(12)} up   pid ${service.pid}  log ${service.logFile}\n`);
  return 0;
}

async function seed(config: OrreryConfig, args: string[]): Promise<number> {
  const { values } = parseOptions({
    args,
    options: {
      users: { type: 'string', default: '1000' },
      items: { type: 'string', default: '600' },
      'events-per-user': { type: 'string', default: '40' },
      seed: { type: 'string', default: '42' },
    },
  });
  const result = await seedDemoData({
    ingestAddress: config.ingestAddress,
    users: positiveInteger('users', values.users),
    items: positiveInteger('items', values.items),
    eventsPerUser: positiveInteger('events-per-user', values['events-per-user']),
    seed: positiveInteger('seed', values.seed),
    progress: true,
  });
  process.stdout.write(`seeded ${result.dataset.items.length} items, ${result.dataset.users.length} users, ${result.accepted} events\n`);
  return 0;
}

async function bench(args: string[]): Promise<number> {
  if (args[0] === 'ingest') return benchIngest(args.slice(1));
  if (args[0] === 'ghz-ladder-report') return ghzLadderReport(args.slice(1));
  const { values } = parseOptions({
    args,
    options: {
      seconds: { type: 'string', default: '10' },
      rate: { type: 'string', default: '500' },
      concurrency: { type: 'string', default: '8' },
      'trace-sample-ratio': { type: 'string', default: '1' },
      'recommender-workers': { type: 'string', default: '1' },
      'write-rate': { type: 'string', default: '1000' },
      ladder: { type: 'string', default: DEFAULT_LADDER_RATES.join(',') },
      'ladder-seconds': { type: 'string', default: '5' },
      'ladder-plot': { type: 'string', default: join(REPO_ROOT, '.orrery', 'bench-recommend-by-rate.svg') },
    },
  });
  // 'off' benchmarks without tracing at all (ORRERY_TRACING=false), beside a ratio of the SDK.
  const traceSampleRatio = values['trace-sample-ratio'] === 'off' ? 'off' : numberOption('trace-sample-ratio', values['trace-sample-ratio'], 0, 1, 'off');
  // Events/s; 0 skips the phase (asked for, not an empty value read as 0).
  const writeRate = integerOption('write-rate', values['write-rate'], 0);
  await runBenchmarks({
    seconds: positiveInteger('seconds', values.seconds),
    rate: positiveInteger('rate', values.rate),
    concurrency: positiveInteger('concurrency', values.concurrency),
    traceSampleRatio,
    recommenderWorkers: positiveInteger('recommender-workers', values['recommender-workers']),
    writeRate,
    ladder: parseLadder(values.ladder),
    ladderSeconds: positiveInteger('ladder-seconds', values['ladder-seconds']),
    ladderPlot: values['ladder-plot'],
  });
  return 0;
}

/** Reports a ghz ladder run (`npm run bench:ghz -- --ladder …` writes the directory and calls this). */
function ghzLadderReport(args: string[]): number {
  const { values, positionals } = parseOptions({ args, allowPositionals: true, options: { plot: { type: 'string', default: join(REPO_ROOT, '.orrery', 'ghz-recommend-by-rate.svg') } } });
  if (positionals.length !== 1) throw new UsageError(`ghz-ladder-report takes one directory (of <rate>.ghz.json and <rate>.cpu.json), got ${positionals.length}`);
  reportLadder(readGhzLadder(positionals[0]!), RECOMMEND_LADDER, 'Recommend by rate with ghz (open loop at each rate)', values.plot, (line) => void process.stdout.write(`${line}\n`));
  return 0;
}

const DATASET_OPTIONS = {
  synthetic: { type: 'boolean', default: false },
  users: { type: 'string', default: '1000' },
  items: { type: 'string', default: '600' },
  'events-per-user': { type: 'string', default: '40' },
  seed: { type: 'string', default: '42' },
  'keep-timestamps': { type: 'boolean', default: false },
} as const;

/** The data set named by the arguments: a rating file (first positional) or the synthetic generator. */
async function datasetFromArgs(values: { [K in keyof typeof DATASET_OPTIONS]?: string | boolean }, file: string | undefined): Promise<{ name: string; dataset: Dataset }> {
  const positive = (name: keyof typeof DATASET_OPTIONS): number => positiveInteger(name, String(values[name]));
  if (file !== undefined) {
    const ratings = await readRatingFile(file, { progress: true });
    const shifted = values['keep-timestamps'] !== true;
    const dataset = datasetFromRatings(ratings, shifted ? { newestAt: Date.now() - 60_000 } : {});
    checkIngestibleTimes(dataset, file, shifted);
    return { name: file.replace(/^.*[\\/]/, '').replace(/\.[^.]*$/, '') || 'ratings', dataset };
  }
  const users = positive('users');
  const items = positive('items');
  const dataset = generateSyntheticDataset({ users, items, eventsPerUser: positive('events-per-user'), seed: positive('seed'), startTime: Date.now() - 30 * 86_400_000, spanDays: 29 });
  return { name: `synthetic-${users}u-${items}i`, dataset };
}

async function importData(config: OrreryConfig, args: string[]): Promise<number> {
  const { values, positionals } = parseOptions({ args, options: DATASET_OPTIONS, allowPositionals: true });
  if (positionals.length === 0 && !values.synthetic) throw new UsageError('needs a rating file (u.data, ratings.dat, ratings.csv) or --synthetic');
  if (positionals.length > 1) throw new UsageError(`takes one file, got ${positionals.length}`);
  const { name, dataset } = await datasetFromArgs(values, positionals[0]);
  const accepted = await ingestDataset(dataset, config.ingestAddress, { progress: true });
  process.stdout.write(`imported ${name}: ${dataset.items.length} items, ${dataset.users.length} users, ${accepted} events accepted by ${config.ingestAddress}\n`);
  return 0;
}

async function evaluate(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions({
    args,
    options: { ...DATASET_OPTIONS, 'eval-users': { type: 'string' }, name: { type: 'string' }, out: { type: 'string', default: join(REPO_ROOT, 'docs') } },
    allowPositionals: true,
  });
  if (positionals.length > 1) throw new UsageError(`takes at most one file, got ${positionals.length}`);
  const maxUsers = values['eval-users'] === undefined ? undefined : positiveInteger('eval-users', values['eval-users']);
  const { name, dataset } = await datasetFromArgs(values, positionals[0]);
  const summary = await runLiveEvaluation({ name: values.name ?? name, dataset, ...(maxUsers === undefined ? {} : { maxUsers }), outDir: values.out, progress: true });
  const f = (value: number): string => value.toFixed(3).padStart(10);
  process.stdout.write(`\n${'recommender'.padEnd(22)}${'HitRate@10'.padStart(10)}${'NDCG@10'.padStart(10)}${'Recall@20'.padStart(10)}${'cov@10'.padStart(10)}\n`);
  for (const row of summary.rows) process.stdout.write(`${row.name.padEnd(22)}${f(row.hitRateAt10)}${f(row.ndcgAt10)}${f(row.recallAt20)}${f(row.coverageAt10)}\n`);
  process.stdout.write(`served NDCG@10 = ${ndcgRatio(summary, EVAL_RECOMMENDERS.popularity).toFixed(2)}× popularity, ${ndcgRatio(summary, EVAL_RECOMMENDERS.coVisitation).toFixed(2)}× co-visitation only (${summary.evaluatedUsers} users); report in ${values.out}\n`);
  return 0;
}

async function benchIngest(args: string[]): Promise<number> {
  const { values } = parseOptions({
    args,
    options: {
      seconds: { type: 'string', default: '10' },
      batch: { type: 'string', default: '1000' },
      concurrency: { type: 'string', default: '4' },
      rate: { type: 'string', default: '1000,2500,5000' },
      history: { type: 'string', default: '30' },
      'ladder-plot': { type: 'string', default: join(REPO_ROOT, '.orrery', 'bench-ingest-lag-by-rate.svg') },
      phases: { type: 'string', default: INGEST_BENCH_PHASES.join(',') },
      'cpu-prof-dir': { type: 'string' },
    },
  });
  const phases = new Set(values.phases.split(',').map((phase) => phase.trim()));
  const unknownPhases = [...phases].filter((phase) => !(INGEST_BENCH_PHASES as readonly string[]).includes(phase));
  if (unknownPhases.length > 0 || phases.size === 0) throw new UsageError(`--phases takes a comma-separated list of ${INGEST_BENCH_PHASES.join(', ')}; got "${values.phases}"`);
  await runIngestBenchmarks({
    seconds: positiveInteger('seconds', values.seconds),
    batch: Math.min(10_000, positiveInteger('batch', values.batch)),
    concurrency: positiveInteger('concurrency', values.concurrency),
    rates: parseRates('--rate', values.rate),
    ladderPlot: resolvePath(values['ladder-plot']),
    history: integerOption('history', values.history, 0),
    phases: phases as ReadonlySet<IngestBenchPhase>,
    cpuProfileDir: values['cpu-prof-dir'] === undefined ? undefined : resolvePath(values['cpu-prof-dir']),
  });
  return 0;
}

/** Runs the trainer with `args` (its own options, which it checks), by default once: train, evaluate, register, promote if better; returns its exit code. */
function train(args: readonly string[], env: NodeJS.ProcessEnv = process.env): number {
  const trainer = join(REPO_ROOT, 'apps', 'trainer', 'dist', 'main.js');
  const run = spawnSync(process.execPath, ['--enable-source-maps', trainer, ...args], { stdio: 'inherit', env });
  return run.status ?? 1;
}

/** The value of option `--name` as a positive integer, or an error naming the option and what it got. */
function positiveInteger(name: string, raw: string | undefined): number {
  return integerOption(name, raw, 1);
}

/**
 * `orrery write-load`: random views and clicks of the demo users and items at a fixed rate through the
 * running platform's ingestion API, until --seconds pass or the process is interrupted; prints what
 * was acknowledged. Background load for measuring serving while events flow (infra/dev/ghz.sh runs it
 * with ORRERY_BENCH_WRITE_RATE).
 */
async function writeLoadCommand(config: OrreryConfig, args: string[]): Promise<number> {
  const { values } = parseOptions({
    args,
    options: {
      rate: { type: 'string', default: '1000' },
      seconds: { type: 'string', default: '10' },
      users: { type: 'string', default: '1000' },
      items: { type: 'string', default: '600' },
    },
  });
  const rate = positiveInteger('rate', values.rate);
  const seconds = positiveInteger('seconds', values.seconds);
  const userCount = positiveInteger('users', values.users);
  const itemCount = positiveInteger('items', values.items);
  const users = Array.from({ length: userCount }, (_, index) => syntheticId('user', index, userCount));
  const items = Array.from({ length: itemCount }, (_, index) => syntheticId('item', index, itemCount));
  const ingest = createClient(IngestService, config.ingestAddress, { timeoutMs: 30_000 });
  // Said at once: with the platform down, every batch fails for the whole --seconds, and the summary came only at the end.
  const load = startWriteLoad(ingest, users, items, rate, Math.random, (message) =>
    void process.stderr.write(`write load: a batch failed (${message}); still sending until the time is up or Ctrl-C (is the platform up at ${config.ingestAddress}? npm start)\n`),
  );
  await new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    const timer = setTimeout(done, seconds * 1_000);
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  const result = await load.stop();
  ingest.close();
  process.stdout.write(`${describeWriteLoad(result, rate)}\n`);
  return result.failedBatches > 0 ? 1 : 0;
}

function rebuild(args: string[]): number {
  const entry = join(REPO_ROOT, 'apps', 'projector', 'dist', 'rebuild-main.js');
  const run = spawnSync(process.execPath, ['--enable-source-maps', entry, ...args], { stdio: 'inherit' });
  return run.status ?? 1;
}

/** Whether an executable named `command` is in one of PATH's directories. */
function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((directory) => directory !== '' && existsSync(join(directory, command)));
}

/** How to run grpcurl here: from PATH, or the one `npm start` built into .orrery/bin; undefined when neither is there. */
function grpcurlCommand(): string | undefined {
  if (onPath('grpcurl')) return 'grpcurl';
  const built = join(REPO_ROOT, '.orrery', 'bin', 'grpcurl');
  return existsSync(built) ? built : undefined;
}

function howToCall(config: OrreryConfig): string {
  const grpcurl = grpcurlCommand();
  return `
Orrery is up.
  ingestion (IngestService, CatalogService)  grpc://${config.ingestAddress}   ZeroMQ ${config.ingestZmqEndpoint}
  recommender (RecommendationService)        grpc://${config.recommenderAddress}
  Jaeger UI / query API                      ${config.jaegerQueryUrl}

Try:${grpcurl === undefined ? ' (grpcurl is not installed here: bash infra/dev/go-tool.sh grpcurl builds it into .orrery/bin)' : ''}
  ${grpcurl ?? 'grpcurl'} -plaintext -d '{"user_id":"user-0007","count":5}' ${config.recommenderAddress} orrery.v1.RecommendationService/Recommend
  ${grpcurl ?? 'grpcurl'} -plaintext -d '{"event":{"user_id":"user-0007","item_id":"item-0042","type":"EVENT_TYPE_CLICK"}}' ${config.ingestAddress} orrery.v1.IngestService/Track
  npm run -s orrery -- trace --service recommender --operation grpc.orrery.v1.RecommendationService/Recommend --last
Logs: .orrery/logs/   Stop: npm stop
`;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`orrery: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
