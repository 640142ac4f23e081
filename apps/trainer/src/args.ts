// Command-line options of the trainer job.

import { parseArgs } from 'node:util';
import type { TrainOptions } from './train';

export interface TrainerArgs {
  /** --help / -h: print TRAINER_USAGE and do nothing else. */
  readonly help: boolean;
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

/** Parses argv (without node and the script); throws an Error naming the bad flag. */
export function parseTrainerArgs(argv: readonly string[]): TrainerArgs {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      every: { type: 'string' },
      factors: { type: 'string' },
      iterations: { type: 'string' },
      'evaluation-users': { type: 'string' },
      'keep-versions': { type: 'string' },
      'no-promote': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const positive = (flag: string, raw: string | undefined, integer: boolean): number | undefined => {
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
      throw new Error(`--${flag} must be a positive ${integer ? 'integer' : 'number'}, got "${raw}"`);
    }
    return value;
  };
  const everyMinutes = positive('every', values.every, false);
  // A run takes seconds to minutes; a shorter schedule would only register the same model again and again.
  if (everyMinutes !== undefined && everyMinutes < 1) throw new Error(`--every must be at least 1 (minute), got "${values.every ?? ''}"`);
  return {
    help: values.help,
    everyMinutes,
    train: {
      factors: positive('factors', values.factors, true),
      iterations: positive('iterations', values.iterations, true),
      evaluationUsers: positive('evaluation-users', values['evaluation-users'], true),
      keepVersions: positive('keep-versions', values['keep-versions'], true),
      skipPromotion: values['no-promote'],
    },
  };
}
