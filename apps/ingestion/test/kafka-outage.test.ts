// Kafka unreachable: ingestion keeps acknowledging (an ack means committed in Postgres, not
// published), the events wait unpublished, and once the relay reaches Kafka again every one of
// them is published exactly once. (The shared broker is never stopped: the outage is command
// pointed at a port where no broker listens, then restarted with the real one.)
import { readConfig } from '@orrery/config';
import { EventType } from '@orrery/proto';
import { eventually, freePort } from '@orrery/testing';
import { startCommand } from '../../command/src/service';
import { eventIdOf } from '../../command/test/kafka-collector';
import { silentLogger, startWriteSide, type WriteSide } from './harness';

jest.setTimeout(120_000);

describe('Kafka outage', () => {
  let side: WriteSide;
  beforeAll(async () => {
    side = await startWriteSide({ kafkaBrokers: [`127.0.0.1:${await freePort()}`] });
  });
  afterAll(() => side?.stop());

  it('when Kafka cannot be reached, events are still acknowledged and wait unpublished; once it can, each is published exactly once', async () => {
    for (let batch = 0; batch < 4; batch += 1) {
      const events = Array.from({ length: 500 }, (_, i) => ({ eventId: `outage-${batch * 500 + i}`, userId: `user-${i % 23}`, itemId: 'item-1', type: EventType.VIEW }));
      expect((await side.ingest.trackBatch({ events })).accepted).toBe(500);
    }
    expect(await side.unpublished()).toBe(2_000);
    expect(side.topic.messages.filter((message) => eventIdOf(message).startsWith('outage-'))).toEqual([]);

    await side.command.close();
    side.command = await startCommand({ ...side.config, kafkaBrokers: readConfig().kafkaBrokers }, silentLogger);

    await eventually(async () => side.topic.messages.filter((message) => eventIdOf(message).startsWith('outage-')).length, {
      accept: (n) => n >= 2_000,
      timeoutMs: 60_000,
      what: 'the 2000 waiting events on Kafka',
    });
    await eventually(async () => side.unpublished(), { accept: (n) => n === 0, what: 'nothing left unpublished' });
    const published = side.topic.messages.filter((message) => eventIdOf(message).startsWith('outage-'));
    expect(new Set(published.map(eventIdOf)).size).toBe(2_000);
    expect(published).toHaveLength(2_000);
  });
});
