import './instrument';
import { readCommandLine, readConfig } from '@orrery/config';
import { createLogger } from '@orrery/telemetry';
import { telemetry } from './instrument';
import { rebuildProjections } from './rebuild';
import { parseRebuildArgs, REBUILD_USAGE } from './rebuild-args';

// `node apps/projector/dist/rebuild-main.js [--max-lag N] [--grace-ms N] [--allow-partial-history]`
// (or `orrery rebuild`): replays the events topic into the next projection version and switches to it.
// Refused when the broker has deleted the first messages of a partition, unless --allow-partial-history.
async function main(): Promise<number> {
  const commandLine = readCommandLine(process.argv.slice(2), REBUILD_USAGE, parseRebuildArgs);
  if ('exitCode' in commandLine) return commandLine.exitCode;
  const config = readConfig();
  const logger = createLogger('projector-rebuild', config.logLevel);
  const result = await rebuildProjections(config, logger, commandLine.options);
  process.stdout.write(
    `projections rebuilt: version ${result.fromVersion} → ${result.toVersion} under "${config.redisPrefix}", ${result.droppedKeys} keys of the old version dropped, ${(result.elapsedMs / 1000).toFixed(1)} s\n`,
  );
  await telemetry.shutdown();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('rebuild failed:', error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
