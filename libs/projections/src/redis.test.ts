import { randomUUID } from 'node:crypto';
import { readConfig } from '@orrery/config';
import { Redis } from 'ioredis';
import { projectionKeys } from './keys';
import { redisProjectionReader } from './reader';
import { createRedis, inOneWrite, unlinkKeys } from './redis';

// Against the real Redis of the local stack (ORRERY_REDIS_URL).
describe('inOneWrite', () => {
  const redis = createRedis(readConfig(), 'in-one-write-test') as Redis;
  afterAll(() => redis.quit());

  it('sends the commands issued inside it in one socket write, and each gets its own reply', async () => {
    await redis.ping();
    const socket = redis.stream as unknown as { _write: (...args: unknown[]) => void; _writev: (...args: unknown[]) => void };
    const writes = [jest.spyOn(socket, '_write'), jest.spyOn(socket, '_writev')];
    const replies = await inOneWrite(redis, () => Promise.all(Array.from({ length: 50 }, (_, index) => redis.echo(`reply-${index}`))));
    expect(writes.reduce((calls, spy) => calls + spy.mock.calls.length, 0)).toBe(1);
    expect(replies).toEqual(Array.from({ length: 50 }, (_, index) => `reply-${index}`));
    for (const spy of writes) spy.mockRestore();
  });
});

// Against the real Redis of the local stack, in a database of its own: the search looks at a bounded
// number of keys, and in the shared database other tests' keys could hide these.
describe('usersWithHistory', () => {
  const config = readConfig();
  const url = new URL(config.redisUrl);
  url.pathname = '/9';
  const redis = createRedis({ ...config, redisUrl: url.toString() }, 'users-with-history-test');
  const base = `users-with-history-test-${randomUUID()}`;
  afterAll(async () => {
    await unlinkKeys(redis, `${base}*`);
    await redis.quit();
  });

  it("lists the users with a recent list in the version read (ids escaped in keys come back as they were), up to the limit, and no other version's", async () => {
    const read = projectionKeys(`${base}:v2`);
    const other = projectionKeys(`${base}:v1`);
    const users = ['u1', 'u{2}', '50%'];
    for (const userId of users) await redis.lpush(read.user(userId).recent, 'entry');
    await redis.lpush(read.user('only-seen').seen, 'item-1');
    await redis.lpush(other.user('old-version').recent, 'entry');
    await redis.hset(read.item('item-1').catalog, 'hidden', '0');
    const reader = redisProjectionReader(redis, () => read, config.projection);
    expect((await reader.usersWithHistory(10)).sort()).toEqual([...users].sort());
    const two = await reader.usersWithHistory(2);
    expect(two).toHaveLength(2);
    for (const userId of two) expect(users).toContain(userId);
  });
});
