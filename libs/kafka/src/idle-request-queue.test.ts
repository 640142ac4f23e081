import { repairIdleRequestQueues } from './idle-request-queue';
import { REPAIRED_KAFKAJS_VERSION } from './kafkajs-internals';

// kafkajs' own RequestQueue (the class every broker connection uses), driven directly.
const { version: kafkajsVersion } = require('kafkajs/package.json') as { version: string };
const RequestQueue = require('kafkajs/src/network/requestQueue') as (new (options: object) => KafkaRequestQueue) & { prototype: { scheduleCheckPendingRequests: () => void } };

interface KafkaRequestQueue {
  checkPendingRequests(): void;
  maybeThrottle(clientSideThrottleTimeMs: number): void;
  push(request: { entry: object; expectResponse: boolean; sendRequest: () => void }): void;
  destroy(): void;
}

const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const newQueue = (): KafkaRequestQueue =>
  new RequestQueue({ maxInFlightRequests: null, requestTimeout: 30_000, enforceRequestTimeout: false, clientId: 'test', broker: 'broker:9092', logger: silent });
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** How often `queue` checks its pending requests during `ms` after one check with nothing pending. */
async function checksWhileIdle(queue: KafkaRequestQueue, ms: number): Promise<number> {
  let checks = 0;
  const check = queue.checkPendingRequests.bind(queue);
  queue.checkPendingRequests = () => {
    checks++;
    check();
  };
  queue.checkPendingRequests();
  await sleep(ms);
  queue.destroy();
  return checks;
}

describe("kafkajs' request queue without its idle timer", () => {
  // repairIdleRequestQueues patches kafkajs' class for every later test of the file: each test starts from kafkajs' own.
  const kafkajsScheduleCheck = RequestQueue.prototype.scheduleCheckPendingRequests;
  afterEach(() => {
    RequestQueue.prototype.scheduleCheckPendingRequests = kafkajsScheduleCheck;
  });

  it('is the kafkajs version the repair was written for (re-check the bug before changing the version)', () => {
    expect(kafkajsVersion).toBe(REPAIRED_KAFKAJS_VERSION);
  });

  it('when nothing is pending, checks once instead of every millisecond', async () => {
    const unrepaired = await checksWhileIdle(newQueue(), 100);
    expect(repairIdleRequestQueues()).toBe(true);
    const repaired = await checksWhileIdle(newQueue(), 100);
    expect(repaired).toBe(1);
    // The bug this repairs, seen on the class before the repair (a loaded CI box still fires dozens).
    expect(unrepaired).toBeGreaterThan(10);
  });

  it('when the broker throttles, a request pushed meanwhile is sent once the throttle ends', async () => {
    expect(repairIdleRequestQueues()).toBe(true);
    const queue = newQueue();
    queue.maybeThrottle(30);
    let sentAt: number | undefined;
    const pushedAt = Date.now();
    queue.push({
      entry: { correlationId: 1, apiKey: 0, apiName: 'Produce', apiVersion: 3, resolve: () => undefined, reject: () => undefined },
      expectResponse: false,
      sendRequest: () => (sentAt = Date.now()),
    });
    expect(sentAt).toBeUndefined();
    for (let waited = 0; sentAt === undefined && waited < 2_000; waited += 5) await sleep(5);
    queue.destroy();
    expect(sentAt).toBeDefined();
    expect(sentAt! - pushedAt).toBeGreaterThanOrEqual(25);
  });
});
