// Faults on the write side, with every service a real process (built dist/): command (which runs
// the outbox relay) and the projector are SIGKILLed mid-stream and restarted. Afterwards the
// acknowledged events are exactly the stored ones, the ones on Kafka and the ones the projector applied.
import { join } from 'node:path';
import { readConfig } from '@orrery/config';
import { ZmqEventEmitter } from '@orrery/client';
import { createRedis } from '@orrery/projections';
import { EventType } from '@orrery/proto';
import { eventually, interactionCountsOfItems } from '@orrery/testing';
import { Client } from 'pg';
import { collectTopic, eventIdOf, type TopicCollector } from '../../command/test/kafka-collector';
import { startIsolatedPlatform, type IsolatedPlatform } from '../src/isolated-platform';
import { isAlive, REPO_ROOT, startServices, stopServices, type ServiceName, type ServiceProcess } from '../src/platform';

jest.setTimeout(300_000);

const TOTAL = 6_000;
const CHUNK = 200;

describe('write side under faults (processes killed mid-stream)', () => {
  let platform: IsolatedPlatform;
  const restarted: ServiceProcess[] = [];
  let topic: TopicCollector;
  let db: Client;

  beforeAll(async () => {
    // A short command deadline, so ingestion answers UNAVAILABLE soon while command is down.
    platform = await startIsolatedPlatform({ ORRERY_COMMAND_TIMEOUT_MS: '1000', ORRERY_TRACE_SAMPLE_RATIO: '0.01' }, ['command', 'ingestion', 'projector']);
    db = new Client({ connectionString: platform.databaseUrl });
    await db.connect();
  });
  afterAll(async () => {
    await topic?.stop();
    await db?.end();
    await stopServices(restarted);
    await platform?.stop();
  });

  const running = (name: ServiceName): ServiceProcess => [...restarted, ...platform.services].find((service) => service.name === name && isAlive(service.pid))!;
  const killAndRestart = async (name: ServiceName, whileDown: () => Promise<void>): Promise<void> => {
    const victim = running(name);
    process.kill(victim.pid, 'SIGKILL');
    await eventually(async () => !isAlive(victim.pid), { what: `${name} to die` });
    await whileDown();
    restarted.push(...(await startServices({ env: platform.env, logDir: join(REPO_ROOT, '.orrery', 'logs', `${platform.env.ORRERY_REDIS_PREFIX}-restarted`), detached: false, only: [name] })));
  };

  it('when command (and its relay) and the projector are killed and restarted mid-stream, acked == stored == distinct on Kafka == applied by the projector', async () => {
    const emitter = new ZmqEventEmitter({ endpoint: platform.env.ORRERY_INGEST_ZMQ_ENDPOINT!, maxBatchEvents: CHUNK, backoff: { initialMs: 50, maxMs: 500 }, requestTimeoutMs: 5_000 });
    let acked = 0;
    let refused = 0;
    const streaming = (async () => {
      for (let from = 0; from < TOTAL; from += CHUNK) {
        const outcomes = await Promise.all(
          Array.from({ length: CHUNK }, (_, k) => emitter.emit({ eventId: `fault-${from + k}`, userId: `user-${(from + k) % 97}`, itemId: `fault-item-${from + k}`, type: EventType.VIEW })),
        );
        for (const outcome of outcomes) {
          if (outcome.accepted) acked += 1;
          else refused += 1;
        }
      }
    })();

    await eventually(async () => acked, { accept: (n) => n >= TOTAL / 4, timeoutMs: 60_000, what: 'a quarter acknowledged' });
    await killAndRestart('command', () => eventually(async () => emitter.stats.retries, { accept: (n) => n > 0, what: 'the emitter retrying while command is down' }).then(() => undefined));
    await eventually(async () => acked, { accept: (n) => n >= TOTAL / 2, timeoutMs: 90_000, what: 'half acknowledged after command came back' });
    await killAndRestart('projector', async () => undefined);
    await streaming;
    await emitter.close();

    expect({ acked, refused }).toEqual({ acked: TOTAL, refused: 0 });
    const stored = await db.query<{ count: string }>("SELECT count(*) FROM events WHERE event_id LIKE 'fault-%'");
    expect(Number(stored.rows[0]!.count)).toBe(TOTAL);

    topic = await collectTopic(platform.env.ORRERY_EVENTS_TOPIC!);
    const distinct = await eventually(async () => new Set(topic.messages.map(eventIdOf).filter((id) => id.startsWith('fault-'))).size, {
      accept: (n) => n === TOTAL,
      timeoutMs: 90_000,
      what: `all ${TOTAL} event ids on Kafka`,
    });
    expect(distinct).toBe(TOTAL);
    // The relay is at-least-once: a kill between Kafka's ack and the outbox delete republishes
    // (same sequence); the projector's watermarks make those copies, and what a killed projector
    // applied but had not committed, no-ops. Each event has an item of its own, so its interaction
    // count says how many times it was applied: every one exactly once.

    const config = readConfig(platform.env);
    const redis = createRedis(config, 'fault-test');
    try {
      const items = Array.from({ length: TOTAL }, (_, n) => `fault-item-${n}`);
      expect(await interactionCountsOfItems(redis, config.redisPrefix, items)).toEqual({ '1': TOTAL });
    } finally {
      redis.disconnect();
    }
  });
});
