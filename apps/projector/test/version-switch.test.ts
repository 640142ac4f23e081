// The live projector following the version pointer (real Kafka and Redis): a switch whose new consumer
// fails to start (a broker hiccup at that moment) must not leave the projector applying nothing.
import { Kafka, type Consumer, type ConsumerConfig } from 'kafkajs';
import type { OrreryConfig } from '@orrery/config';
import { controlKeys, projectionKeys, projectorGroupOf, versionPrefix } from '@orrery/projections';
import { eventually } from '@orrery/testing';
import { interaction, publish } from './domain-events';
import { openProjectorFixture, type ProjectorFixture } from './projector-fixture';

jest.setTimeout(120_000);

let fixture: ProjectorFixture;
let config: OrreryConfig;

beforeAll(async () => {
  fixture = await openProjectorFixture('version-switch', { logLevel: 'silent' });
  config = await fixture.deployment('version_switch');
});

afterAll(async () => {
  jest.restoreAllMocks();
  await fixture.close();
});

it('when the consumer of the version switched to fails to start, the projector starts it again and projects that version', async () => {
  const projector = await fixture.startProjector(config);
  await publish(fixture.producer, config.eventsTopic, [interaction({ userId: 'before', itemId: 'i1' })]);
  await eventually(() => fixture.redis.exists(projectionKeys(versionPrefix(config.redisPrefix, 0)).user('before').recent), { accept: (found) => found === 1, what: 'version 0 projected' });

  // The first consumer of version 1's group cannot connect (the broker unreachable for a moment).
  const consumerOf = Kafka.prototype.consumer;
  let refused = 0;
  jest.spyOn(Kafka.prototype, 'consumer').mockImplementation(function (this: Kafka, options: ConsumerConfig): Consumer {
    const consumer = consumerOf.call(this, options);
    if (options.groupId === projectorGroupOf(config.projectorGroup, 1) && refused === 0) {
      refused += 1;
      consumer.connect = () => Promise.reject(new Error('broker unreachable (test)'));
    }
    return consumer;
  });
  await fixture.redis.set(controlKeys(config.redisPrefix).version, '1');
  await eventually(async () => refused, { accept: (count) => count === 1, what: "version 1's consumer to be refused once" });

  await publish(fixture.producer, config.eventsTopic, [interaction({ userId: 'after', itemId: 'i1' })]);
  // Before, the switch was not tried again: the old consumer closed, no new one, nothing applied for good.
  await eventually(() => fixture.redis.exists(projectionKeys(versionPrefix(config.redisPrefix, 1)).user('after').recent), { accept: (found) => found === 1, what: 'version 1 projected', timeoutMs: 30_000 });
  expect(projector.version()).toBe(1);
});
