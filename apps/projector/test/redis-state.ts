// Test helpers: read back and clean up everything under one Redis prefix.
import { scanKeys, unlinkKeys, versionKeyPattern, type RedisClient } from '@orrery/projections';

async function keysUnder(redis: RedisClient, prefix: string): Promise<string[]> {
  return (await scanKeys(redis, `${prefix}:*`)).sort();
}

/** A key holding applied-sequence watermarks (`<prefix>:{<tag>}:applied`). */
function isWatermarks(key: string): boolean {
  return key.endsWith('}:applied');
}

/** Every projection under `prefix` as plain data (watermarks left out), for before/after comparisons. */
export async function readModel(redis: RedisClient, prefix: string): Promise<Record<string, unknown>> {
  const model: Record<string, unknown> = {};
  for (const key of await keysUnder(redis, prefix)) {
    if (isWatermarks(key)) continue;
    const type = await redis.type(key);
    if (type === 'list') model[key] = await redis.lrange(key, 0, -1);
    else if (type === 'hash') model[key] = await redis.hgetall(key);
    else if (type === 'zset') model[key] = await redis.zrange(key, 0, -1, 'WITHSCORES');
    else if (type === 'set') model[key] = (await redis.smembers(key)).sort();
    else if (type === 'string') model[key] = await redis.pfcount(key);
  }
  return model;
}

/** The keys of projection `version` of the deployment under `prefix`, its control keys left out (version 0 shares their prefix). */
export async function keysOfVersion(redis: RedisClient, prefix: string, version: number): Promise<string[]> {
  return (await scanKeys(redis, versionKeyPattern(prefix, version))).filter((key) => !key.includes('{control}'));
}

/** Deletes every key under `prefix`. */
export async function deleteModel(redis: RedisClient, prefix: string): Promise<void> {
  await unlinkKeys(redis, `${prefix}:*`);
}

/** A float as compared across runs: summation order may differ in the last bits. */
function canonicalNumber(text: string): string {
  const value = Number(text);
  return Number.isFinite(value) && !Number.isInteger(value) ? value.toPrecision(10) : text;
}

/**
 * Every key of one projection version (`<prefix>:{…}`, control keys left out) relative to the prefix,
 * as plain comparable data: lists in order, hashes and ZSETs with floats to 10 significant digits,
 * HyperLogLogs as their count, watermark hashes as present (their fields name the topic). Two runs
 * over the same events give equal dumps whatever the order their partitions were interleaved in.
 */
export async function canonicalModel(redis: RedisClient, versionPrefix: string, options: { watermarks?: boolean } = {}): Promise<Record<string, unknown>> {
  const model: Record<string, unknown> = {};
  for (const key of await keysUnder(redis, versionPrefix)) {
    const relative = key.slice(versionPrefix.length);
    if (!relative.startsWith(':{') || relative.startsWith(':{control}')) continue;
    if (isWatermarks(relative)) {
      if (options.watermarks ?? true) model[relative] = 'watermarks';
      continue;
    }
    const type = await redis.type(key);
    if (type === 'list') model[relative] = await redis.lrange(key, 0, -1);
    else if (type === 'hash') model[relative] = Object.fromEntries(Object.entries(await redis.hgetall(key)).map(([field, value]) => [field, canonicalNumber(value)]));
    else if (type === 'zset') {
      const flat = await redis.zrange(key, 0, -1, 'WITHSCORES');
      const pairs: [string, string][] = [];
      for (let index = 0; index + 1 < flat.length; index += 2) pairs.push([flat[index]!, canonicalNumber(flat[index + 1]!)]);
      model[relative] = pairs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    } else if (type === 'set') model[relative] = (await redis.smembers(key)).sort();
    else if (type === 'string') model[relative] = await redis.pfcount(key);
  }
  return model;
}
