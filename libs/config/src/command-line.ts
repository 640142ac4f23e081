// Command-line options, read one way by every program (the orrery command, the trainer, the
// projector's rebuild, the benches): a value a program cannot use is a UsageError whose message names
// the option and what it got, reported with the program's usage and exit code 2.
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** The exit code of a refused command line (2, as POSIX utilities use for a usage error). */
export const USAGE_EXIT_CODE = 2;

/** A command line the program cannot run with; the message names the option and what it got. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * The value of option `--name` as an integer from `least` to `most`, or a UsageError naming the
 * option, the range and what it got. Only digits (and spaces around them) are a whole number.
 */
export function integerOption(name: string, raw: string | undefined, least: number, most = Number.POSITIVE_INFINITY): number {
  // Digits only: Number() would also read '1e3', '0x10', '+5' and '' (as 0).
  const value = raw !== undefined && /^\s*\d+\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (Number.isSafeInteger(value) && value >= least && value <= most) return value;
  const range = Number.isFinite(most) ? `a whole number from ${least} to ${most}` : least === 1 ? 'a positive integer' : `a whole number (${least} or more)`;
  throw new UsageError(`--${name} must be ${range}, got "${raw}"`);
}

/**
 * The value of option `--name` as a number from `least` to `most` in decimal notation without a sign
 * (`0.01`, `.5`, `30`), or a UsageError naming the option (and `orWord`, another value the caller
 * takes) and what it got: Number() would read '' as 0, and '1e3' and '0x10' too.
 */
export function numberOption(name: string, raw: string | undefined, least: number, most = Number.POSITIVE_INFINITY, orWord?: string): number {
  const value = raw !== undefined && /^\s*(\d+(\.\d*)?|\.\d+)\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (value >= least && value <= most) return value;
  const range = Number.isFinite(most) ? `a number from ${least} to ${most}` : `a number (${least} or more)`;
  throw new UsageError(`--${name} must be ${range}${orWord === undefined ? '' : ` or ${orWord}`}, got "${raw}"`);
}

const DURATION_UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * The value of option `--name`, a duration such as `90s`, `15m`, `1h` or `2d` (a positive whole
 * number and a unit), in milliseconds; or a UsageError naming the option and what it got.
 */
export function durationOption(name: string, raw: string | undefined): number {
  const match = raw === undefined ? null : /^\s*(\d+)(s|m|h|d)\s*$/.exec(raw);
  const amount = match ? Number(match[1]) : Number.NaN;
  if (match && amount > 0) return amount * DURATION_UNIT_MS[match[2] as keyof typeof DURATION_UNIT_MS];
  throw new UsageError(`--${name} must be a duration: a whole number and a unit, s, m, h or d (e.g. 15m, 1h, 2d), got "${raw}"`);
}

/**
 * node:util's parseArgs, whose refusals (an unknown option, an option without its value, an argument
 * where none is taken) are UsageErrors. Strict unless `config.strict` is false.
 */
export function parseOptions<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    // Node's own errors: under a test runner's sandbox they come from another realm, so no instanceof.
    const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_') && typeof message === 'string') throw new UsageError(message);
    throw error;
  }
}

/** Whether the arguments ask for help: `--help` or `-h` before any `--` (after it, they are a command's data). */
export function wantsHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((arg) => arg === '--help' || arg === '-h');
}

/** Where a program writes: its stdout and stderr, or a test's buffers. */
export interface CommandOutput {
  out(text: string): void;
  err(text: string): void;
}

/** The process's stdout and stderr. */
export const PROCESS_OUTPUT: CommandOutput = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

/** An output that keeps what is written, in `written` (for tests of a command line). */
export function bufferedOutput(): CommandOutput & { readonly written: { out: string; err: string } } {
  const written = { out: '', err: '' };
  return { written, out: (text) => void (written.out += text), err: (text) => void (written.err += text) };
}

/** What a usage error prints: what is wrong (`message`), a blank line, then the usage. */
export function usageErrorText(message: string, usage: string): string {
  return `${message}\n\n${usage.trimEnd()}\n`;
}

/**
 * What `argv` asks of a program whose options `parse` reads: `{ options }` to run with, or `{ exitCode }`
 * when it must not run: 0 after writing `usage` to out for --help or -h (checked first, so help is
 * printed whatever else is wrong), USAGE_EXIT_CODE after writing a UsageError of `parse` and `usage`
 * to err. Any other error of `parse` is thrown.
 */
export function readCommandLine<T>(
  argv: readonly string[],
  usage: string,
  parse: (argv: readonly string[]) => T,
  output: CommandOutput = PROCESS_OUTPUT,
): { readonly options: T } | { readonly exitCode: number } {
  if (wantsHelp(argv)) {
    output.out(`${usage.trimEnd()}\n`);
    return { exitCode: 0 };
  }
  try {
    return { options: parse(argv) };
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    output.err(usageErrorText(error.message, usage));
    return { exitCode: USAGE_EXIT_CODE };
  }
}
