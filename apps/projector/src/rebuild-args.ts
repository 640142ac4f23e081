// Command-line options of rebuild-main.js (and `orrery rebuild`).
import { parseArgs } from 'node:util';
import type { RebuildOptions } from './rebuild';

export const REBUILD_USAGE = 'usage: node apps/projector/dist/rebuild-main.js [--max-lag N] [--grace-ms N] [--allow-partial-history]';

/** What the command line asks for: the usage, or a rebuild with these options. */
export type RebuildArgs = { readonly help: true } | { readonly help: false; readonly options: Pick<RebuildOptions, 'maxLag' | 'graceMs' | 'allowPartialHistory'> };

/**
 * Parses argv (without node and the script); throws an Error naming the bad flag. --max-lag and
 * --grace-ms take digits only: Number() read '' as 0 (`--grace-ms "$UNSET"` dropped the old version
 * at the switch, with no grace) and took '1e3' and '0x10'.
 */
export function parseRebuildArgs(argv: readonly string[]): RebuildArgs {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      'max-lag': { type: 'string', default: '0' },
      'grace-ms': { type: 'string' },
      'allow-partial-history': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return { help: true };
  const wholeNumber = (flag: string, raw: string): number => {
    if (!/^\s*\d+\s*$/.test(raw) || !Number.isSafeInteger(Number(raw))) throw new Error(`--${flag} must be a whole number (0 or more), got "${raw}"`);
    return Number(raw);
  };
  const graceMs = values['grace-ms'] === undefined ? undefined : wholeNumber('grace-ms', values['grace-ms']);
  return {
    help: false,
    options: { maxLag: wholeNumber('max-lag', values['max-lag']), allowPartialHistory: values['allow-partial-history'], ...(graceMs === undefined ? {} : { graceMs }) },
  };
}
