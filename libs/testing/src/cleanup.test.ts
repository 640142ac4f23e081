import { Kafka, logLevel } from 'kafkajs';
import { readConfig } from '@orrery/config';
import { createRedis } from '@orrery/projections';
import { createTestTopic, deleteTestKeys, deleteTestTopic, eventually, uniqueName } from './index';

jest.setTimeout(60_000);

async function topicExists(topic: string): Promise<boolean> {
  const admin = new Kafka({ clientId: 'orrery-test', brokers: [...readConfig().kafkaBrokers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    return (await admin.listTopics()).includes(topic);
  } finally {
    await admin.disconnect();
  }
}

it('when a test topic is deleted, the broker no longer has it, and deleting it again is not an error', async () => {
  const topic = await createTestTopic(2);
  expect(await topicExists(topic)).toBe(true);
  await deleteTestTopic(topic);
  expect(await topicExists(topic)).toBe(false);
  await expect(deleteTestTopic(topic)).resolves.toBeUndefined();
});

it('when a test topic is deleted, the consumer groups that read it are gone too (the broker drops their offsets with the topic)', async () => {
  const topic = await createTestTopic(2);
  const group = uniqueName('cleanup-reader');
  const kafka = new Kafka({ clientId: 'orrery-test', brokers: [...readConfig().kafkaBrokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ value: 'one' }, { value: 'two' }] });
    await producer.disconnect();
    // A reader that commits what it read and leaves, as test collectors, bench watchers and projectors do.
    const consumer = kafka.consumer({ groupId: group, maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    let read = 0;
    let allRead: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (allRead = resolve));
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        await consumer.commitOffsets([{ topic, partition, offset: String(Number(message.offset) + 1) }]);
        if (++read === 2) allRead();
      },
    });
    await done;
    await consumer.disconnect();
    const groupIds = async (): Promise<string[]> => (await admin.listGroups()).groups.map(({ groupId }) => groupId);
    expect(await groupIds()).toContain(group);

    await deleteTestTopic(topic);
    await eventually(async () => !(await groupIds()).includes(group), { what: `group ${group} to be gone with its topic` });
  } finally {
    await admin.disconnect();
  }
});

it('when the keys of a prefix are deleted, every one of them is gone (more than one SCAN page) and a neighbouring prefix keeps its keys', async () => {
  const redis = createRedis(readConfig(), 'cleanup-test');
  const [doomed, kept] = [uniqueName('cleanup'), uniqueName('cleanup')];
  try {
    const keys = Array.from({ length: 2_500 }, (_, index) => `${doomed}:{u${index}}:recent`);
    for (let start = 0; start < keys.length; start += 500) await redis.mset(...keys.slice(start, start + 500).flatMap((key) => [key, '1']));
    await redis.set(`${kept}:{u1}:recent`, '1');
    // Same leading characters, no separator: not under the prefix.
    await redis.set(`${doomed}x:{u1}:recent`, '1');

    expect(await deleteTestKeys(doomed)).toBe(2_500);
    expect(await redis.exists(...keys)).toBe(0);
    expect(await redis.exists(`${kept}:{u1}:recent`, `${doomed}x:{u1}:recent`)).toBe(2);
  } finally {
    await redis.unlink(`${kept}:{u1}:recent`, `${doomed}x:{u1}:recent`);
    await redis.quit();
  }
});
