// The events topic keeps its whole history, against the real broker: created with retention -1,
// a topic that deletes history is reported, and a partition whose first messages were deleted is found.
import { ConfigResourceTypes, logLevel, Kafka, type Admin } from 'kafkajs';
import { readConfig } from '@orrery/config';
import { createTestTopic, deleteTestTopic, uniqueName } from '@orrery/testing';
import { deletedHistory, ensureTopic, historyDeletingSettings } from '../src/index';

jest.setTimeout(60_000);

const config = readConfig();
const kafka = new Kafka({ clientId: 'orrery-history-test', brokers: [...config.kafkaBrokers], logLevel: logLevel.NOTHING });
let admin: Admin;
const topics: string[] = [];

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
});

afterAll(async () => {
  await admin.disconnect();
  await Promise.all(topics.map((topic) => deleteTestTopic(topic)));
});

async function topicSettings(topic: string): Promise<Record<string, string>> {
  const described = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['retention.ms', 'retention.bytes'] }], includeSynonyms: false });
  return Object.fromEntries(described.resources[0]!.configEntries.map(({ configName, configValue }) => [configName, configValue]));
}

it('when the events topic is created, the broker keeps its messages for good (retention.ms and retention.bytes -1)', async () => {
  const topic = uniqueName('orrery-test-history').replace(/_/g, '-');
  topics.push(topic);
  await ensureTopic(kafka, topic, 2);
  expect(await topicSettings(topic)).toEqual({ 'retention.ms': '-1', 'retention.bytes': '-1' });
  expect(await historyDeletingSettings(kafka, topic)).toEqual([]);
});

it('when a topic inherits a finite retention (the broker default), the setting that deletes history is reported', async () => {
  const topic = await createTestTopic(1);
  topics.push(topic);
  const { 'retention.ms': retention } = await topicSettings(topic);
  expect(retention).not.toBe('-1');
  expect(await historyDeletingSettings(kafka, topic)).toEqual([{ name: 'retention.ms', value: retention }]);
});

it('when the first messages of a partition are deleted, that partition and how many are gone are found', async () => {
  const topic = await createTestTopic(2);
  topics.push(topic);
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic, messages: Array.from({ length: 5 }, (_, index) => ({ partition: 1, value: `m${index}` })) });
    await producer.send({ topic, messages: [{ partition: 0, value: 'kept' }] });
  } finally {
    await producer.disconnect();
  }
  expect(deletedHistory(await admin.fetchTopicOffsets(topic))).toEqual([]);
  await admin.deleteTopicRecords({ topic, partitions: [{ partition: 1, offset: '3' }] });
  expect(deletedHistory(await admin.fetchTopicOffsets(topic))).toEqual([{ partition: 1, deletedMessages: 3 }]);
});
