// Command-line options of the trainer job.

import { integerOption, numberOption, parseOptions } from '@orrery/config';
import type { TrainOptions } from './train';

export interface TrainerArgs {
  /** Retrain every this many minutes (at least 1); undefined trains once and exits. */
  readonly everyMinutes: number | undefined;
  readonly train: Pick<TrainOptions, 'factors' | 'iterations' | 'evaluationUsers' | 'skipPromotion' | 'keepVersions'>;
}

export const TRAINER_USAGE = `usage: node apps/trainer/dist/main.js [--every <minutes>] [--factors <n>] [--iterations <n>] [--evaluation-users <n>] [--keep-versions <n>] [--no-promote]
  --every <minutes>        retrain on this schedule (at least 1) until SIGTERM/SIGINT; a run with no new interaction since the last trains nothing
  --factors <n>            ALS latent dimensions (default 32)
  --iterations <n>         ALS sweeps (default 10)
  --evaluation-users <n>   held-out users evaluated at most, a fixed sample (default 5000)
  --keep-versions <n>      model versions kept besides the champion; older ones are deleted after each run (default 20)
  --no-promote             register without trying to promote`;

/** Parses argv (without node and the script; --help is readCommandLine's); throws a UsageError naming the bad flag. */
export function parseTrainerArgs(argv: readonly string[]): TrainerArgs {
  const { values } = parseOptions({
    args: [...argv],
    options: {
      every: { type: 'string' },
      factors: { type: 'string' },
      iterations: { type: 'string' },
      'evaluation-users': { type: 'string' },
      'keep-versions': { type: 'string' },
      'no-promote': { type: 'boolean', default: false },
    },
  });
  const positiveInteger = (flag: string, raw: string | undefined): number | undefined => (raw === undefined ? undefined : integerOption(flag, raw, 1));
  return {
    // A run takes seconds to minutes; a shorter schedule would only register the same model again and again.
    everyMinutes: values.every === undefined ? undefined : numberOption('every', values.every, 1),
    train: {
      factors: positiveInteger('factors', values.factors),
      iterations: positiveInteger('iterations', values.iterations),
      evaluationUsers: positiveInteger('evaluation-users', values['evaluation-users']),
      keepVersions: positiveInteger('keep-versions', values['keep-versions']),
      skipPromotion: values['no-promote'],
    },
  };
}
