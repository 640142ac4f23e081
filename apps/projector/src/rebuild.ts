// Rebuild: replays the whole events topic into a new projection version beside the live one, then
// switches readers and the projector to it and drops the old version — without downtime.
//
//   0. The rebuild takes the deployment's rebuild lease (`{control}:rebuild`, renewed while it runs) or
//      is refused: a second rebuild at once would target the same N+1, clear what the first built, and
//      drop the version the first made live when its own switch was refused.
//   1. version N is live (control pointer). Every other version's keys and consumer group are cleared
//      (leftovers of rebuilds interrupted before or after their switch).
//   2. The topic up to its current end is read whole and replayed into N+1 in commit order (the
//      events' global `sequence`, merged across partitions), so a catalog change and the
//      interactions after it replay in the order they were committed, whatever partitions they are
//      on; events of forgotten users before their UserForgotten are skipped (by the forgets in the
//      history read, and by the forgotten tombstone, outside every version), so their aggregate traces
//      are gone from N+1. Group N+1's offsets are then set to that end, and a projector pinned to N+1
//      continues from there, live.
//      (The replay holds the history in memory: ~200 bytes per event.)
//   3. When that group's lag is at most `maxLag` messages, the pointer becomes N+1 (compare-and-set,
//      and only while this rebuild holds the lease). Query reads N+1 from its next poll; live
//      projectors leave group N and join group N+1, which continues from the rebuild's offsets.
//   4. After a grace period (longer than a poll, so no reader still uses N), the rebuild's own
//      consumer leaves, the keys of N are unlinked and group N's offsets deleted.
//
// Why Kafka and not the Postgres event store: the replay goes through the very code path and message
// order (per partition) of the live projector, so the rebuild equals the live projection by
// construction, and it needs nothing of the command side's schema. It relies on the topic keeping
// the whole history (retention -1, no compaction: the relay creates it so and warns when it is not),
// as the live projector starting a new consumer group already does; a partition that no longer
// starts at offset 0 makes the rebuild refuse (unless allowPartialHistory), the live version untouched. ForgetUser removes events from the event store but not from Kafka;
// the tombstone is what keeps a replay from resurrecting them.
import type { OrreryConfig } from '@orrery/config';
import { closeThrowawayConsumer, createKafka, decodeDomainEvent, deletedHistory, keepWholeHistoryCommand, type DeletedHistory } from '@orrery/kafka';
import { randomUUID } from 'node:crypto';
import {
  allVersionsKeyPattern,
  controlKeys,
  coVisitLookBack,
  createRedis,
  projectionKeys,
  versionPrefix,
  luaScript,
  projectorGroupOf,
  readProjectionVersion,
  runScript,
  scanKeys,
  versionKeyPattern,
  versionOfKey,
  type RedisClient,
} from '@orrery/projections';
import type { Logger } from '@orrery/telemetry';
import type { Admin, KafkaMessage, SeekEntry } from 'kafkajs';
import { chunkProjector, type PartitionMessage } from './apply-chunk';
import { chunkPipeline } from './chunk-coalescer';
import { RecentHeads } from './recent-heads';
import { startProjector } from './service';
import { redisProjectionStore } from './store';

/** Options of a rebuild. */
export interface RebuildOptions {
  /** Switch when the new version's group is at most this many messages behind (default 0). */
  readonly maxLag?: number;
  /** Keep the old version this long after the switch (default 3 polls + 1 s). */
  readonly graceMs?: number;
  /** Give up if not caught up within this long (default 1 hour). */
  readonly timeoutMs?: number;
  /**
   * Rebuild even when the broker has deleted the first messages of a partition (default false: the
   * rebuild is refused, the live version stays). Only for an operator who accepts projections
   * without the deleted events.
   */
  readonly allowPartialHistory?: boolean;
}

/** What a rebuild did. */
export interface RebuildResult {
  readonly fromVersion: number;
  readonly toVersion: number;
  /** Keys of the old version unlinked. */
  readonly droppedKeys: number;
  /** Messages replayed in commit order before the projector took over. */
  readonly replayedEvents: number;
  readonly elapsedMs: number;
}

/**
 * Sets the pointer to ARGV[2] only if it still is ARGV[1] (absent counts as 0) and the rebuild lease
 * still holds this rebuild's token ARGV[3]: 1 switched, 0 the pointer moved, -1 the lease is not ours.
 * KEYS: pointer, lease.
 */
const SWITCH_SCRIPT = luaScript(`
if redis.call('GET', KEYS[2]) ~= ARGV[3] then return -1 end
local current = redis.call('GET', KEYS[1]) or '0'
if current ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1
`);

