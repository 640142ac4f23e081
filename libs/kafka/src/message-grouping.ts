// kafkajs 2.2.4 groups a send's messages per partition (producer/groupMessagesPerPartition.js) by
// copying the partition's array on every message (`[...current, message]`): quadratic in a partition's
// messages, ~4% of the command's CPU under `bench ingest` (2,000-message relay sends over 4 partitions).
// sendMessages.js takes the function when kafkajs loads, so it cannot be replaced afterwards: this
// module puts groupMessagesPerPartition in Node's module cache under kafkajs' path before kafkajs is
// first required (libs/kafka's index imports it first). A process that loads kafkajs before
// @orrery/kafka keeps kafkajs' own; jest's module registry does not read Node's cache either.
import Module from 'node:module';
import { isRepairedKafkajsVersion } from './kafkajs-internals';

/** What kafkajs' grouping takes (sendMessages.js). */
export interface MessagesToGroup<M> {
  readonly topic: string;
  readonly partitionMetadata: readonly unknown[];
  readonly messages: readonly M[];
  readonly partitioner: (args: { topic: string; partitionMetadata: readonly unknown[]; message: M }) => number;
}

/** A send's messages by partition, in their order: kafkajs' result, in one pass. */
export function groupMessagesPerPartition<M>({ topic, partitionMetadata, messages, partitioner }: MessagesToGroup<M>): Record<number, M[]> {
  const groups: Record<number, M[]> = {};
  if (partitionMetadata.length === 0) return groups;
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    const group = groups[partition];
    if (group) group.push(message);
    else groups[partition] = [message];
  }
  return groups;
}

const GROUPING_MODULE = 'kafkajs/src/producer/groupMessagesPerPartition';

/**
 * Puts groupMessagesPerPartition in Node's module cache as kafkajs' grouping module, unless kafkajs
 * loaded its own already (its producer loads it with kafkajs). True when kafkajs' producer uses it (or
 * will once loaded); false for another kafkajs version than REPAIRED_KAFKAJS_VERSION, or when kafkajs
 * loaded its own first.
 */
export function preloadMessageGrouping(): boolean {
  if (!isRepairedKafkajsVersion()) return false;
  const groupingPath = require.resolve(GROUPING_MODULE);
  const cached = require.cache[groupingPath];
  if (cached) return cached.exports === groupMessagesPerPartition;
  const replacement = new Module(groupingPath);
  replacement.filename = groupingPath;
  replacement.loaded = true;
  replacement.exports = groupMessagesPerPartition;
  require.cache[groupingPath] = replacement;
  return true;
}

/** Whether kafkajs' producer of this process groups messages with groupMessagesPerPartition (preloadMessageGrouping). */
export function isMessageGroupingPreloaded(): boolean {
  return require.cache[require.resolve(GROUPING_MODULE)]?.exports === groupMessagesPerPartition;
}

preloadMessageGrouping();
