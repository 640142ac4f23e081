import type { KafkaMessage } from 'kafkajs';
import type { PartitionMessage } from './apply-chunk';
import { coalescedChunks } from './chunk-coalescer';

const chunk = (partition: number, ...offsets: number[]): PartitionMessage[] =>
  offsets.map((offset) => ({ topic: 't', partition, message: { offset: String(offset) } as KafkaMessage }));
const describeApply = (entries: readonly PartitionMessage[]): string => entries.map((entry) => `${entry.partition}:${entry.message.offset}`).join(' ');

/** An apply whose calls are recorded and finished by the test. */
function controlledApply(): { apply: (entries: readonly PartitionMessage[]) => Promise<void>; calls: string[]; finish: (error?: Error) => void } {
  const calls: string[] = [];
  const pending: { resolve: () => void; reject: (error: Error) => void }[] = [];
  return {
    calls,
    apply: (entries) =>
      new Promise<void>((resolve, reject) => {
        calls.push(describeApply(entries));
        pending.push({ resolve, reject });
      }),
    finish: (error) => {
      const next = pending.shift()!;
      if (error) next.reject(error);
      else next.resolve();
    },
  };
}
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('coalesced chunks', () => {
  it('when nothing is being applied, a chunk is applied at once and alone', async () => {
    const { apply, calls, finish } = controlledApply();
    const done = coalescedChunks(apply, 100)(chunk(0, 1, 2));
    expect(calls).toEqual(['0:1 0:2']);
    finish();
    await expect(done).resolves.toBeUndefined();
  });

  it('when chunks arrive during an apply, they are applied together next, in arrival order, up to the message limit', async () => {
    const { apply, calls, finish } = controlledApply();
    const project = coalescedChunks(apply, 4);
    const settled: string[] = [];
    const track = (name: string, promise: Promise<void>): Promise<void> => promise.then(() => void settled.push(name));
    const first = track('p0', project(chunk(0, 1)));
    const others = [track('p1', project(chunk(1, 5, 6))), track('p2', project(chunk(2, 7))), track('p3', project(chunk(3, 8, 9)))];
    expect(calls).toEqual(['0:1']);
    finish();
    await first;
    await flush();
    // p1 and p2 fit in 4 messages; p3 would make 5, so it waits for the next apply.
    expect(calls).toEqual(['0:1', '1:5 1:6 2:7']);
    expect(settled).toEqual(['p0']);
    finish();
    await flush();
    expect(settled).toEqual(['p0', 'p1', 'p2']);
    expect(calls).toEqual(['0:1', '1:5 1:6 2:7', '3:8 3:9']);
    finish();
    await Promise.all(others);
  });

  it('when an apply fails, every chunk in it fails, and chunks queued behind it are still applied', async () => {
    const { apply, calls, finish } = controlledApply();
    const project = coalescedChunks(apply, 100);
    const busy = project(chunk(0, 1));
    const [a, b] = [project(chunk(1, 2)), project(chunk(2, 3))];
    finish();
    await busy;
    await flush();
    const later = project(chunk(3, 4));
    finish(new Error('redis down'));
    await expect(a).rejects.toThrow('redis down');
    await expect(b).rejects.toThrow('redis down');
    await flush();
    expect(calls).toEqual(['0:1', '1:2 2:3', '3:4']);
    finish();
    await expect(later).resolves.toBeUndefined();
  });
});