/** How long the rebuild lease lasts unless renewed; the rebuild holding it renews it every third of that. */
const REBUILD_LEASE_MS = 30_000;

/** Renews the lease KEYS[1] for ARGV[2] ms if it still holds the token ARGV[1]: 1 if it did, else 0. */
const RENEW_LEASE_SCRIPT = luaScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`);

/** Deletes the lease KEYS[1] if it still holds the token ARGV[1]. */
const RELEASE_LEASE_SCRIPT = luaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
`);

/** The one rebuild of a deployment that may run: it alone clears, builds, switches to and drops versions. */
interface RebuildLease {
  readonly token: string;
  /** Whether the lease is still this rebuild's (it expires when not renewed, e.g. after a stall). */
  held(): Promise<boolean>;
  /** Stops renewing and deletes the lease if it is still this rebuild's. */
  release(): Promise<void>;
}

/**
 * Takes the deployment's rebuild lease (`<base>:{control}:rebuild`) or refuses: two rebuilds at once
 * would target the same next version, clear each other's keys, and the one whose switch is refused
 * would drop the version the other had just made live.
 */
async function takeRebuildLease(redis: RedisClient, key: string, liveVersion: () => Promise<number>, logger: Logger): Promise<RebuildLease> {
  const token = randomUUID();
  if ((await redis.set(key, token, 'PX', REBUILD_LEASE_MS, 'NX')) !== 'OK') {
    const remainingMs = await redis.pttl(key);
    throw new Error(
      `another rebuild is running: it holds ${key}${remainingMs > 0 ? ` (${remainingMs} ms more unless renewed)` : ''}, so this one is refused and version ${await liveVersion()} stays live. ` +
        `A rebuild stopped without cleaning up (killed, crashed) holds it until it expires, at most ${REBUILD_LEASE_MS / 1000} s later.`,
    );
  }
  let lost = false;
  const renewals = setInterval(() => {
    runScript(redis, RENEW_LEASE_SCRIPT, [key], [token, String(REBUILD_LEASE_MS)]).then(
      (renewed) => {
        if (renewed === 1 || lost) return;
        lost = true;
        logger.error({ key }, 'rebuild: lease lost (expired before it was renewed); this rebuild will not switch');
      },
      (error: unknown) => logger.warn({ err: error, key }, 'rebuild: lease not renewed; trying again'),
    );
  }, REBUILD_LEASE_MS / 3);
  renewals.unref();
  return {
    token,
    held: async () => !lost && (await redis.get(key)) === token,
    release: async () => {
      clearInterval(renewals);
      await runScript(redis, RELEASE_LEASE_SCRIPT, [key], [token]);
    },
  };
}

