// A consumer whose handler fails with an error kafkajs does not restart from is replaced, against
// the real broker: the message that made it crash is consumed by the replacement.
import { logLevel, Kafka, type Consumer } from 'kafkajs';
import { readConfig } from '@orrery/config';
import { createTestTopic, deleteTestTopic, eventually, uniqueName } from '@orrery/testing';
import { keepConsumerRunning, type RestartingConsumer } from '../src/index';

jest.setTimeout(60_000);

const config = readConfig();
const kafka = new Kafka({ clientId: 'orrery-restart-test', brokers: [...config.kafkaBrokers], logLevel: logLevel.NOTHING });
let topic: string;
let running: RestartingConsumer | undefined;

beforeAll(async () => {
  topic = await createTestTopic(1);
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: [{ key: 'k', value: 'poison the first time' }] });
  await producer.disconnect();
});

afterAll(async () => {
  await running?.close();
  await deleteTestTopic(topic);
});

it('when the handler throws an error kafkajs gives up on, a new consumer is started and consumes the message', async () => {
  const groupId = uniqueName('restart');
  const handled: string[] = [];
  const crashes: { message: string; restartInMs: number }[] = [];
  let starts = 0;
  const start = async (): Promise<Consumer> => {
    const attempt = ++starts;
    const consumer = kafka.consumer({ groupId, retry: { retries: 0 } });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (attempt === 1) throw new TypeError('a bug in the handler');
        handled.push(String(message.value));
      },
    });
    return consumer;
  };
  running = await keepConsumerRunning(start, { initialBackoffMs: 100, onCrash: (error, restartInMs) => crashes.push({ message: error.message, restartInMs }) });

  await eventually(async () => handled.length > 0, { what: 'the replacement consumer to handle the message', timeoutMs: 40_000 });
  expect(handled).toEqual(['poison the first time']);
  expect(starts).toBe(2);
  expect(crashes).toEqual([{ message: expect.stringContaining('a bug in the handler'), restartInMs: 100 }]);
});

it('when asked to replace its consumer (twice in a row), it disconnects it and starts one new consumer after the pause, which reads from the committed offsets', async () => {
  const groupId = uniqueName('replace');
  const handledBy: number[] = [];
  const crashes: { message: string; restartInMs: number }[] = [];
  let starts = 0;
  const start = async (): Promise<Consumer> => {
    const attempt = ++starts;
    const consumer = kafka.consumer({ groupId });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    // Nothing is committed, so a replacement reads the message again.
    await consumer.run({ autoCommit: false, eachMessage: async () => void handledBy.push(attempt) });
    return consumer;
  };
  const replacing = await keepConsumerRunning(start, { initialBackoffMs: 100, onCrash: (error, restartInMs) => crashes.push({ message: error.message, restartInMs }) });
  try {
    await eventually(async () => handledBy.length > 0, { what: 'the first consumer to handle the message', timeoutMs: 30_000 });
    replacing.replace(new Error('an apply failed'));
    replacing.replace(new Error('and another one'));
    await eventually(async () => handledBy.includes(2), { what: 'the replacement to handle the message again', timeoutMs: 40_000 });
    expect(handledBy).toEqual([1, 2]);
    expect(starts).toBe(2);
    expect(crashes).toEqual([{ message: 'an apply failed', restartInMs: 100 }]);
  } finally {
    await replacing.close();
  }
});
