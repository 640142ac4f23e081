import { EventType } from '@orrery/proto';
import { eventsDue, startWriteLoad, WRITE_LOAD_TICK_MS, type EventSink } from './write-load';

describe('eventsDue', () => {
  it('is what the rate owes by now, beyond what was sent', () => {
    expect(eventsDue(0, 1_000, 0)).toBe(0);
    expect(eventsDue(10, 1_000, 0)).toBe(10);
    expect(eventsDue(10, 1_000, 10)).toBe(0);
    expect(eventsDue(1_000, 250, 200)).toBe(50);
    expect(eventsDue(15, 100, 0)).toBe(1);
  });

  it('is never negative when more were sent than are due', () => {
    expect(eventsDue(5, 1_000, 20)).toBe(0);
  });
});

describe('startWriteLoad', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('sends the rate in batches of the seeded users and items, and counts what was acknowledged and what failed', async () => {
    const batches: { userId: string; itemId: string; type: EventType }[][] = [];
    const sink: EventSink = {
      trackBatch: ({ events }) => {
        batches.push(events);
        return batches.length === 3 ? Promise.reject(new Error('ingestion unavailable')) : Promise.resolve({ accepted: events.length });
      },
    };
    const load = startWriteLoad(sink, ['u1', 'u2'], ['i1', 'i2', 'i3'], 1_000);
    await jest.advanceTimersByTimeAsync(100);
    const result = await load.stop();
    const events = batches.flat();
    expect(result.sent).toBe(events.length);
    expect(events.length).toBeGreaterThanOrEqual(100 - WRITE_LOAD_TICK_MS);
    expect(events.length).toBeLessThanOrEqual(100);
    expect(result.failedBatches).toBe(1);
    expect(result.firstError).toBe('ingestion unavailable');
    expect(result.acknowledged).toBe(events.length - batches[2]!.length);
    for (const event of events) {
      expect(['u1', 'u2']).toContain(event.userId);
      expect(['i1', 'i2', 'i3']).toContain(event.itemId);
      expect([EventType.VIEW, EventType.CLICK]).toContain(event.type);
    }
    // Nothing more is sent once stopped.
    await jest.advanceTimersByTimeAsync(100);
    expect(batches.flat()).toHaveLength(events.length);
  });

  it('when a batch fails, the first failure is told at once, not only when the load stops', async () => {
    const heard: string[] = [];
    const sink: EventSink = { trackBatch: () => Promise.reject(new Error('14 UNAVAILABLE: No connection established')) };
    const load = startWriteLoad(sink, ['u1'], ['i1'], 1_000, Math.random, (message) => heard.push(message));
    await jest.advanceTimersByTimeAsync(50);
    expect(heard).toEqual(['14 UNAVAILABLE: No connection established']);
    const result = await load.stop();
    expect(result.failedBatches).toBeGreaterThan(1);
    expect(heard).toHaveLength(1);
  });

  it('refuses to start without users or items', () => {
    const sink: EventSink = { trackBatch: () => Promise.resolve({ accepted: 0 }) };
    expect(() => startWriteLoad(sink, [], ['i1'], 10)).toThrow('at least one user and one item');
  });
});
