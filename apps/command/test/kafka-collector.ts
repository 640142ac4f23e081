// Test helper: reads every message of a topic from the beginning into memory.
import { logLevel, Kafka, type KafkaMessage } from 'kafkajs';
import { readConfig } from '@orrery/config';
import { decodeDomainEvent } from '@orrery/kafka';
import type { DomainEvent } from '@orrery/proto';
import { uniqueName } from '@orrery/testing';

/** A message as the tests look at it. */
export interface CollectedMessage {
  readonly key: string;
  readonly partition: number;
  readonly event: DomainEvent;
  readonly traceparent: string | undefined;
}

export interface TopicCollector {
  readonly messages: CollectedMessage[];
  stop(): Promise<void>;
}

/** Starts consuming `topic` (on `brokers`, default the configured ones) from the beginning with a fresh consumer group. */
export async function collectTopic(topic: string, brokers: readonly string[] = readConfig().kafkaBrokers): Promise<TopicCollector> {
  const kafka = new Kafka({ clientId: 'orrery-test-collector', brokers: [...brokers], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: uniqueName('test-collector'), maxWaitTimeInMs: 100 });
  const messages: CollectedMessage[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }: { partition: number; message: KafkaMessage }) => {
      const traceparent = message.headers?.traceparent;
      messages.push({
        key: message.key?.toString() ?? '',
        partition,
        event: decodeDomainEvent(message.value ?? Buffer.alloc(0)),
        traceparent: traceparent === undefined ? undefined : traceparent.toString(),
      });
    },
  });
  return { messages, stop: () => consumer.disconnect() };
}

/** The event id of an interaction message ('' for catalog changes). */
export function eventIdOf(message: CollectedMessage): string {
  return message.event.payload.case === 'interaction' ? message.event.payload.value.eventId : '';
}
