import {
  bufferedOutput,
  durationOption,
  integerOption,
  numberOption,
  parseOptions,
  readCommandLine,
  USAGE_EXIT_CODE,
  UsageError,
  wantsHelp,
} from './index';

/** The UsageError `run` throws (any other error, or none, fails the test). */
function usageErrorOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof UsageError) return error.message;
    throw error;
  }
  throw new Error('not refused');
}

describe('integerOption', () => {
  it('reads a whole number within its range', () => {
    expect(integerOption('limit', '20', 1, 1_000)).toBe(20);
    expect(integerOption('limit', '1000', 1, 1_000)).toBe(1_000);
    expect(integerOption('history', '0', 0)).toBe(0);
    expect(integerOption('seconds', ' 7 ', 1)).toBe(7);
  });

  it.each([
    ['limit', '0', 1, 1_000, '--limit must be a whole number from 1 to 1000, got "0"'],
    ['limit', '1001', 1, 1_000, '--limit must be a whole number from 1 to 1000, got "1001"'],
    ['wait', 'soon', 0, 600, '--wait must be a whole number from 0 to 600, got "soon"'],
    ['seconds', '2.5', 1, undefined, '--seconds must be a positive integer, got "2.5"'],
    ['seconds', '', 1, undefined, '--seconds must be a positive integer, got ""'],
    ['history', '-1', 0, undefined, '--history must be a whole number (0 or more), got "-1"'],
    ['history', undefined, 0, undefined, '--history must be a whole number (0 or more), got "undefined"'],
    ['limit', '1e3', 1, 1_000, '--limit must be a whole number from 1 to 1000, got "1e3"'],
    ['limit', '0x10', 1, 1_000, '--limit must be a whole number from 1 to 1000, got "0x10"'],
    ['seconds', '+5', 1, undefined, '--seconds must be a positive integer, got "+5"'],
    ['seconds', '5.0', 1, undefined, '--seconds must be a positive integer, got "5.0"'],
    // Past 2^53 Number() rounds: 9007199254740993 would be read as ...992.
    ['max-lag', '9007199254740993', 0, undefined, '--max-lag must be a whole number (0 or more), got "9007199254740993"'],
  ])('refuses --%s %p, naming the option, its range and what it got', (name, raw, least, most, message) => {
    expect(usageErrorOf(() => integerOption(name, raw, least, most))).toBe(message);
  });
});

describe('numberOption', () => {
  it('reads a number within its range in decimal notation', () => {
    expect(numberOption('trace-sample-ratio', '0.01', 0, 1)).toBe(0.01);
    expect(numberOption('trace-sample-ratio', '.5', 0, 1)).toBe(0.5);
    expect(numberOption('trace-sample-ratio', '1', 0, 1)).toBe(1);
    expect(numberOption('trace-sample-ratio', '0', 0, 1)).toBe(0);
    expect(numberOption('every', '1', 1)).toBe(1);
    expect(numberOption('every', ' 1.5 ', 1)).toBe(1.5);
  });

  it.each([[''], [' '], ['1.5'], ['-0.1'], ['1e-2'], ['abc'], [undefined]])('refuses %p, naming the option and the other value it takes, instead of reading an empty value as 0', (raw) => {
    expect(usageErrorOf(() => numberOption('trace-sample-ratio', raw, 0, 1, 'off'))).toBe(`--trace-sample-ratio must be a number from 0 to 1 or off, got "${raw}"`);
  });

  it.each([['0.5'], ['-1'], ['0x10'], ['1e1'], ['+5']])('with only a least value, refuses %p naming it', (raw) => {
    expect(usageErrorOf(() => numberOption('every', raw, 1))).toBe(`--every must be a number (1 or more), got "${raw}"`);
  });
});

describe('durationOption', () => {
  it('reads a whole number and a unit as milliseconds', () => {
    expect(durationOption('lookback', '90s')).toBe(90_000);
    expect(durationOption('lookback', '15m')).toBe(900_000);
    expect(durationOption('lookback', '1h')).toBe(3_600_000);
    expect(durationOption('lookback', ' 2d ')).toBe(172_800_000);
  });

  it.each([['1w'], ['0h'], ['h'], ['1.5h'], ['-1h'], ['15'], [''], [undefined]])('refuses %p, naming the option and what it got', (raw) => {
    expect(usageErrorOf(() => durationOption('lookback', raw))).toBe(`--lookback must be a duration: a whole number and a unit, s, m, h or d (e.g. 15m, 1h, 2d), got "${raw}"`);
  });
});

describe('parseOptions', () => {
  const options = { seconds: { type: 'string' }, quiet: { type: 'boolean', default: false } } as const;

  it('reads the options as parseArgs does', () => {
    expect(parseOptions({ args: ['--seconds', '5', '--quiet'], options }).values).toEqual({ seconds: '5', quiet: true });
  });

  it.each([[['--second', '5']], [['--seconds']], [['now']]])('refuses %p (an unknown option, a missing value, an argument) as a usage error naming it', (args) => {
    expect(usageErrorOf(() => parseOptions({ args, options }))).toContain(args[0]);
  });
});

describe('wantsHelp', () => {
  it('is --help or -h anywhere before a --', () => {
    expect(wantsHelp(['--seconds', '5', '--help'])).toBe(true);
    expect(wantsHelp(['-h'])).toBe(true);
    expect(wantsHelp(['--', '--help'])).toBe(false);
    expect(wantsHelp(['--helpful'])).toBe(false);
    expect(wantsHelp([])).toBe(false);
  });
});

describe('readCommandLine', () => {
  const USAGE = 'usage: program [--seconds N]\n';
  const parse = (argv: readonly string[]): number => integerOption('seconds', parseOptions({ args: [...argv], options: { seconds: { type: 'string', default: '10' } } }).values.seconds, 1);

  /** readCommandLine with an output that keeps what was written. */
  function read(argv: string[], parseWith: (argv: readonly string[]) => number = parse) {
    const output = bufferedOutput();
    return { result: readCommandLine(argv, USAGE, parseWith, output), written: output.written };
  }

  it('gives the options parsed, writing nothing', () => {
    expect(read(['--seconds', '3'])).toEqual({ result: { options: 3 }, written: { out: '', err: '' } });
  });

  it('for --help or -h, prints the usage with exit code 0, even beside a bad option', () => {
    expect(read(['--help'])).toEqual({ result: { exitCode: 0 }, written: { out: USAGE, err: '' } });
    expect(read(['--seconds', 'x', '-h'])).toEqual({ result: { exitCode: 0 }, written: { out: USAGE, err: '' } });
  });

  it('for a bad value or an unknown option, prints what is wrong and the usage with exit code 2', () => {
    expect(read(['--seconds', 'x'])).toEqual({ result: { exitCode: USAGE_EXIT_CODE }, written: { out: '', err: `--seconds must be a positive integer, got "x"\n\n${USAGE}` } });
    expect(USAGE_EXIT_CODE).toBe(2);
    const unknown = read(['--minutes', '3']);
    expect(unknown.result).toEqual({ exitCode: 2 });
    expect(unknown.written.err).toMatch(/^Unknown option '--minutes'[^\n]*\n\nusage: program/);
  });

  it('lets an error that is not about the command line through', () => {
    expect(() =>
      read([], () => {
        throw new Error('database away');
      }),
    ).toThrow('database away');
  });
});
