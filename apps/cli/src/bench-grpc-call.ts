// What one gRPC call costs a server of ours (prints figures; not a test): a bare IngestService whose
// Track only sets an attribute on its span, in a child process started fresh for each tracing mode,
// called by this process at fixed rates (open loop) and back to back (a closed loop of 32 callers), in
// the order given: the first load meets a fresh server, whose code V8 has not optimized yet.
// It prints the server's CPU per call, user and system, from process.cpuUsage. Two things show:
//   - what the SERVER span (@orrery/grpc's startServerSpan) costs, against tracing off, at 1% and at
//     every call sampled (spans are dropped, not exported, so no Jaeger is needed);
//   - what a call costs when it comes alone: on a VM whose cores idle between calls, a call at 100 a
//     second costs several times one in a closed loop (docs/benchmarks.md, 2026-11-28 16:10).
//   node apps/cli/dist/bench-grpc-call.js [--seconds 4] [--loads 100,1000,closed] [--modes off,0.01,1] [--rounds 2]
// Modes alternate within each round: this VM's speed drifts by ±20% within minutes.
import { fork } from 'node:child_process';
import { trace } from '@opentelemetry/api';
import { ParentBasedSampler, TraceIdRatioBasedSampler, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { integerOption, parseOptions, readCommandLine, UsageError } from '@orrery/config';
import { bindService, createClient, startGrpcServer, type Client } from '@orrery/grpc';
import { nowMs, untilDue } from '@orrery/metrics';
import { EventType, IngestService } from '@orrery/proto';

/** How the server traces: off, or the ratio of new traces sampled. */
type Mode = 'off' | number;

/** A message from the bench to its server child: reset the CPU count, report it, or exit. */
type Command = 'reset' | 'report' | 'exit';

interface CpuPerCall {
  readonly user: number;
  readonly system: number;
}

/** Exports nothing: the spans are made, sampled and batched, then dropped. */
const DROPPING_EXPORTER: SpanExporter = { export: (_spans, done) => done({ code: 0 }), shutdown: async () => undefined };

/** The server child: serves Track until told to exit, counting its calls and CPU. */
async function serve(mode: Mode): Promise<void> {
  if (mode !== 'off') {
    new NodeTracerProvider({
      sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(mode) }),
      spanProcessors: [new BatchSpanProcessor(DROPPING_EXPORTER)],
    }).register();
  }
  let calls = 0;
  const server = await startGrpcServer({
    address: '127.0.0.1:0',
    services: [
      bindService(IngestService, {
        track: async (request) => {
          calls += 1;
          trace.getActiveSpan()?.setAttribute('orrery.user_id', request.event?.userId ?? '');
          return { eventId: 'e', duplicate: false };
        },
        trackBatch: async () => ({ accepted: 0, rejected: [] }),
        trackStream: async () => ({ accepted: 0, rejected: [] }),
      }),
    ],
  });
  let since = process.cpuUsage();
  let callsSince = 0;
  process.on('message', (command: Command) => {
    if (command === 'exit') {
      void server.shutdown(100).then(() => process.exit(0));
      return;
    }
    const used = process.cpuUsage(since);
    const count = Math.max(1, calls - callsSince);
    if (command === 'report') process.send!({ user: used.user / count, system: used.system / count } satisfies CpuPerCall);
    else process.send!('reset');
    since = process.cpuUsage();
    callsSince = calls;
  });
  process.send!(server.port);
}


/** Calls Track at `load` calls a second (open loop) or back to back from 32 callers ('closed') for `ms`; returns how many. */
async function drive(client: Client<typeof IngestService>, load: number | 'closed', ms: number): Promise<number> {
  const track = () => client.track({ event: { userId: 'user-1', itemId: 'item-1', type: EventType.VIEW } });
  const end = nowMs() + ms;
  let calls = 0;
  if (load === 'closed') {
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (nowMs() < end) {
          await track();
          calls += 1;
        }
      }),
    );
    return calls;
  }
  const started = nowMs();
  const inFlight: Promise<unknown>[] = [];
  for (let n = 0; started + (n * 1000) / load < end; n += 1) {
    const due = started + (n * 1000) / load;
    await untilDue(due);
    inFlight.push(track());
    calls += 1;
  }
  await Promise.all(inFlight);
  return calls;
}

const USAGE = 'usage: node apps/cli/dist/bench-grpc-call.js [--seconds 4] [--loads 100,1000,closed] [--modes off,0.01,1] [--rounds 2]';

function options(argv: readonly string[]): { seconds: number; rounds: number; loads: Array<number | 'closed'>; modes: Mode[] } {
  const { values } = parseOptions({
    args: [...argv],
    options: { seconds: { type: 'string', default: '4' }, loads: { type: 'string', default: '100,1000,closed' }, modes: { type: 'string', default: 'off,0.01,1' }, rounds: { type: 'string', default: '2' } },
  });
  const loads = values.loads.split(',').map((load) => (load.trim() === 'closed' ? ('closed' as const) : Number(load)));
  if (loads.some((load) => load !== 'closed' && !(load > 0))) throw new UsageError(`--loads takes calls a second or closed, separated by commas; got "${values.loads}"`);
  const modes: Mode[] = values.modes.split(',').map((mode) => (mode.trim() === 'off' ? 'off' : Number(mode)));
  if (modes.some((mode) => mode !== 'off' && !(mode >= 0 && mode <= 1))) throw new UsageError(`--modes takes off or sampling ratios from 0 to 1; got "${values.modes}"`);
  return { seconds: integerOption('seconds', values.seconds, 1), rounds: integerOption('rounds', values.rounds, 1), loads, modes };
}

async function main(): Promise<void> {
  if (process.argv[2] === '--serve') return serve(process.argv[3] === 'off' ? 'off' : Number(process.argv[3]));
  const commandLine = readCommandLine(process.argv.slice(2), USAGE, options);
  if ('exitCode' in commandLine) return void (process.exitCode = commandLine.exitCode);
  const { seconds, rounds, loads, modes } = commandLine.options;

  process.stdout.write(`# What a gRPC call costs a server of ours (a bare Track): server CPU µs a call, ${seconds} s a step after ${seconds / 2} s of warm-up at the same load\n`);
  for (let round = 1; round <= rounds; round += 1) {
    for (const mode of modes) {
      const child = fork(__filename, ['--serve', String(mode)], { stdio: 'inherit' });
      const port = await new Promise<number>((resolve) => child.once('message', (message) => resolve(message as number)));
      const client = createClient(IngestService, `127.0.0.1:${port}`, { ownConnection: true });
      const ask = (command: Command) =>
        new Promise<unknown>((resolve) => {
          child.once('message', resolve);
          child.send(command);
        });
      const cells: string[] = [];
      for (const load of loads) {
        await drive(client, load, (seconds * 1000) / 2);
        await ask('reset');
        const calls = await drive(client, load, seconds * 1000);
        const cpu = (await ask('report')) as CpuPerCall;
        cells.push(`${load === 'closed' ? `closed loop (${(calls / seconds).toFixed(0)} calls/s)` : `${load} calls/s`}: ${(cpu.user + cpu.system).toFixed(0)} (user ${cpu.user.toFixed(0)}, system ${cpu.system.toFixed(0)})`);
      }
      client.close();
      child.send('exit' satisfies Command);
      await new Promise((resolve) => child.once('exit', resolve));
      process.stdout.write(`round ${round}, tracing ${mode === 'off' ? 'off' : `at ${mode}`}: ${cells.join(' | ')}\n`);
    }
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench-grpc-call: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
