// The orrery command line: which command runs and what it is given. Commands' own options are
// read by the commands (main.ts); this refuses what none of them would notice.
import { USAGE_EXIT_CODE, UsageError, usageErrorText, wantsHelp, type CommandOutput } from '@orrery/config';
import { TRACE_USAGE } from './trace-command';

export const USAGE = `orrery <command> [options]

Commands:
  up [--no-seed]     start every service in the background; seed demo data when the event store
                     is empty, rebuild the projections when Redis lost them, train a first model
                     when there is no champion; then print how to call the API
  down               stop the services started by \`up\`
  status             list the services started by \`up\`
  seed [--users N] [--items N] [--events-per-user N] [--seed N]
                     send a synthetic catalog with planted tastes through the ingestion API
  train [--factors N] [--iterations N] [--evaluation-users N] [--no-promote]
                     train, evaluate and (if better) promote a model from the event store (the
                     trainer's options, apps/trainer/src/args.ts)
  import <file> [--keep-timestamps] | --synthetic [--users N] [--items N] [--events-per-user N] [--seed N]
                     send a MovieLens rating file (u.data, ratings.dat, ratings.csv; ratings become
                     RATING events, shifted so the newest is now unless --keep-timestamps) or the
                     synthetic data set through the ingestion API of the running platform
  eval [<file> | --users N --items N --events-per-user N --seed N] [--eval-users N] [--name NAME] [--out DIR]
                     start an isolated platform, replay the data set's train part (leave-last-out by
                     time) through the API, train, then score Recommend and the popularity and
                     co-visitation baselines on each user's next item; writes docs/eval-<name>.md/.svg
  rebuild [--max-lag N] [--grace-ms N] [--allow-partial-history]
                     replay the events topic into a new projection version, switch query and
                     projector to it when caught up, drop the old one (apps/projector/README.md);
                     refused when Kafka has deleted part of the topic, unless --allow-partial-history
${TRACE_USAGE}  bench [--seconds N] [--rate N] [--concurrency N] [--trace-sample-ratio R|off] [--recommender-workers N] [--write-rate N]
        [--ladder R1,R2,…|off] [--ladder-seconds N] [--ladder-plot FILE]
                     start an isolated platform on the local engines, seed it and print
                     Recommend latency, ingest throughput and freshness figures; Recommend and
                     freshness again while --write-rate events/s are ingested (default 1000; 0 skips);
                     Recommend at each --ladder rate (default 50,100,200,300,500,800,1200, 5 s each)
                     with CPU per request, the highest rate with p99 < 10 ms, and a plot
                     (default .orrery/bench-recommend-by-rate.svg)
  bench ghz-ladder-report DIR [--plot FILE]
                     the table, highest rate with p99 < 10 ms and plot of a ghz ladder run
                     (npm run bench:ghz -- --ladder 50,100,… writes DIR and calls this)
  write-load [--rate N] [--seconds N] [--users N] [--items N]
                     send random views and clicks of the demo users and items (user-0000…,
                     item-0000…; default 1000/s for 10 s) through the running platform's ingestion
                     API until the time is up or it is interrupted; prints what was acknowledged
  bench ingest [--seconds N] [--batch N] [--concurrency N] [--rate N,N,...] [--history N] [--phases ceilings,lag,throughput] [--ladder-plot FILE] [--cpu-prof-dir DIR]
                     the write side alone: raw Postgres/Kafka ceilings, acked events/s over
                     gRPC TrackBatch/TrackStream and ZeroMQ, ack latency, and at each fixed
                     --rate (default 1000,2500,5000 events/s) the ack -> projection lag, with
                     several rates a table, the highest rate with p99 < 100 ms and a plot
                     (default .orrery/bench-ingest-lag-by-rate.svg); --phases runs only those named;
                     --history N first ingests N events a user (10,000 users) so that the projector
                     works on a projection in use, not an empty one (default 30; 0: an empty one);
                     --cpu-prof-dir DIR: the command, ingestion and projector each write a V8 CPU
                     profile there when they stop (it slows them: read shares, not timings)
`;

/** The orrery commands. */
export const COMMANDS = ['up', 'down', 'status', 'seed', 'train', 'import', 'eval', 'rebuild', 'bench', 'write-load', 'trace'] as const;
export type Command = (typeof COMMANDS)[number];

/** Runs a command with the arguments after its name; resolves to the exit code. */
export type CommandHandlers = Readonly<Record<Command, (args: string[]) => Promise<number> | number>>;

/** Commands that take no argument: one given is refused, not ignored (`orrery down --help` stopped the platform). */
const WITHOUT_ARGUMENTS: ReadonlySet<Command> = new Set<Command>(['down', 'status']);

/**
 * Runs the command `argv` names (`orrery <command> [args]`); resolves to the exit code. `--help` or
 * `-h` after a command (before a `--`) prints that command's usage and runs nothing: the commands
 * whose options are parsed elsewhere (train, rebuild) or not at all (down, status) ran for real with it.
 * A UsageError of the command prints what is wrong and the command's usage, with exit code 2.
 */
export async function runCommandLine(argv: readonly string[], handlers: CommandHandlers, output: CommandOutput): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || (name === 'help' && args.length === 0)) {
    output.out(USAGE);
    return 0;
  }
  if (name === 'help' || !isCommand(name)) {
    const command = name === 'help' ? args[0]! : name;
    if (isCommand(command)) {
      output.out(commandUsage(command));
      return 0;
    }
    output.err(usageErrorText(`unknown command "${command}"`, USAGE));
    return USAGE_EXIT_CODE;
  }
  if (wantsHelp(args)) {
    output.out(commandUsage(name));
    return 0;
  }
  if (WITHOUT_ARGUMENTS.has(name) && args.length > 0) {
    output.err(`orrery ${name} takes no arguments, got "${args.join(' ')}" (orrery ${name} --help)\n`);
    return USAGE_EXIT_CODE;
  }
  try {
    return await handlers[name](args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    output.err(usageErrorText(`orrery ${name}: ${error.message}`, commandUsage(name)));
    return USAGE_EXIT_CODE;
  }
}

function isCommand(name: string): name is Command {
  return (COMMANDS as readonly string[]).includes(name);
}

/** The entries of USAGE for one command (bench has three), each starting `orrery <command>`. */
export function commandUsage(command: Command): string {
  const lines: string[] = [];
  let inEntry = false;
  for (const line of USAGE.split('\n')) {
    const entry = /^ {2}(\S+)/.exec(line);
    if (entry) inEntry = entry[1] === command;
    else if (!/^ {3}/.test(line)) inEntry = false;
    if (inEntry) lines.push(entry ? `orrery ${line.slice(2)}` : line);
  }
  return `${lines.join('\n')}\n`;
}
