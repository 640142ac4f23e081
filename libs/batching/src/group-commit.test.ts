import { AsyncLocalStorage } from 'node:async_hooks';
import { groupCommit, type QueuedRequest } from './group-commit';

/** A commit whose groups the test finishes: each request's result is its own value doubled. */
function controlledCommit(): { commit: (group: readonly QueuedRequest<number, number>[]) => Promise<void>; groups: number[][]; finish: (error?: Error) => void } {
  const groups: number[][] = [];
  const pending: { group: readonly QueuedRequest<number, number>[]; done: (error?: Error) => void }[] = [];
  return {
    groups,
    commit: (group) =>
      new Promise<void>((resolve, reject) => {
        groups.push(group.map((queued) => queued.request));
        pending.push({ group, done: (error) => (error ? reject(error) : resolve()) });
      }),
    finish: (error) => {
      const next = pending.shift()!;
      if (!error) next.group.forEach((queued) => queued.resolve(queued.request * 2));
      next.done(error);
    },
  };
}
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('group commit', () => {
  it('when fewer commits than allowed run, a request is committed at once and alone', async () => {
    const { commit, groups, finish } = controlledCommit();
    const submit = groupCommit(commit, { maxInFlight: 2, maxSize: 10, sizeOf: () => 1 });
    const [a, b] = [submit(1), submit(2)];
    expect(groups).toEqual([[1], [2]]);
    finish();
    finish();
    await expect(Promise.all([a, b])).resolves.toEqual([2, 4]);
  });

  it('when every commit slot is busy, waiting requests go together next, in arrival order, up to the size limit', async () => {
    const { commit, groups, finish } = controlledCommit();
    const submit = groupCommit(commit, { maxInFlight: 1, maxSize: 5, sizeOf: (request) => request });
    const results = [submit(1), submit(2), submit(3), submit(4), submit(9)];
    expect(groups).toEqual([[1]]);
    finish();
    await flush();
    // 2 + 3 fit in 5; 4 would make 9. The 9 is larger than the limit and goes alone.
    expect(groups).toEqual([[1], [2, 3]]);
    for (let step = 0; step < 2; step += 1) {
      finish();
      await flush();
    }
    expect(groups).toEqual([[1], [2, 3], [4], [9]]);
    finish();
    await expect(Promise.all(results)).resolves.toEqual([2, 4, 6, 8, 18]);
  });

  it('when a commit throws, the requests it left unsettled fail with its error, the ones it settled keep their result, and later groups still commit', async () => {
    const submit = groupCommit<number, number>(
      async (group) => {
        if (group[0]!.request === 0) {
          await new Promise((resolve) => setImmediate(resolve));
          group[0]!.resolve(0);
          return;
        }
        group[0]!.resolve(1);
        throw new Error('disk full');
      },
      { maxInFlight: 1, maxSize: 10, sizeOf: () => 1 },
    );
    const busy = submit(0);
    const [first, second] = [submit(1), submit(2)];
    await expect(first).resolves.toBe(1);
    await expect(second).rejects.toThrow('disk full');
    await expect(busy).resolves.toBe(0);
  });
  it("runs each group's commit in the async context (the trace) its first request was queued in, not the one of the commit before", async () => {
    const trace = new AsyncLocalStorage<string>();
    const { commit, finish } = controlledCommit();
    const contexts: (string | undefined)[] = [];
    const submit = groupCommit<number, number>(
      (group) => {
        contexts.push(trace.getStore());
        return commit(group);
      },
      { maxInFlight: 1, maxSize: 10, sizeOf: () => 1 },
    );
    const results = [trace.run('trace-a', () => submit(1)), trace.run('trace-b', () => submit(2)), trace.run('trace-c', () => submit(3))];
    finish();
    await flush();
    finish();
    await expect(Promise.all(results)).resolves.toEqual([2, 4, 6]);
    expect(contexts).toEqual(['trace-a', 'trace-b']);
  });
});
