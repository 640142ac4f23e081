import { readConfig } from '@orrery/config';
import { Redis } from 'ioredis';
import { createRedis, inOneWrite } from './redis';

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
