import { bufferedOutput, readCommandLine } from '@orrery/config';
import { parseTrainerArgs, TRAINER_USAGE } from './args';

describe('parseTrainerArgs', () => {
  it('reads --every and refuses a bad value naming the flag', () => {
    expect(parseTrainerArgs([]).everyMinutes).toBeUndefined();
    expect(parseTrainerArgs(['--every', '30']).everyMinutes).toBe(30);
    expect(parseTrainerArgs(['--every', '1.5']).everyMinutes).toBe(1.5);
    expect(() => parseTrainerArgs(['--every=-1'])).toThrow('--every must be a number (1 or more), got "-1"');
    expect(() => parseTrainerArgs(['--every', ''])).toThrow('--every must be a number (1 or more), got ""');
  });

  it('when --every is under a minute, it is refused (a run takes longer; each would register the same model again)', () => {
    expect(() => parseTrainerArgs(['--every', '0.5'])).toThrow('--every must be a number (1 or more), got "0.5"');
    expect(parseTrainerArgs(['--every', '1']).everyMinutes).toBe(1);
  });

  it('reads the training options as positive integers in digits, naming the flag of one that is not', () => {
    expect(parseTrainerArgs(['--factors', '16', '--iterations', '4', '--evaluation-users', '200', '--keep-versions', '5', '--no-promote']).train).toEqual({
      factors: 16,
      iterations: 4,
      evaluationUsers: 200,
      keepVersions: 5,
      skipPromotion: true,
    });
    expect(parseTrainerArgs([]).train).toEqual({ factors: undefined, iterations: undefined, evaluationUsers: undefined, keepVersions: undefined, skipPromotion: false });
    expect(() => parseTrainerArgs(['--factors', '2.5'])).toThrow('--factors must be a positive integer, got "2.5"');
    expect(() => parseTrainerArgs(['--keep-versions', '0'])).toThrow('--keep-versions must be a positive integer, got "0"');
    // Number() read these as 1000 and 16.
    expect(() => parseTrainerArgs(['--evaluation-users', '1e3'])).toThrow('--evaluation-users must be a positive integer, got "1e3"');
    expect(() => parseTrainerArgs(['--iterations', '0x10'])).toThrow('--iterations must be a positive integer, got "0x10"');
  });
});

describe('the trainer command line', () => {
  /** What the trainer's main does with `argv` before it trains anything, and what it wrote. */
  function read(...argv: string[]) {
    const output = bufferedOutput();
    return { result: readCommandLine(argv, TRAINER_USAGE, parseTrainerArgs, output), written: output.written };
  }

  it('--help or -h prints the usage with exit code 0 and trains nothing', () => {
    expect(read('--help')).toEqual({ result: { exitCode: 0 }, written: { out: `${TRAINER_USAGE}\n`, err: '' } });
    expect(read('--every', '30', '-h').result).toEqual({ exitCode: 0 });
  });

  it('a bad option is refused with exit code 2, naming it and what it got, then the usage', () => {
    expect(read('--factors', 'many')).toEqual({ result: { exitCode: 2 }, written: { out: '', err: `--factors must be a positive integer, got "many"\n\n${TRAINER_USAGE}\n` } });
    const unknown = read('--factor', '8');
    expect(unknown.result).toEqual({ exitCode: 2 });
    expect(unknown.written.err).toContain("Unknown option '--factor'");
  });
});
