// Command-line options of the trainer job.

import { parseArgs } from 'node:util';
import type { TrainOptions } from './train';

export interface TrainerArgs {
  /** Retrain every this many minutes; undefined trains once and exits. */
  readonly everyMinutes: number | undefined;
  readonly train: Pick<TrainOptions, 'factors' | 'iterations' | 'evaluationUsers' | 'skipPromotion'>;
}

export const TRAINER_USAGE = `usage: node apps/trainer/dist/main.js [--every <minutes>] [--factors <n>] [--iterations <n>] [--evaluation-users <n>] [--no-promote]`;

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
      'no-promote': { type: 'boolean', default: false },
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
  return {
    everyMinutes: positive('every', values.every, false),
    train: {
      factors: positive('factors', values.factors, true),
      iterations: positive('iterations', values.iterations, true),
      evaluationUsers: positive('evaluation-users', values['evaluation-users'], true),
      skipPromotion: values['no-promote'],
    },
  };
}
