import { warmUp, WARM_UP_PROBE_CALLS, type WarmUpOutcome } from './warm-up';

/** A call that answers after `latencyMs` of the fake clock, recording who was called and the calls in flight. */
function recordingCall(clock: { ms: number }, answer: (userId: string, index: number) => WarmUpOutcome | Error, latencyMs: (index: number) => number = () => 1) {
  const called: string[] = [];
  let inFlight = 0;
  let mostInFlight = 0;
  const call = async (userId: string): Promise<WarmUpOutcome> => {
    const index = called.length;
    called.push(userId);
    inFlight += 1;
    mostInFlight = Math.max(mostInFlight, inFlight);
    await Promise.resolve();
    clock.ms += latencyMs(index);
    inFlight -= 1;
    const outcome = answer(userId, index);
    if (outcome instanceof Error) throw outcome;
    return outcome;
  };
  return { call, called, mostInFlight: () => mostInFlight };
}

describe('warm-up', () => {
  it('sends the asked number of calls, a few at a time, cycling through the users, and counts what came back', async () => {
    const clock = { ms: 0 };
    const { call, called, mostInFlight } = recordingCall(clock, (_, index) => (index % 10 === 0 ? 'degraded' : 'whole'));
    const report = await warmUp(call, ['u1', 'u2', 'u3'], { requests: 50, concurrency: 4, now: () => clock.ms });
    expect(called).toHaveLength(50);
    expect(new Set(called)).toEqual(new Set(['u1', 'u2', 'u3']));
    expect(called.filter((userId) => userId === 'u1')).toHaveLength(17);
    expect(mostInFlight()).toBe(4);
    expect(report).toMatchObject({ sent: 50, whole: 45, degraded: 5, failed: 0, users: 3 });
    expect(report.stoppedEarly).toBeUndefined();
  });

  it('sends nothing without users', async () => {
    const clock = { ms: 0 };
    const { call, called } = recordingCall(clock, () => 'whole');
    expect(await warmUp(call, [], { requests: 100, now: () => clock.ms })).toMatchObject({ sent: 0, users: 0 });
    expect(called).toHaveLength(0);
  });

  it('never throws: failed calls are counted, and it gives up once most of the first calls failed or were degraded', async () => {
    const clock = { ms: 0 };
    const { call, called } = recordingCall(clock, (_, index) => (index % 3 === 0 ? 'whole' : new Error('scoring is down')));
    const report = await warmUp(call, ['u1'], { requests: 2_000, concurrency: 1, now: () => clock.ms });
    expect(called).toHaveLength(WARM_UP_PROBE_CALLS);
    expect(report.failed).toBeGreaterThan(WARM_UP_PROBE_CALLS / 2);
    expect(report.stoppedEarly).toMatch(/ of 100 calls failed or were degraded/);
  });

  it('stops at its time limit, and reports the p90 of its first and last calls', async () => {
    const clock = { ms: 0 };
    // 10 ms each for the first 50 calls, then 1 ms once warm: 50 + 500 calls fill the second.
    const { call, called } = recordingCall(clock, () => 'whole', (index) => (index < 50 ? 10 : 1));
    const report = await warmUp(call, ['u1'], { requests: 1_000, concurrency: 1, timeLimitMs: 1_000, now: () => clock.ms });
    expect(called).toHaveLength(550);
    expect(report.stoppedEarly).toBe('time limit of 1000 ms');
    expect(report.tookMs).toBe(1_000);
    expect(report.firstCallsP90Ms).toBe(10);
    expect(report.lastCallsP90Ms).toBe(1);
  });

  it('sends no further call once told to stop', async () => {
    const clock = { ms: 0 };
    const stop = new AbortController();
    const { call, called } = recordingCall(clock, (_, index) => {
      if (index === 9) stop.abort();
      return 'whole';
    });
    const report = await warmUp(call, ['u1'], { requests: 1_000, concurrency: 1, stop: stop.signal, now: () => clock.ms });
    expect(called).toHaveLength(10);
    expect(report.stoppedEarly).toBe('stopped: the service is shutting down');
  });
});