/** Rebuilds the projections of config.redisPrefix into the next version and switches to it. */
export async function rebuildProjections(config: OrreryConfig, logger: Logger, options: RebuildOptions = {}): Promise<RebuildResult> {
  const started = Date.now();
  const maxLag = options.maxLag ?? 0;
  const graceMs = options.graceMs ?? 3 * config.projectionVersionPollMs + 1_000;
  const timeoutMs = options.timeoutMs ?? 3_600_000;
  const redis = createRedis(config, 'orrery-rebuild');
  const admin = createKafka(config, 'rebuild').admin();
  await admin.connect();
  let lease: RebuildLease | undefined;
  try {
    const control = controlKeys(config.redisPrefix);
    const held = await takeRebuildLease(redis, control.rebuild, () => readProjectionVersion(redis, control), logger);
    lease = held;
    const fromVersion = await readProjectionVersion(redis, control);
    const toVersion = fromVersion + 1;
    const toGroup = projectorGroupOf(config.projectorGroup, toVersion);
    // No other rebuild runs (the lease), so every version but the live one is a leftover: of an earlier
    // rebuild into the same version that was interrupted or failed, of one killed after its switch (the
    // version it switched away from, which nothing else drops), of a projector that still wrote its old
    // version after the drop.
    for (const version of await versionsHoldingKeys(redis, config.redisPrefix)) {
      if (version === fromVersion) continue;
      const droppedKeys = await dropVersion(redis, config.redisPrefix, version);
      await deleteGroup(admin, projectorGroupOf(config.projectorGroup, version), logger);
      logger.info({ version, droppedKeys }, 'rebuild: leftover projection version dropped');
    }
    await deleteGroup(admin, toGroup, logger);
    const ends = await admin.fetchTopicOffsets(config.eventsTopic);
    const deleted = deletedHistory(ends);
    if (deleted.length > 0) {
      if (!options.allowPartialHistory) throw new Error(partialHistoryMessage(config.eventsTopic, deleted, fromVersion));
      logger.warn({ topic: config.eventsTopic, deleted }, `rebuild: --allow-partial-history: ${describeDeleted(deleted)}; version ${toVersion} will lack those events`);
    }
    logger.info({ fromVersion, toVersion, group: toGroup }, 'rebuild: replaying the events topic into a new version');

    const replayed = await replayInCommitOrder(config, logger, redis, admin, toVersion, ends);
    logger.info({ events: replayed, elapsedMs: Date.now() - started }, 'rebuild: history replayed in commit order; continuing live');
    const projector = await startProjector(config, logger, { pinnedVersion: toVersion });
    try {
      await waitForLag(admin, config.eventsTopic, toGroup, maxLag, timeoutMs, logger);
      const switched = await runScript(redis, SWITCH_SCRIPT, [control.version, control.rebuild], [String(fromVersion), String(toVersion), held.token]);
      if (switched === -1) throw new Error(`the rebuild lease expired before the switch (the rebuild stalled for over ${REBUILD_LEASE_MS / 1000} s?); version ${toVersion} abandoned`);
      if (switched !== 1) throw new Error(`projection version moved away from ${fromVersion} during the rebuild; version ${toVersion} abandoned`);
      logger.info({ fromVersion, toVersion }, 'rebuild: caught up, readers switched');
      // Readers and live projectors move over within a poll; the rebuild keeps projecting meanwhile.
      await new Promise((resolve) => setTimeout(resolve, graceMs));
    } catch (error) {
      await projector.close();
      // Not once the lease is lost: another rebuild may be building this very version by now.
      if (await held.held()) await dropVersion(redis, config.redisPrefix, toVersion);
      throw error;
    }
    await projector.close();
    const droppedKeys = await dropVersion(redis, config.redisPrefix, fromVersion);
    await deleteGroup(admin, projectorGroupOf(config.projectorGroup, fromVersion), logger);
    const result = { fromVersion, toVersion, droppedKeys, replayedEvents: replayed, elapsedMs: Date.now() - started };
    logger.info(result, 'rebuild: old version dropped');
    return result;
  } finally {
    await lease?.release();
    await admin.disconnect();
    await redis.quit();
  }
}

/**
 * Reads the events topic from its start to its current end, applies it to projection `version` in
 * commit order, and sets that version's consumer group to the end. Returns the messages replayed.
 */
async function replayInCommitOrder(config: OrreryConfig, logger: Logger, redis: RedisClient, admin: Admin, version: number, ends: readonly (SeekEntry & { high: string; low: string })[]): Promise<number> {
  const topic = config.eventsTopic;
  const readStarted = Date.now();
  const messages = await readUpTo(config, topic, new Map(ends.map((end) => [end.partition, { low: Number(end.low), high: Number(end.high) }])));
  const replayed = messages.map((entry) => ({ entry, ...replayFactsOf(entry.message) }));
  // A forgotten user's events before their UserForgotten are left out by the history itself: the
  // tombstone in Redis (what the plans skip them by) may not be there yet, when Redis lost its data or
  // the live projector had not applied the forget when the replay read the user. Until 2026-11-29 the
  // forget then deleted the user's own keys when the replay reached it, but their item counts,
  // popularity, co-visits and trending scores stayed in the new version.
  const forgottenAt = new Map<string, bigint>();
  for (const { userId, forgets, sequence } of replayed) if (forgets && userId !== undefined && sequence > (forgottenAt.get(userId) ?? -1n)) forgottenAt.set(userId, sequence);
  const beforeTheirForget = ({ userId, forgets, sequence }: ReplayFacts): boolean => !forgets && userId !== undefined && sequence < (forgottenAt.get(userId) ?? -1n);
  const ordered = replayed
    .filter((facts) => !beforeTheirForget(facts))
    .sort((a, b) => (a.sequence < b.sequence ? -1 : a.sequence > b.sequence ? 1 : 0))
    .map(({ entry }) => entry);
  if (ordered.length < replayed.length) logger.info({ events: replayed.length - ordered.length, users: forgottenAt.size }, 'rebuild: events of forgotten users before their forget left out');
  const appliedStarted = Date.now();
  const keys = projectionKeys(versionPrefix(config.redisPrefix, version));
  const control = controlKeys(config.redisPrefix);
  const store = redisProjectionStore(redis, keys, control, config.projection, config.redisCluster ? 'slot' : 'event', config.projectorCachedItems);
  // The replay is the only writer of the new version, so it keeps the recent-list heads it applies and
  // plans each chunk while Redis applies the one before, as the live projector does (apply-chunk.ts).
  const heads = new RecentHeads(config.projectorCachedUsers, coVisitLookBack(config.projection.coVisitPartners, config.projection.recentLimit));
  const pipeline = chunkPipeline(chunkProjector(store, keys, control, config, logger, [], { traced: false, heads }), config.projectorChunkSize);
  const chunks: Promise<void>[] = [];
  for (let start = 0; start < ordered.length; start += config.projectorChunkSize) chunks.push(pipeline.submit(ordered.slice(start, start + config.projectorChunkSize)).done);
  try {
    await Promise.all(chunks);
  } finally {
    await pipeline.drained();
  }
  const appliedMs = Date.now() - appliedStarted;
  logger.info(
    { events: ordered.length, readMs: appliedStarted - readStarted, appliedMs, eventsPerSecond: Math.round((ordered.length / Math.max(1, appliedMs)) * 1000) },
    'rebuild: history read from Kafka and applied',
  );
  await admin.setOffsets({ groupId: projectorGroupOf(config.projectorGroup, version), topic, partitions: ends.map((end) => ({ partition: end.partition, offset: end.high })) });
  return ordered.length;
}

