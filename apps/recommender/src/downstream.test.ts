import { never } from '../test/fakes';
import { callDownstream, callTimeoutMs } from './downstream';

describe('downstream calls', () => {
  it('when the call answers, its value is returned with the deadline it was given', async () => {
    const budget = { perCallTimeoutMs: 500, requestDeadlineMs: Infinity, now: Date.now };
    await expect(callDownstream('vector', budget, async (limits) => limits.timeoutMs)).resolves.toEqual({ ok: true, value: 500 });
  });

  it('when the call throws, the outcome names the part and the error', async () => {
    const budget = { perCallTimeoutMs: 500, requestDeadlineMs: Infinity, now: Date.now };
    await expect(callDownstream('vector', budget, async () => Promise.reject(new Error('14 UNAVAILABLE: connection refused')))).resolves.toEqual({
      ok: false,
      reason: 'vector unavailable: 14 UNAVAILABLE: connection refused',
    });
  });

  it('when the call hangs, the outcome is a timeout reason, not a hang', async () => {
    const budget = { perCallTimeoutMs: 20, requestDeadlineMs: Infinity, now: Date.now };
    await expect(callDownstream('scoring', budget, () => never())).resolves.toEqual({ ok: false, reason: 'scoring unavailable: no answer within 20 ms' });
  });

  it('the per-call deadline is shortened to what the request has left', () => {
    expect(callTimeoutMs({ perCallTimeoutMs: 150, requestDeadlineMs: 1_100, now: () => 1_000 })).toBe(100);
    expect(callTimeoutMs({ perCallTimeoutMs: 150, requestDeadlineMs: 900, now: () => 1_000 })).toBe(1);
    expect(callTimeoutMs({ perCallTimeoutMs: 150, requestDeadlineMs: Infinity, now: () => 1_000 })).toBe(150);
  });
});
