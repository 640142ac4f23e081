// Postgres crashes mid-stream (a private server, so the shared engines are untouched): emitters
// keep retrying with the same ids, and afterwards acked == stored == distinct on Kafka == applied
// once by a projector.
import { ZmqEventEmitter } from '@orrery/client';
import { EventType } from '@orrery/proto';
import { eventually, freePort, interactionCountsOfItems } from '@orrery/testing';
import { Client } from 'pg';
import { eventIdOf } from '../../command/test/kafka-collector';
import { startSideProjector, startWriteSide, type SideProjector, type WriteSide } from './harness';
import { startPrivatePostgres, type PrivatePostgres } from './private-postgres';

jest.setTimeout(180_000);

const TOTAL = 3_000;
const CHUNK = 100;

describe('Postgres crash mid-stream', () => {
  let postgres: PrivatePostgres;
  let side: WriteSide;
  let projector: SideProjector;

  beforeAll(async () => {
    postgres = startPrivatePostgres(await freePort());
    side = await startWriteSide({ postgresUrl: postgres.url, commandTimeoutMs: 1_000 });
    projector = await startSideProjector(side, 'postgres-fault');
  });
  afterAll(async () => {
    await projector?.stop();
    await side?.stop();
    postgres?.destroy();
  });

  it('when Postgres crashes and restarts while events stream in, every acknowledged event is stored once, published and applied once, none lost', async () => {
    const emitter = new ZmqEventEmitter({ endpoint: side.config.ingestZmqEndpoint, maxBatchEvents: CHUNK, backoff: { initialMs: 50, maxMs: 500 }, requestTimeoutMs: 5_000 });
    let acked = 0;
    const streaming = (async () => {
      for (let from = 0; from < TOTAL; from += CHUNK) {
        const outcomes = await Promise.all(
          Array.from({ length: CHUNK }, (_, k) => emitter.emit({ eventId: `pg-${from + k}`, userId: `user-${(from + k) % 37}`, itemId: `pg-item-${from + k}`, type: EventType.CLICK })),
        );
        acked += outcomes.filter((outcome) => outcome.accepted).length;
      }
    })();
    await eventually(async () => acked, { accept: (n) => n >= TOTAL / 3, timeoutMs: 60_000, what: 'a third acknowledged' });
    postgres.crash();
    const retriesBefore = emitter.stats.retries;
    await eventually(async () => emitter.stats.retries, { accept: (n) => n > retriesBefore, what: 'the emitter retrying while Postgres is down' });
    postgres.start();
    await streaming;
    await emitter.close();
    expect(acked).toBe(TOTAL);

    const db = new Client({ connectionString: postgres.url });
    await db.connect();
    try {
      expect(Number((await db.query<{ count: string }>("SELECT count(*) FROM events WHERE event_id LIKE 'pg-%'")).rows[0]!.count)).toBe(TOTAL);
    } finally {
      await db.end();
    }
    const distinct = await eventually(async () => new Set(side.topic.messages.map(eventIdOf).filter((id) => id.startsWith('pg-'))).size, {
      accept: (n) => n === TOTAL,
      timeoutMs: 90_000,
      what: `all ${TOTAL} on Kafka`,
    });
    expect(distinct).toBe(TOTAL);
    // Each event has an item of its own: its interaction count is how many times it was applied.
    const items = Array.from({ length: TOTAL }, (_, n) => `pg-item-${n}`);
    expect(await interactionCountsOfItems(projector.redis, projector.redisPrefix, items)).toEqual({ '1': TOTAL });
  });
});
