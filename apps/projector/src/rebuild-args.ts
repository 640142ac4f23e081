// Command-line options of rebuild-main.js (and `orrery rebuild`).
import { integerOption, parseOptions } from '@orrery/config';
import type { RebuildOptions } from './rebuild';

export const REBUILD_USAGE = 'usage: node apps/projector/dist/rebuild-main.js [--max-lag N] [--grace-ms N] [--allow-partial-history]';

/** What the command line asks the rebuild for. */
export type RebuildArgs = Pick<RebuildOptions, 'maxLag' | 'graceMs' | 'allowPartialHistory'>;

/**
 * Parses argv (without node and the script; --help is readCommandLine's); throws a UsageError naming
 * the bad flag. --max-lag and --grace-ms take digits only: Number() read '' as 0 (`--grace-ms "$UNSET"`
 * dropped the old version at the switch, with no grace) and took '1e3' and '0x10'.
 */
export function parseRebuildArgs(argv: readonly string[]): RebuildArgs {
  const { values } = parseOptions({
    args: [...argv],
    options: {
      'max-lag': { type: 'string', default: '0' },
      'grace-ms': { type: 'string' },
      'allow-partial-history': { type: 'boolean', default: false },
    },
  });
  const graceMs = values['grace-ms'] === undefined ? undefined : integerOption('grace-ms', values['grace-ms'], 0);
  return { maxLag: integerOption('max-lag', values['max-lag'], 0), allowPartialHistory: values['allow-partial-history'], ...(graceMs === undefined ? {} : { graceMs }) };
}
