// Test helpers: read back and clean up everything under one Redis prefix.
import type { RedisClient } from '@orrery/projections';

async function keysUnder(redis: RedisClient, prefix: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    found.push(...batch);
  } while (cursor !== '0');
  return found.sort();
}

/** Every projection under `prefix` as plain data (applied-markers left out), for before/after comparisons. */
export async function readModel(redis: RedisClient, prefix: string): Promise<Record<string, unknown>> {
  const model: Record<string, unknown> = {};
  for (const key of await keysUnder(redis, prefix)) {
    if (key.includes(':ev:')) continue;
    const type = await redis.type(key);
    if (type === 'list') model[key] = await redis.lrange(key, 0, -1);
    else if (type === 'hash') model[key] = await redis.hgetall(key);
    else if (type === 'zset') model[key] = await redis.zrange(key, 0, -1, 'WITHSCORES');
    else if (type === 'set') model[key] = (await redis.smembers(key)).sort();
    else if (type === 'string') model[key] = await redis.pfcount(key);
  }
  return model;
}

/** Deletes every key under `prefix`. */
export async function deleteModel(redis: RedisClient, prefix: string): Promise<void> {
  const keys = await keysUnder(redis, prefix);
  for (let start = 0; start < keys.length; start += 500) await redis.del(...keys.slice(start, start + 500));
}
