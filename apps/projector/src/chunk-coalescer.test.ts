import type { KafkaMessage } from 'kafkajs';
import type { PartitionMessage } from './apply-chunk';
import type { ChunkHandle } from './apply-chunk';
import { chunkPipeline } from './chunk-coalescer';

const chunk = (partition: number, ...offsets: number[]): PartitionMessage[] =>
  offsets.map((offset) => ({ topic: 't', partition, message: { offset: String(offset) } as KafkaMessage }));
const describeApply = (entries: readonly PartitionMessage[]): string => entries.map((entry) => `${entry.partition}:${entry.message.offset}`).join(' ');

/** An apply whose calls are recorded, and whose sends and finishes the test decides, in call order. */
function controlledApply(): { apply: (entries: readonly PartitionMessage[]) => ChunkHandle; calls: string[]; send: () => void; finish: (error?: Error) => void } {
  const calls: string[] = [];
  const sends: (() => void)[] = [];
  const pending: { resolve: () => void; reject: (error: Error) => void }[] = [];
  return {
    calls,
    apply: (entries) => {
      calls.push(describeApply(entries));
      const sent = new Promise<void>((resolve) => sends.push(resolve));
      const done = new Promise<void>((resolve, reject) => pending.push({ resolve, reject }));
      return { sent, done };
    },
    send: () => sends.shift()!(),
    finish: (error) => {
      const next = pending.shift()!;
      if (error) next.reject(error);
      else next.resolve();
    },
  };
}
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
/** 'pending', 'resolved' or 'rejected: <message>' once the microtasks have run. */
async function stateOf(promise: Promise<void>): Promise<string> {
  let state = 'pending';
  promise.then(
    () => (state = 'resolved'),
    (error: Error) => (state = `rejected: ${error.message}`),
  );
  await flush();
  return state;
}

describe('chunk pipeline', () => {
  it('when nothing is being applied, a chunk starts at once, alone, and is done when its apply is', async () => {
    const { apply, calls, finish } = controlledApply();
    const { started, done } = chunkPipeline(apply, 100).submit(chunk(0, 1, 2));
    await flush();
    expect(calls).toEqual(['0:1 0:2']);
    expect(await stateOf(started)).toBe('resolved');
    expect(await stateOf(done)).toBe('pending');
    finish();
    expect(await stateOf(done)).toBe('resolved');
  });

  it('when chunks arrive during an apply, they start together once it has sent its scripts, in arrival order, up to the message limit', async () => {
    const { apply, calls, send, finish } = controlledApply();
    const pipeline = chunkPipeline(apply, 4);
    const first = pipeline.submit(chunk(0, 1));
    const [p1, p2, p3] = [pipeline.submit(chunk(1, 5, 6)), pipeline.submit(chunk(2, 7)), pipeline.submit(chunk(3, 8, 9))];
    await flush();
    expect(calls).toEqual(['0:1']);
    expect(await stateOf(p1.started)).toBe('pending');
    send();
    await flush();
    // p1 and p2 fit in 4 messages; p3 would make 5, so it waits for the next apply.
    expect(calls).toEqual(['0:1', '1:5 1:6 2:7']);
    expect([await stateOf(first.done), await stateOf(p1.started), await stateOf(p2.started), await stateOf(p3.started)]).toEqual(['pending', 'resolved', 'resolved', 'pending']);
    // Two applies at once at most: the second has sent, but p3 waits until the first is done.
    send();
    await flush();
    expect(calls).toHaveLength(2);
    finish();
    await flush();
    expect(calls).toEqual(['0:1', '1:5 1:6 2:7', '3:8 3:9']);
    expect([await stateOf(first.done), await stateOf(p1.done), await stateOf(p3.started)]).toEqual(['resolved', 'pending', 'resolved']);
    finish();
    send();
    finish();
    expect([await stateOf(p2.done), await stateOf(p3.done)]).toEqual(['resolved', 'resolved']);
  });

  it('when an apply fails, its chunks fail, and every chunk queued or submitted after it is refused without being applied', async () => {
    const { apply, calls, finish } = controlledApply();
    const pipeline = chunkPipeline(apply, 100);
    const failing = pipeline.submit(chunk(0, 1, 2));
    const queued = pipeline.submit(chunk(0, 3));
    await flush();
    finish(new Error('redis down'));
    await flush();
    const later = pipeline.submit(chunk(1, 4));
    expect(await stateOf(failing.done)).toBe('rejected: redis down');
    expect([await stateOf(queued.started), await stateOf(queued.done)]).toEqual(['rejected: redis down', 'rejected: redis down']);
    expect([await stateOf(later.started), await stateOf(later.done)]).toEqual(['rejected: redis down', 'rejected: redis down']);
    expect(calls).toEqual(['0:1 0:2']);
  });

  it('is drained once every chunk submitted has settled', async () => {
    const { apply, send, finish } = controlledApply();
    const pipeline = chunkPipeline(apply, 100);
    pipeline.submit(chunk(0, 1));
    pipeline.submit(chunk(1, 2));
    const drained = pipeline.drained();
    expect(await stateOf(drained)).toBe('pending');
    send();
    finish();
    await flush();
    expect(await stateOf(drained)).toBe('pending');
    send();
    finish();
    expect(await stateOf(drained)).toBe('resolved');
  });
});
