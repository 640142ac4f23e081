// The trainer job: trains once and exits, or with --every <minutes> retrains on a schedule until
// SIGTERM/SIGINT (a run in progress finishes first: registering and promoting are transactional).
import { telemetry } from './instrument';
import { readCommandLine, readConfig } from '@orrery/config';
import { createLogger } from '@orrery/telemetry';
import { parseTrainerArgs, TRAINER_USAGE } from './args';
import { pause } from './schedule';
import { trainOnce } from './train';

async function main(): Promise<number> {
  const commandLine = readCommandLine(process.argv.slice(2), TRAINER_USAGE, parseTrainerArgs);
  if ('exitCode' in commandLine) return commandLine.exitCode;
  const args = commandLine.options;
  const config = readConfig();
  const logger = createLogger('trainer', config.logLevel);
  const options = Object.fromEntries(Object.entries(args.train).filter(([, value]) => value !== undefined));

  if (args.everyMinutes === undefined) {
    await trainOnce(config, logger, options);
    return 0;
  }

  const intervalMs = args.everyMinutes * 60_000;
  let stopping = false;
  let wake: (() => void) | undefined;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping after the current run');
    wake?.();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  logger.info({ everyMinutes: args.everyMinutes }, 'ready');
  // The split of the last run that registered a model: a run on the same one (no interaction since) trains nothing.
  let lastSplit: string | undefined;
  while (!stopping) {
    try {
      const result = await trainOnce(config, logger, { ...options, unlessSplit: lastSplit });
      if (result.status === 'registered') lastSplit = result.splitId;
    } catch (error) {
      // A failed run (database away, bad data) must not end the schedule; the next one retries.
      logger.error({ err: error }, 'trainer: run failed');
    }
    if (stopping) break;
    const wait = pause(intervalMs);
    wake = wait.wake;
    await wait.done;
  }
  return 0;
}

main()
  .then(
    (code) => code,
    (error: unknown) => {
      console.error(error);
      return 1;
    },
  )
  .then(async (code) => {
    await telemetry.shutdown().catch(() => undefined);
    process.exit(code);
  });
