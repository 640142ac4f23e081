import './instrument';
import { parseArgs } from 'node:util';
import { readConfig } from '@orrery/config';
import { createLogger } from '@orrery/telemetry';
import { telemetry } from './instrument';
import { rebuildProjections } from './rebuild';

// `node apps/projector/dist/rebuild-main.js [--max-lag N] [--grace-ms N] [--allow-partial-history]`
// (or `orrery rebuild`): replays the events topic into the next projection version and switches to it.
// Refused when the broker has deleted the first messages of a partition, unless --allow-partial-history.
async function main(): Promise<number> {
  const { values } = parseArgs({ options: { 'max-lag': { type: 'string', default: '0' }, 'grace-ms': { type: 'string' }, 'allow-partial-history': { type: 'boolean', default: false } } });
  const config = readConfig();
  const logger = createLogger('projector-rebuild', config.logLevel);
  const maxLag = Number(values['max-lag']);
  const graceMs = values['grace-ms'] === undefined ? undefined : Number(values['grace-ms']);
  if (!Number.isInteger(maxLag) || maxLag < 0) throw new Error('--max-lag must be a non-negative integer');
  if (graceMs !== undefined && !(Number.isInteger(graceMs) && graceMs >= 0)) throw new Error('--grace-ms must be a non-negative integer');
  const result = await rebuildProjections(config, logger, { maxLag, allowPartialHistory: values['allow-partial-history'], ...(graceMs === undefined ? {} : { graceMs }) });
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
