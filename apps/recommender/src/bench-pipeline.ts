// What one Recommend pipeline costs this process, in CPU µs and garbage collections (prints figures; not
// a test; collections a call follow what a call allocates, and are steadier than CPU here): the pipeline
// run in process, as the warm-up runs it (Redis reads, the ANN search, features, score calls over
// ZeroMQ), `--concurrency` calls at a time for demo users, without gRPC. Rounds run back to back: the
// first warms V8 and the shared-reads cache up, so compare the later ones. Calls back to back cost
// less than calls spread out (docs/benchmarks.md, "why a lone request costs four times a busy one"),
// so this measures the pipeline's own code, for A/B comparisons of it; `npm run bench:ghz` measures
// serving.
// It opens what a recommender opens (so it runs the schema migrations, as a recommender's start does).
// Run against a running platform (npm start), with the V8 flag the launcher gives the recommender:
//   eval "$(bash infra/local/stack.sh env)" && node --no-allocation-site-pretenuring apps/recommender/dist/bench-pipeline.js [--calls 4000] [--rounds 4] [--concurrency 8]
// For an A/B, copy apps/recommender/dist of one build aside (apps/recommender/dist-a/, inside the
// repository so that its imports resolve; git ignores it) and run the two alternately: this VM's speed
// drifts by ±20% within minutes. A change to a lib as well needs that lib's build beside the copy, e.g.
// a directory with node_modules/@orrery/ml/{package.json,dist} and apps/recommender/dist in it.
import { integerOption, parseOptions, readCommandLine, readConfig } from '@orrery/config';
import { watchOwnPauses } from '@orrery/metrics';
import { suppressTracing } from '@opentelemetry/core';
import { context, createLogger } from '@orrery/telemetry';
import { inProcessRecommend, openRecommenderPorts } from './service';
import { warmUp, WARM_UP_USERS } from './warm-up';

const USAGE = 'usage: node --no-allocation-site-pretenuring apps/recommender/dist/bench-pipeline.js [--calls 4000] [--rounds 4] [--concurrency 8]';

function options(argv: readonly string[]): { calls: number; rounds: number; concurrency: number } {
  const { values } = parseOptions({ args: [...argv], options: { calls: { type: 'string', default: '4000' }, rounds: { type: 'string', default: '4' }, concurrency: { type: 'string', default: '8' } } });
  return { calls: integerOption('calls', values.calls, 1), rounds: integerOption('rounds', values.rounds, 1), concurrency: integerOption('concurrency', values.concurrency, 1) };
}

async function main(): Promise<void> {
  const commandLine = readCommandLine(process.argv.slice(2), USAGE, options);
  if ('exitCode' in commandLine) return void (process.exitCode = commandLine.exitCode);
  const { calls, rounds, concurrency } = commandLine.options;
  const config = readConfig();
  const opened = await openRecommenderPorts(config, createLogger('bench-pipeline', 'warn'));
  try {
    const userIds = await opened.reader.usersWithHistory(WARM_UP_USERS);
    if (userIds.length === 0) throw new Error('no user in the projections: start the platform with its demo data first (npm start)');
    const call = inProcessRecommend(opened.ports, config.downstreamTimeoutMs);
    console.log(`${calls} Recommend pipelines a round, ${concurrency} at a time, ${userIds.length} users; CPU of this process (user + system)`);
    const cpuPerCall: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      const cpuBefore = process.cpuUsage();
      const pauses = watchOwnPauses();
      const report = await context.with(suppressTracing(context.active()), () => warmUp(call, userIds, { requests: calls, concurrency, timeLimitMs: Infinity }));
      const cpu = process.cpuUsage(cpuBefore);
      const { garbageCollections, garbageCollectionMs } = pauses.stop();
      // Degraded calls skip parts of the pipeline and cost less: a round of them would read as a speed-up.
      if (report.stoppedEarly !== undefined || report.degraded + report.failed > 0) {
        throw new Error(`round ${round}: ${report.degraded} degraded and ${report.failed} failed calls (${report.stoppedEarly ?? 'not stopped'}): is every service of the platform up?`);
      }
      const perCall = (cpu.user + cpu.system) / report.sent;
      if (round > 1) cpuPerCall.push(perCall);
      console.log(
        `round ${round}${round === 1 ? ' (warm-up)' : ''}: ${perCall.toFixed(0)} µs CPU a call (user ${(cpu.user / report.sent).toFixed(0)}), ` +
          `${((report.sent * 1000) / report.tookMs).toFixed(0)} calls/s, ` +
          `${((garbageCollections * 1000) / report.sent).toFixed(1)} garbage collections a thousand calls (${((garbageCollectionMs * 1000) / report.sent).toFixed(0)} µs a call), last ${Math.min(200, report.sent)} calls p90 ${report.lastCallsP90Ms.toFixed(1)} ms`,
      );
    }
    if (cpuPerCall.length > 0) console.log(`CPU µs a call, rounds after the warm-up: ${cpuPerCall.map((perCall) => perCall.toFixed(0)).join(' / ')}`);
  } finally {
    await opened.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
