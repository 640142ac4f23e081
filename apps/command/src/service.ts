import type { OrreryConfig } from '@orrery/config';
import { status, toServiceError } from '@orrery/grpc';
import { createKafka } from '@orrery/kafka';
import { createPool, migrate } from '@orrery/store';
import { currentTraceparent, type Logger } from '@orrery/telemetry';
import { serveZmqRequests } from '@orrery/zmq';
import { decodeCommand, encodeReply, executeCommand } from './commands';
import { startOutboxRelay } from './outbox-relay';
import { appendLane } from './append-lane';

// Events of one group-committed append transaction: enough for the append commands queued behind a
// running transaction to go in one commit (ingestion keeps 4 in flight, of at most 10,000 events
// each), few enough that one transaction stays well under a second.
const APPEND_TRANSACTION_MAX_EVENTS = 20_000;

export interface RunningCommand {
  /** Stops taking commands, finishes in-flight ones, flushes the outbox, closes connections. */
  close(): Promise<void>;
}

/** Starts the command service: migrates Postgres, serves commands on config.commandZmqEndpoint, relays the outbox. */
export async function startCommand(config: OrreryConfig, logger: Logger): Promise<RunningCommand> {
  const pool = createPool(config, logger);
  try {
    await migrate(pool, { logger });
  } catch (error) {
    await pool.end();
    throw error;
  }
  const relay = startOutboxRelay({
    postgresUrl: config.postgresUrl,
    kafka: createKafka(config, 'command-relay'),
    topic: config.eventsTopic,
    partitions: config.eventsTopicPartitions,
    batchSize: config.outboxBatchSize,
    pollIntervalMs: config.outboxPollIntervalMs,
    lingerMs: config.outboxLingerMs,
    logger,
  });
  const store = { pool, appendEvents: appendLane(pool, APPEND_TRANSACTION_MAX_EVENTS) };
  const server = await serveZmqRequests({
    endpoint: config.commandZmqEndpoint,
    name: 'command',
    logger,
    handler: async (payload) => {
      try {
        // The traceparent of this command's span rides along in the outbox rows.
        return encodeReply(await executeCommand(store, decodeCommand(payload), currentTraceparent()));
      } catch (error) {
        const serviceError = toServiceError(error);
        if (serviceError.code === status.UNAVAILABLE) logger.error({ err: error }, 'command: not committed');
        throw serviceError;
      }
    },
  }).catch(async (error: unknown) => {
    await relay.stop();
    await pool.end();
    throw error;
  });
  return {
    close: async () => {
      await server.close();
      await relay.stop();
      await pool.end();
    },
  };
}
