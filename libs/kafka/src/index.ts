import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { Kafka, logLevel, type Admin, type Consumer } from 'kafkajs';
import type { OrreryConfig } from '@orrery/config';
import { DomainEventSchema, type DomainEvent } from '@orrery/proto';

/** A kafkajs client for the configured brokers. */
export function createKafka(config: Pick<OrreryConfig, 'kafkaBrokers' | 'kafkaClientId'>, clientSuffix: string): Kafka {
  return new Kafka({
    clientId: `${config.kafkaClientId}-${clientSuffix}`,
    brokers: [...config.kafkaBrokers],
    logLevel: logLevel.WARN,
    retry: { initialRetryTime: 100, retries: 8 },
  });
}

/** Creates the topic when it does not exist yet (idempotent; auto-creation is off on our brokers). */
export async function ensureTopic(kafka: Kafka, topic: string, partitions: number): Promise<void> {
  const admin: Admin = kafka.admin();
  await admin.connect();
  try {
    const existing = await admin.listTopics();
    if (!existing.includes(topic)) {
      await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true });
    }
  } finally {
    await admin.disconnect();
  }
}

/** Disconnects a consumer of a throwaway group and deletes the group, so one-off reads leave no group behind. */
export async function closeThrowawayConsumer(kafka: Kafka, consumer: Consumer, groupId: string): Promise<void> {
  await consumer.disconnect();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteGroups([groupId]).catch(() => undefined);
  await admin.disconnect();
}

/**
 * The partition key of a domain event: interactions by user (one user's events stay ordered),
 * catalog changes by the item or user they change.
 */
export function domainEventKey(event: DomainEvent): string {
  switch (event.payload.case) {
    case 'interaction':
      return event.payload.value.userId;
    case 'itemUpserted':
      return `item:${event.payload.value.itemId}`;
    case 'userUpserted':
      return event.payload.value.userId;
    case 'itemDeleted':
      return `item:${event.payload.value.itemId}`;
    case 'userForgotten':
      return event.payload.value.userId;
    case undefined:
      throw new Error(`domain event ${event.sequence} has no payload`);
    default: {
      const unreachable: never = event.payload;
      throw new Error(`unknown domain event payload ${String(unreachable)}`);
    }
  }
}

/** Kafka message value of a domain event. */
export function encodeDomainEvent(event: DomainEvent): Buffer {
  return Buffer.from(toBinary(DomainEventSchema, event));
}

/** Decodes a Kafka message value into a domain event. */
export function decodeDomainEvent(value: Buffer): DomainEvent {
  return fromBinary(DomainEventSchema, value);
}
