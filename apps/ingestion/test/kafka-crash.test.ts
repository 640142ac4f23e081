// The Kafka broker is killed (SIGKILL) mid-stream and restarted, while command's relay is connected to
// it and publishing and a projector consumes from it (a private broker, so the shared engines are
// untouched): ingestion keeps acknowledging — an ack means committed in Postgres — and once the broker
// is back every acknowledged event is on the topic and applied by the projector exactly once. Delivery
// to Kafka stays at-least-once: the next relay session skips what each partition already ends with
// (published-tails.ts), but a resend inside one producer session can still leave a copy on the log
// (seen in 1 of 4 runs); the projector takes a fact at or below its partition's watermark for a copy.
import { ZmqEventEmitter } from '@orrery/client';
import { EventType } from '@orrery/proto';
import { eventually, freePort, interactionCountsOfItems } from '@orrery/testing';
import { eventIdOf } from '../../command/test/kafka-collector';
import { startSideProjector, startWriteSide, type SideProjector, type WriteSide } from './harness';
import { startPrivateKafka, type PrivateKafka } from './private-kafka';

jest.setTimeout(240_000);

const TOTAL = 4_000;
const CHUNK = 100;

describe('Kafka broker crash mid-stream', () => {
  let kafka: PrivateKafka;
  let side: WriteSide;
  let projector: SideProjector;

  beforeAll(async () => {
    kafka = await startPrivateKafka(await freePort(), await freePort());
    side = await startWriteSide({ kafkaBrokers: [kafka.broker] }, [kafka.broker]);
    projector = await startSideProjector(side, 'kafka-crash');
  });
  afterAll(async () => {
    await projector?.stop();
    await side?.stop();
    await kafka?.destroy();
  });

  it('when the broker is killed and restarted while the relay publishes, every acknowledged event ends up on Kafka and is applied once', async () => {
    const emitter = new ZmqEventEmitter({ endpoint: side.config.ingestZmqEndpoint, maxBatchEvents: CHUNK, backoff: { initialMs: 50, maxMs: 500 }, requestTimeoutMs: 5_000 });
    let acked = 0;
    const streaming = (async () => {
      for (let from = 0; from < TOTAL; from += CHUNK) {
        const outcomes = await Promise.all(
          Array.from({ length: CHUNK }, (_, k) => emitter.emit({ eventId: `broker-${from + k}`, userId: `user-${(from + k) % 41}`, itemId: `broker-item-${from + k}`, type: EventType.VIEW })),
        );
        acked += outcomes.filter((outcome) => outcome.accepted).length;
      }
    })();
    const published = (): string[] => side.topic.messages.map(eventIdOf).filter((id) => id.startsWith('broker-'));
    // Killed while the relay is connected and has published part of the stream.
    await eventually(async () => published().length, { accept: (n) => n >= TOTAL / 4, timeoutMs: 60_000, what: 'a quarter of the stream on Kafka' });
    await kafka.kill();
    const ackedWhileDown = acked;
    await eventually(async () => acked, { accept: (n) => n > ackedWhileDown, timeoutMs: 60_000, what: 'acknowledgements while the broker is down' });
    await kafka.start();
    await streaming;
    await emitter.close();
    expect(acked).toBe(TOTAL);
    expect(await side.count('events', "event_id LIKE 'broker-%'")).toBe(TOTAL);

    await eventually(async () => new Set(published()).size, { accept: (n) => n === TOTAL, timeoutMs: 120_000, what: `all ${TOTAL} on Kafka` });
    await eventually(async () => side.unpublished(), { accept: (n) => n === 0, timeoutMs: 60_000, what: 'nothing left unpublished' });
    const expected = new Set(Array.from({ length: TOTAL }, (_, n) => `broker-${n}`));
    expect(new Set(published())).toEqual(expected);

    // Each event has an item of its own: its interaction count is how many times it was applied.
    const items = Array.from({ length: TOTAL }, (_, n) => `broker-item-${n}`);
    expect(await interactionCountsOfItems(projector.redis, projector.redisPrefix, items)).toEqual({ '1': TOTAL });
  });
});
