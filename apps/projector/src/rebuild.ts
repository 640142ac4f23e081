// Rebuild: replays the whole events topic into a new projection version beside the live one, then
// switches readers and the projector to it and drops the old version — without downtime.
//
//   1. version N is live (control pointer). Version N+1's keys and consumer group are cleared.
//   2. A projector pinned to N+1 consumes the topic from the beginning in its own group
//      (`<group>.v<N+1>`). Events of forgotten users before their UserForgotten are skipped (the
//      forgotten tombstone is outside every version), so their aggregate traces are gone from N+1.
//   3. When that group's lag is at most `maxLag` messages, the pointer becomes N+1 (compare-and-set:
//      a concurrent rebuild makes this one give up). Query reads N+1 from its next poll; live
//      projectors leave group N and join group N+1, which continues from the rebuild's offsets.
//   4. After a grace period (longer than a poll, so no reader still uses N), the rebuild's own
//      consumer leaves, the keys of N are unlinked and group N's offsets deleted.
//
// Why Kafka and not the Postgres event store: the replay goes through the very code path and message
// order (per partition) of the live projector, so the rebuild equals the live projection by
// construction, and it needs nothing of the command side's schema. It relies on the topic keeping
// the whole history (retention -1 or compaction-free), as the live projector starting a new
// consumer group already does. ForgetUser removes events from the event store but not from Kafka;
// the tombstone is what keeps a replay from resurrecting them.
import type { OrreryConfig } from '@orrery/config';
import { createKafka } from '@orrery/kafka';
import {
  controlKeys,
  createRedis,
  luaScript,
  projectorGroupOf,
  readProjectionVersion,
  runScript,
  versionKeyPattern,
  type RedisClient,
} from '@orrery/projections';
import type { Logger } from '@orrery/telemetry';
import type { Admin } from 'kafkajs';
import { startProjector } from './service';
import { scanKeys } from './store';

/** Options of a rebuild. */
export interface RebuildOptions {
  /** Switch when the new version's group is at most this many messages behind (default 0). */
  readonly maxLag?: number;
  /** Keep the old version this long after the switch (default 3 polls + 1 s). */
  readonly graceMs?: number;
  /** Give up if not caught up within this long (default 1 hour). */
  readonly timeoutMs?: number;
}

/** What a rebuild did. */
export interface RebuildResult {
  readonly fromVersion: number;
  readonly toVersion: number;
  /** Keys of the old version unlinked. */
  readonly droppedKeys: number;
  readonly elapsedMs: number;
}

/** Sets the pointer to ARGV[2] only if it still is ARGV[1] (absent counts as 0). KEYS: pointer. */
const SWITCH_SCRIPT = luaScript(`
local current = redis.call('GET', KEYS[1]) or '0'
if current ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1
`);

/** Rebuilds the projections of config.redisPrefix into the next version and switches to it. */
export async function rebuildProjections(config: OrreryConfig, logger: Logger, options: RebuildOptions = {}): Promise<RebuildResult> {
  const started = Date.now();
  const maxLag = options.maxLag ?? 0;
  const graceMs = options.graceMs ?? 3 * config.projectionVersionPollMs + 1_000;
  const timeoutMs = options.timeoutMs ?? 3_600_000;
  const redis = createRedis(config, 'orrery-rebuild');
  const admin = createKafka(config, 'rebuild').admin();
  await admin.connect();
  try {
    const control = controlKeys(config.redisPrefix);
    const fromVersion = await readProjectionVersion(redis, control);
    const toVersion = fromVersion + 1;
    const toGroup = projectorGroupOf(config.projectorGroup, toVersion);
    // Leftovers of an earlier, interrupted rebuild into the same version.
    await dropVersion(redis, config.redisPrefix, toVersion);
    await deleteGroup(admin, toGroup, logger);
    logger.info({ fromVersion, toVersion, group: toGroup }, 'rebuild: replaying the events topic into a new version');

    const projector = await startProjector(config, logger, { pinnedVersion: toVersion });
    try {
      await waitForLag(admin, config.eventsTopic, toGroup, maxLag, timeoutMs, logger);
      const switched = await runScript(redis, SWITCH_SCRIPT, [control.version], [String(fromVersion), String(toVersion)]);
      if (switched !== 1) throw new Error(`projection version moved away from ${fromVersion} during the rebuild (another rebuild?); version ${toVersion} abandoned`);
      logger.info({ fromVersion, toVersion }, 'rebuild: caught up, readers switched');
      // Readers and live projectors move over within a poll; the rebuild keeps projecting meanwhile.
      await new Promise((resolve) => setTimeout(resolve, graceMs));
    } catch (error) {
      await projector.close();
      await dropVersion(redis, config.redisPrefix, toVersion);
      throw error;
    }
    await projector.close();
    const droppedKeys = await dropVersion(redis, config.redisPrefix, fromVersion);
    await deleteGroup(admin, projectorGroupOf(config.projectorGroup, fromVersion), logger);
    const result = { fromVersion, toVersion, droppedKeys, elapsedMs: Date.now() - started };
    logger.info(result, 'rebuild: old version dropped');
    return result;
  } finally {
    await admin.disconnect();
    await redis.quit();
  }
}

/** Unlinks every key of projection `version` (never a control key); returns how many. */
export async function dropVersion(redis: RedisClient, base: string, version: number): Promise<number> {
  const controlTag = `${base}:{control}:`;
  const keys = (await scanKeys(redis, versionKeyPattern(base, version))).filter((key) => !key.startsWith(controlTag));
  // One key per UNLINK call: keys of many slots (a cluster client routes each by its own slot).
  const chunks: Promise<number>[] = keys.map((key) => redis.unlink(key));
  await Promise.all(chunks);
  return keys.length;
}

async function deleteGroup(admin: Admin, groupId: string, logger: Logger): Promise<void> {
  try {
    await admin.deleteGroups([groupId]);
  } catch (error) {
    // Absent (never used) or still has members (a projector has not switched yet): harmless either way.
    logger.debug({ err: error, groupId }, 'consumer group not deleted');
  }
}

/** Resolves once `groupId` has committed offsets at most `maxLag` messages behind the end of `topic`. */
async function waitForLag(admin: Admin, topic: string, groupId: string, maxLag: number, timeoutMs: number, logger: Logger): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastLog = 0;
  for (;;) {
    const lag = await groupLag(admin, topic, groupId);
    if (lag <= maxLag) return;
    if (Date.now() > deadline) throw new Error(`rebuild not caught up after ${timeoutMs} ms (lag ${lag})`);
    if (Date.now() - lastLog > 5_000) {
      logger.info({ lag }, 'rebuild: replaying');
      lastLog = Date.now();
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Messages of `topic` not yet committed by `groupId`, summed over partitions. */
export async function groupLag(admin: Admin, topic: string, groupId: string): Promise<number> {
  const [ends, [committed]] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
  let lag = 0;
  for (const end of ends) {
    const offset = Number(committed?.partitions.find((partition) => partition.partition === end.partition)?.offset ?? '-1');
    const high = Number(end.high);
    const low = Number(end.low);
    lag += high - Math.max(offset < 0 ? low : offset, low);
  }
  return lag;
}
