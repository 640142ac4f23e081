import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { groupMessagesPerPartition } from './message-grouping';

// Jest's module registry ignores Node's module cache, so this is kafkajs' own grouping: the oracle.
const kafkajsGrouping = require('kafkajs/src/producer/groupMessagesPerPartition') as typeof groupMessagesPerPartition;

describe('messages grouped per partition in one pass', () => {
  it("groups as kafkajs does: the same partitions, each with its messages in order, for random sends", () => {
    let seed = 5;
    const next = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    for (let send = 0; send < 200; send++) {
      const partitions = 1 + Math.floor(next() * 8);
      const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({ partitionId }));
      const messages = Array.from({ length: Math.floor(next() * 300) }, (_, n) => ({ key: `k${n}`, value: `v${n}`, partition: Math.floor(next() * partitions) }));
      const args = { topic: 'events', partitionMetadata, messages, partitioner: ({ message }: { message: { partition: number } }) => message.partition };
      expect(groupMessagesPerPartition(args)).toStrictEqual(kafkajsGrouping(args));
    }
    const noPartitions = { topic: 'events', partitionMetadata: [], messages: [{ partition: 0 }], partitioner: () => 0 };
    expect(groupMessagesPerPartition(noPartitions)).toStrictEqual(kafkajsGrouping(noPartitions));
  });

  // Node's module cache is what kafkajs reads when it loads: checked in plain node processes, on the build
  // (printing text: console.log colours booleans when FORCE_COLOR is set, as nx sets it).
  const run = (script: string): string => execFileSync(process.execPath, ['-e', script], { cwd: __dirname, encoding: 'utf8' }).trim();
  const built = JSON.stringify(join(__dirname, '..', 'dist', 'index.js'));

  it("once @orrery/kafka is loaded, kafkajs' producer loads this grouping", () => {
    expect(run(`const kafka = require(${built}); const sendMessages = require('kafkajs/src/producer/sendMessages'); console.log([typeof sendMessages, kafka.isMessageGroupingPreloaded(), require('kafkajs/src/producer/groupMessagesPerPartition') === kafka.groupMessagesPerPartition].join(' '))`)).toBe('function true true');
  });

  it('in a process that loaded kafkajs first, kafkajs keeps its own and the preload says so', () => {
    expect(run(`require('kafkajs'); const kafka = require(${built}); console.log([kafka.preloadMessageGrouping(), kafka.isMessageGroupingPreloaded()].join(' '))`)).toBe('false false');
  });
});
