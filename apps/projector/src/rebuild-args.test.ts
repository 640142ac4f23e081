import { parseRebuildArgs } from './rebuild-args';

describe('parseRebuildArgs', () => {
  it('reads the options, leaving the grace period to the default when not given', () => {
    expect(parseRebuildArgs([])).toEqual({ help: false, options: { maxLag: 0, allowPartialHistory: false } });
    expect(parseRebuildArgs(['--max-lag', '100', '--grace-ms', '0', '--allow-partial-history'])).toEqual({
      help: false,
      options: { maxLag: 100, graceMs: 0, allowPartialHistory: true },
    });
  });

  it('when --grace-ms or --max-lag is empty or not digits, the error names the flag instead of reading 0 or a number in another notation', () => {
    expect(() => parseRebuildArgs(['--grace-ms', ''])).toThrow('--grace-ms must be a whole number (0 or more), got ""');
    expect(() => parseRebuildArgs(['--max-lag', ''])).toThrow('--max-lag must be a whole number (0 or more), got ""');
    expect(() => parseRebuildArgs(['--grace-ms', '1e3'])).toThrow(/--grace-ms/);
    expect(() => parseRebuildArgs(['--max-lag', '0x10'])).toThrow(/--max-lag/);
    expect(() => parseRebuildArgs(['--max-lag=-1'])).toThrow(/--max-lag/);
    expect(() => parseRebuildArgs(['--max-lag', '1.5'])).toThrow(/--max-lag/);
  });

  it('--help asks for the usage; an unknown flag or an argument is refused', () => {
    expect(parseRebuildArgs(['--help'])).toEqual({ help: true });
    expect(parseRebuildArgs(['-h'])).toEqual({ help: true });
    expect(() => parseRebuildArgs(['--max-lags', '3'])).toThrow(/--max-lags/);
    expect(() => parseRebuildArgs(['now'])).toThrow(/now/);
  });
});
