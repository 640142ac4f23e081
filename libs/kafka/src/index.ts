// First: it must reach Node's module cache before kafkajs loads (message-grouping.ts).
import './message-grouping';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { ConfigResourceTypes, Kafka, logLevel, type Admin, type Consumer } from 'kafkajs';
import type { OrreryConfig } from '@orrery/config';
import { DomainEventSchema, type DomainEvent } from '@orrery/proto';
import { repairFetchDecoding } from './fetch-decoding';
import { repairIdleRequestQueues } from './idle-request-queue';
import { repairProduceEncoding } from './produce-encoding';

/**
 * A kafkajs client for the configured brokers, without kafkajs' idle 1 ms timer
 * (repairIdleRequestQueues), with Produce requests encoded (repairProduceEncoding) and Fetch responses
 * decoded (repairFetchDecoding) in one pass.
 */
export function createKafka(config: Pick<OrreryConfig, 'kafkaBrokers' | 'kafkaClientId'>, clientSuffix: string): Kafka {
  repairIdleRequestQueues();
  repairProduceEncoding();
  repairFetchDecoding();
  return new Kafka({
    clientId: `${config.kafkaClientId}-${clientSuffix}`,
    brokers: [...config.kafkaBrokers],
    logLevel: logLevel.WARN,
    retry: { initialRetryTime: 100, retries: 8 },
  });
}

/**
 * Topic settings that keep every message for good. The events topic is the history that a rebuild
 * and a new consumer group replay from offset 0: a retention that deletes segments (broker default
 * log.retention.hours, 24 h on the local stack) would make them build from part of it, silently.
 */
export const KEEP_WHOLE_HISTORY: Readonly<Record<'retention.ms' | 'retention.bytes', string>> = { 'retention.ms': '-1', 'retention.bytes': '-1' };

/**
 * Creates the events topic, keeping its whole history (KEEP_WHOLE_HISTORY), when it does not exist
 * yet (idempotent; auto-creation is off on our brokers). An existing topic is left as it is: see
 * historyDeletingSettings.
 */
export async function ensureTopic(kafka: Kafka, topic: string, partitions: number): Promise<void> {
  const admin: Admin = kafka.admin();
  await admin.connect();
  try {
    const existing = await admin.listTopics();
    if (!existing.includes(topic)) {
      const configEntries = Object.entries(KEEP_WHOLE_HISTORY).map(([name, value]) => ({ name, value }));
      await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1, configEntries }], waitForLeaders: true });
    }
  } finally {
    await admin.disconnect();
  }
}

/** A topic setting, as the broker reports it (its own or the broker default it inherits). */
export interface TopicSetting {
  readonly name: string;
  readonly value: string;
}

/**
 * The settings of `topic` under which the broker deletes messages: a finite retention.ms or
 * retention.bytes, or a cleanup.policy with compaction (keeps only the last message of a key).
 * Empty when the topic keeps its whole history.
 */
export async function historyDeletingSettings(kafka: Kafka, topic: string): Promise<TopicSetting[]> {
  const admin: Admin = kafka.admin();
  await admin.connect();
  try {
    const described = await admin.describeConfigs({
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['retention.ms', 'retention.bytes', 'cleanup.policy'] }],
      includeSynonyms: false,
    });
    const entries = described.resources[0]?.configEntries ?? [];
    return entries
      .filter(({ configName, configValue }) => (configName === 'cleanup.policy' ? configValue.includes('compact') : configValue !== '-1'))
      .map(({ configName, configValue }) => ({ name: configName, value: configValue }));
  } finally {
    await admin.disconnect();
  }
}

/** The command that makes `topic` keep its whole history from now on (for messages to operators). */
export function keepWholeHistoryCommand(topic: string): string {
  const settings = Object.entries({ ...KEEP_WHOLE_HISTORY, 'cleanup.policy': 'delete' }).map(([name, value]) => `${name}=${value}`);
  return `kafka-configs.sh --bootstrap-server <broker> --alter --entity-type topics --entity-name ${topic} --add-config ${settings.join(',')}`;
}

/** A partition of a topic whose first messages the broker has deleted (its low watermark is above 0). */
export interface DeletedHistory {
  readonly partition: number;
  /** Messages gone: offsets 0 up to the partition's first offset. */
  readonly deletedMessages: number;
}

/** The partitions, among `offsets` (admin.fetchTopicOffsets), that no longer start at offset 0. */
export function deletedHistory(offsets: readonly { partition: number; low: string }[]): DeletedHistory[] {
  return offsets
    .filter(({ low }) => Number(low) > 0)
    .map(({ partition, low }) => ({ partition, deletedMessages: Number(low) }))
    .sort((a, b) => a.partition - b.partition);
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
export * from './fetch-decoding';
export * from './idle-request-queue';
export * from './kafkajs-internals';
export * from './message-grouping';
export * from './partitioner';
export * from './produce-encoding';
export * from './restarting-consumer';
