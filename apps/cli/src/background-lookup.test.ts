import { BackgroundLookup } from './background-lookup';

/** A lookup whose answers the test gives by hand, recording the keys of each call. */
function manualLookup(): { lookup: (keys: readonly string[]) => Promise<ReadonlyMap<string, number>>; calls: string[][]; answer(found: Record<string, number>): void; fail(error: Error): void } {
  const calls: string[][] = [];
  const pending: { resolve(found: ReadonlyMap<string, number>): void; reject(error: Error): void }[] = [];
  return {
    calls,
    lookup: (keys) => {
      calls.push([...keys]);
      return new Promise((resolve, reject) => pending.push({ resolve, reject }));
    },
    answer: (found) => pending.shift()!.resolve(new Map(Object.entries(found))),
    fail: (error) => pending.shift()!.reject(error),
  };
}

describe('a lookup in the background of a polling loop', () => {
  it('starts a lookup and returns at once: the loop goes on polling while it is in flight, and gets its answer once', async () => {
    const manual = manualLookup();
    const positions = new BackgroundLookup(manual.lookup, 100);
    positions.request(['e1', 'e2'], 0);
    expect(manual.calls).toEqual([['e1', 'e2']]);
    expect(positions.take()).toEqual(new Map());
    manual.answer({ e1: 7 });
    await positions.settled();
    expect(positions.take()).toEqual(new Map([['e1', 7]]));
    expect(positions.take()).toEqual(new Map());
  });

  it('keeps one lookup in flight at most, one every interval at most, and none for no keys', async () => {
    const manual = manualLookup();
    const positions = new BackgroundLookup(manual.lookup, 100);
    positions.request([], 0);
    positions.request(['e1'], 0);
    positions.request(['e1', 'e2'], 150);
    expect(manual.calls).toEqual([['e1']]);
    manual.answer({});
    await positions.settled();
    positions.request(['e2'], 90);
    expect(manual.calls).toHaveLength(1);
    positions.request(['e2'], 100);
    expect(manual.calls).toEqual([['e1'], ['e2']]);
  });

  it('throws the failure of a lookup from the next take, so the bench stops as it did when it awaited the lookup', async () => {
    const manual = manualLookup();
    const positions = new BackgroundLookup(manual.lookup, 0);
    positions.request(['e1'], 0);
    manual.fail(new Error('connection terminated'));
    await positions.settled();
    expect(() => positions.take()).toThrow('connection terminated');
  });
});
