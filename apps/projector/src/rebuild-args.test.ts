import { bufferedOutput, readCommandLine } from '@orrery/config';
import { parseRebuildArgs, REBUILD_USAGE } from './rebuild-args';

describe('parseRebuildArgs', () => {
  it('reads the options, leaving the grace period to the default when not given', () => {
    expect(parseRebuildArgs([])).toEqual({ maxLag: 0, allowPartialHistory: false });
    expect(parseRebuildArgs(['--max-lag', '100', '--grace-ms', '0', '--allow-partial-history'])).toEqual({ maxLag: 100, graceMs: 0, allowPartialHistory: true });
  });

  it('when --grace-ms or --max-lag is empty or not digits, the error names the flag instead of reading 0 or a number in another notation', () => {
    expect(() => parseRebuildArgs(['--grace-ms', ''])).toThrow('--grace-ms must be a whole number (0 or more), got ""');
    expect(() => parseRebuildArgs(['--max-lag', ''])).toThrow('--max-lag must be a whole number (0 or more), got ""');
    expect(() => parseRebuildArgs(['--grace-ms', '1e3'])).toThrow(/--grace-ms/);
    expect(() => parseRebuildArgs(['--max-lag', '0x10'])).toThrow(/--max-lag/);
    expect(() => parseRebuildArgs(['--max-lag=-1'])).toThrow(/--max-lag/);
    expect(() => parseRebuildArgs(['--max-lag', '1.5'])).toThrow(/--max-lag/);
  });

  it('an unknown flag or an argument is refused', () => {
    expect(() => parseRebuildArgs(['--max-lags', '3'])).toThrow(/--max-lags/);
    expect(() => parseRebuildArgs(['now'])).toThrow(/now/);
  });
});

describe('the rebuild command line', () => {
  /** What rebuild-main does with `argv` before it rebuilds anything, and what it wrote. */
  function read(...argv: string[]) {
    const output = bufferedOutput();
    return { result: readCommandLine(argv, REBUILD_USAGE, parseRebuildArgs, output), written: output.written };
  }

  it('--help or -h prints the usage with exit code 0 and rebuilds nothing', () => {
    expect(read('--help')).toEqual({ result: { exitCode: 0 }, written: { out: `${REBUILD_USAGE}\n`, err: '' } });
    expect(read('--max-lag', '3', '-h').result).toEqual({ exitCode: 0 });
  });

  it('a bad option is refused with exit code 2, naming it and what it got, then the usage', () => {
    expect(read('--max-lag', 'x')).toEqual({ result: { exitCode: 2 }, written: { out: '', err: `--max-lag must be a whole number (0 or more), got "x"\n\n${REBUILD_USAGE}\n` } });
    expect(read('--max-lag', '5', '--grace-ms', '100')).toEqual({ result: { options: { maxLag: 5, graceMs: 100, allowPartialHistory: false } }, written: { out: '', err: '' } });
  });
});
