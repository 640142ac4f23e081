import { pause } from './schedule';

const DAY_MS = 86_400_000;

/** Whether `promise` has settled once pending callbacks ran. */
async function settled(promise: Promise<void>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await Promise.resolve();
  await Promise.resolve();
  return done;
}

describe('the wait between scheduled runs', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('when the schedule is monthly (longer than a timer can wait), the next run waits the whole month', async () => {
    const wait = pause(30 * DAY_MS);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(await settled(wait.done)).toBe(false);
    await jest.advanceTimersByTimeAsync(29 * DAY_MS);
    expect(await settled(wait.done)).toBe(false);
    await jest.advanceTimersByTimeAsync(DAY_MS);
    expect(await settled(wait.done)).toBe(true);
  });

  it('when woken (SIGTERM), the wait ends at once', async () => {
    const wait = pause(30 * DAY_MS);
    await jest.advanceTimersByTimeAsync(1_000);
    wait.wake();
    expect(await settled(wait.done)).toBe(true);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('when the schedule is short, the wait is that long', async () => {
    const wait = pause(60_000);
    await jest.advanceTimersByTimeAsync(59_999);
    expect(await settled(wait.done)).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(await settled(wait.done)).toBe(true);
  });
});