/** "partition 0 starts at offset 120 (120 messages deleted), …" */
function describeDeleted(deleted: readonly DeletedHistory[]): string {
  const total = deleted.reduce((sum, { deletedMessages }) => sum + deletedMessages, 0);
  const partitions = deleted.map(({ partition, deletedMessages }) => `partition ${partition} starts at offset ${deletedMessages} (${deletedMessages} messages deleted)`);
  return `${partitions.join(', ')}: ${total} messages of the history are gone`;
}

/** Why a rebuild from a topic that lost its first messages is refused, and what to do. */
function partialHistoryMessage(topic: string, deleted: readonly DeletedHistory[], liveVersion: number): string {
  return (
    `the events topic "${topic}" no longer holds its whole history — ${describeDeleted(deleted)} (deleted by the topic's retention or deleteRecords). ` +
    `A rebuild would build projections without them, so it is refused and version ${liveVersion} stays live. ` +
    `Keep the rest from now on (${keepWholeHistoryCommand(topic)}); ` +
    `then rebuild with --allow-partial-history only if projections without the deleted events are acceptable.`
  );
}

/** What the replay orders and filters a message by (the chunk projector decodes it again: kept small, as the whole history is held). */
interface ReplayFacts {
  /** The commit sequence (undecodable: -1, so it is met first and skipped). */
  readonly sequence: bigint;
  /** The user of an interaction, a user upsert or a forget. */
  readonly userId?: string;
  /** A UserForgotten. */
  readonly forgets: boolean;
}

function replayFactsOf(message: KafkaMessage): ReplayFacts {
  try {
    if (!message.value) return { sequence: -1n, forgets: false };
    const { sequence, payload } = decodeDomainEvent(message.value);
    switch (payload.case) {
      case 'interaction':
      case 'userUpserted':
        return { sequence, userId: payload.value.userId, forgets: false };
      case 'userForgotten':
        return { sequence, userId: payload.value.userId, forgets: true };
      default:
        return { sequence, forgets: false };
    }
  } catch {
    return { sequence: -1n, forgets: false };
  }
}

/** Every message of `topic` below each partition's `high` offset (a throwaway consumer group, deleted after). */
async function readUpTo(config: OrreryConfig, topic: string, bounds: ReadonlyMap<number, { low: number; high: number }>): Promise<PartitionMessage[]> {
  const pending = new Set([...bounds].filter(([, { low, high }]) => high > low).map(([partition]) => partition));
  const messages: PartitionMessage[] = [];
  if (pending.size === 0) return messages;
  const kafka = createKafka(config, 'rebuild-replay');
  const groupId = `${config.projectorGroup}.replay-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxBytesPerPartition: 4 * 1024 * 1024 });
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const high = bounds.get(batch.partition)?.high ?? 0;
        if (!pending.has(batch.partition)) return;
        for (const message of batch.messages) {
          if (Number(message.offset) < high) messages.push({ topic, partition: batch.partition, message });
          if (Number(message.offset) >= high - 1) pending.delete(batch.partition);
        }
        if (pending.size === 0) done();
      },
    });
    await finished;
  } finally {
    await closeThrowawayConsumer(kafka, consumer, groupId);
  }
  return messages;
}

/** The projection versions that hold at least one key under `base`, in increasing order. */
async function versionsHoldingKeys(redis: RedisClient, base: string): Promise<number[]> {
  const versions = new Set<number>();
  for (const key of await scanKeys(redis, allVersionsKeyPattern(base))) {
    const version = versionOfKey(base, key);
    if (version !== undefined) versions.add(version);
  }
  return [...versions].sort((a, b) => a - b);
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
