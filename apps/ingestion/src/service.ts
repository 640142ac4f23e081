import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { randomUUID } from 'node:crypto';
import type { OrreryConfig } from '@orrery/config';
import { bindService, InFlightBudget, monitorDependencies, ServiceError, startGrpcServer, status, type CallContext } from '@orrery/grpc';
import { CatalogService, IngestService, TrackBatchRequestSchema, TrackBatchResponseSchema, type TrackBatchRequest } from '@orrery/proto';
import { trace, type Logger } from '@orrery/telemetry';
import { serveZmqRequests, ZmqRequestClient } from '@orrery/zmq';
import { countingAcks } from './ack-metrics';
import { withInFlightBudget, zmqCommandGateway } from './command-gateway';
import { withCoalescedAppends } from './coalescer';
import { LIMITS } from './validation';
import { deleteItem, forgetUser, track, trackBatch, trackStream, upsertItems, upsertUsers, type IngestDependencies } from './ingest';

// Appends ingestion keeps in flight to command. On a few cores, fewer and larger transactions
// commit more events per second than many small ones (each pays BEGIN, locks, COMMIT, fsync).
const COMMANDS_IN_FLIGHT = 4;

export interface RunningIngestion {
  /** The bound gRPC port (useful when config.ingestAddress asked for port 0). */
  readonly port: number;
  /** Stops taking requests, answers in-flight ones, then disconnects from command. */
  close(): Promise<void>;
}

/** Starts ingestion: gRPC IngestService + CatalogService on config.ingestAddress, the ZeroMQ batch endpoint on config.ingestZmqEndpoint. */
export async function startIngestion(config: OrreryConfig, logger: Logger): Promise<RunningIngestion> {
  const commandClient = new ZmqRequestClient({ endpoint: config.commandZmqEndpoint, name: 'command', timeoutMs: config.commandTimeoutMs });
  const deps: IngestDependencies = {
    // Group commit: at most COMMANDS_IN_FLIGHT appends at once, the requests queued meanwhile merged into one command.
    commands: countingAcks(
      withInFlightBudget(
        withCoalescedAppends(zmqCommandGateway(commandClient), { maxInFlight: COMMANDS_IN_FLIGHT, maxEvents: LIMITS.batch }),
        new InFlightBudget(
          config.ingestMaxInFlightEvents,
          config.ingestBackpressureWaitMs,
          ({ inFlight, capacity, waitedMs }) =>
            `ingestion is at its in-flight budget (${inFlight} of ${capacity} events awaiting commit; waited ${waitedMs} ms): retry with backoff and the same event ids`,
        ),
      ),
    ),
    defaults: () => ({ now: Date.now(), newEventId: randomUUID }),
  };
  // Never wait for command longer than the gRPC caller will wait for us.
  const timeoutFor = (call: CallContext): number => Math.max(1, Math.min(config.commandTimeoutMs, call.deadline - Date.now()));

  const grpcServer = await startGrpcServer({
    address: config.ingestAddress,
    services: [
      bindService(IngestService, {
        track: (request, call) => {
          trace.getActiveSpan()?.setAttributes({ 'orrery.user_id': request.event?.userId ?? '', 'orrery.item_id': request.event?.itemId ?? '', 'orrery.event_id': request.event?.eventId ?? '' });
          return track(deps, request.event, timeoutFor(call));
        },
        trackBatch: (request, call) => {
          trace.getActiveSpan()?.setAttribute('orrery.events', request.events.length);
          return trackBatch(deps, request, timeoutFor(call));
        },
        trackStream: (requests, call) => trackStream(deps, requests, () => timeoutFor(call)),
      }),
      bindService(CatalogService, {
        upsertItems: (request, call) => upsertItems(deps, request.items, timeoutFor(call)),
        upsertUsers: (request, call) => upsertUsers(deps, request.users, timeoutFor(call)),
        deleteItem: (request, call) => deleteItem(deps, request.itemId, timeoutFor(call)),
        forgetUser: (request, call) => forgetUser(deps, request.userId, timeoutFor(call)),
      }),
    ],
    onInternalError: (error, path) => logger.error({ err: error, path }, 'ingestion: request failed'),
    maxReceiveMessageBytes: config.ingestMaxMessageBytes,
  }).catch(async (error: unknown) => {
    await commandClient.close();
    throw error;
  });

  const zmqServer = await serveZmqRequests({
    endpoint: config.ingestZmqEndpoint,
    name: 'ingestion',
    logger,
    maxPayloadBytes: config.ingestMaxMessageBytes,
    handler: async (payload) => {
      const response = await trackBatch(deps, decodeTrackBatch(payload), config.commandTimeoutMs);
      return toBinary(TrackBatchResponseSchema, create(TrackBatchResponseSchema, response));
    },
  }).catch(async (error: unknown) => {
    await grpcServer.shutdown(0);
    await commandClient.close();
    throw error;
  });

  // NOT_SERVING while command does not answer: an ack needs its commit.
  const health = monitorDependencies(grpcServer, [{ name: 'command', probe: () => commandClient.probe(config.healthCheckIntervalMs) }], {
    intervalMs: config.healthCheckIntervalMs,
    logger,
  });

  return {
    port: grpcServer.port,
    close: async () => {
      await health.stop();
      await Promise.all([grpcServer.shutdown(config.commandTimeoutMs + 1_000), zmqServer.close()]);
      await commandClient.close();
    },
  };
}

/** The TrackBatchRequest of a public ZeroMQ payload; INVALID_ARGUMENT when it is not one. */
function decodeTrackBatch(payload: Buffer): TrackBatchRequest {
  try {
    return fromBinary(TrackBatchRequestSchema, payload);
  } catch {
    throw new ServiceError(status.INVALID_ARGUMENT, 'payload: not a serialized orrery.v1.TrackBatchRequest');
  }
}
