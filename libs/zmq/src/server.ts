import { Router } from 'zeromq';
import { status, toServiceError } from '@orrery/grpc';
import { rpcServerDuration, rpcServerRequests, secondsSince } from '@orrery/metrics';
import { contextFromTraceparent, SpanKind, SpanStatusCode, withSpan, type Logger } from '@orrery/telemetry';
import { OK_STATUS, parseRequestFrames, payloadTooLarge, PROBE_TRACEPARENT } from './frames';
import { SerialSender } from './serial-sender';

/** Handles one request payload; throw a ServiceError to answer with its status. */
export type ZmqRequestHandler = (payload: Buffer) => Promise<Uint8Array>;

export interface ZmqServerOptions {
  readonly endpoint: string;
  /** Used in span names: `<name> serve`. */
  readonly name: string;
  readonly handler: ZmqRequestHandler;
  readonly logger: Logger;
  /** Requests handled at once; further ones wait in ZeroMQ's queue (backpressure). Default 64. */
  readonly maxInFlight?: number;
  /**
   * Largest payload handled, in bytes (default 16 MiB): a larger one is answered INVALID_ARGUMENT
   * (payloadTooLarge in frames.ts) without being handled. A frame above 4× this is dropped by ZeroMQ itself (it disconnects that
   * peer before reading it), so no peer can make the server buffer an unbounded message.
   */
  readonly maxPayloadBytes?: number;
}

/** The default of ZmqServerOptions.maxPayloadBytes. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;

export interface RunningZmqServer {
  /** Stops taking requests and waits for in-flight ones to be answered. */
  close(): Promise<void>;
}

/** Binds a ROUTER at `endpoint` and answers each request with the handler's result (see frames.ts). */
export async function serveZmqRequests(options: ZmqServerOptions): Promise<RunningZmqServer> {
  const maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  const router = new Router({ linger: 0, receiveHighWaterMark: 10_000, sendHighWaterMark: 10_000, maxMessageSize: maxPayloadBytes * 4 });
  await router.bind(options.endpoint);
  const sender = new SerialSender(router);
  const maxInFlight = options.maxInFlight ?? 64;
  let inFlight = 0;
  let slotFreed: (() => void) | undefined;
  const handling = new Set<Promise<void>>();

  // Refusals before the handler (malformed frames, oversized payloads) count as INVALID_ARGUMENT answers.
  const countRefusal = (): void => void rpcServerRequests.inc({ transport: 'zeromq', method: options.name, code: status[status.INVALID_ARGUMENT] });
  const answer = async (frames: Buffer[]): Promise<void> => {
    const request = parseRequestFrames(frames);
    if (typeof request === 'string') {
      const [identity, requestId] = frames;
      options.logger.warn({ reason: request }, `${options.name}: malformed ZeroMQ request`);
      countRefusal();
      if (identity && requestId) await sender.send([identity, requestId, String(status.INVALID_ARGUMENT), request]);
      return;
    }
    if (request.traceparent === PROBE_TRACEPARENT) {
      await sender.send([request.identity, request.requestId, OK_STATUS, '']);
      return;
    }
    if (request.payload.length > maxPayloadBytes) {
      options.logger.warn({ bytes: request.payload.length, maxPayloadBytes }, `${options.name}: oversized ZeroMQ request refused`);
      const refusal = payloadTooLarge(request.payload.length, maxPayloadBytes);
      countRefusal();
      await sender.send([request.identity, request.requestId, String(refusal.code), refusal.message]);
      return;
    }
    const started = process.hrtime.bigint();
    const reply = await withSpan(
      `${options.name} serve`,
      { kind: SpanKind.SERVER, parent: contextFromTraceparent(request.traceparent), attributes: { 'messaging.system': 'zeromq', 'rpc.system': 'zeromq' } },
      async (span) => {
        try {
          const body = await options.handler(request.payload);
          span.setAttribute('rpc.grpc.status_code', status.OK);
          return [OK_STATUS, body] as const;
        } catch (error) {
          const serviceError = toServiceError(error);
          if (serviceError.code === status.INTERNAL || serviceError.code === status.UNKNOWN) {
            options.logger.error({ err: serviceError }, `${options.name}: request failed`);
          }
          // Answered, not thrown: withSpan would not see the failure, so the span is marked failed
          // here, as a gRPC server span is for any status but OK (@orrery/grpc's startServerSpan).
          span.setAttribute('rpc.grpc.status_code', serviceError.code);
          span.setStatus({ code: SpanStatusCode.ERROR, message: serviceError.message });
          return [String(serviceError.code), serviceError.message] as const;
        }
      },
    );
    await sender.send([request.identity, request.requestId, reply[0], reply[1]]);
    rpcServerRequests.inc({ transport: 'zeromq', method: options.name, code: status[Number(reply[0]) as status] });
    rpcServerDuration.observe({ transport: 'zeromq', method: options.name }, secondsSince(started));
  };

  const loop = (async () => {
    try {
      for await (const frames of router) {
        while (inFlight >= maxInFlight) await new Promise<void>((resolve) => (slotFreed = resolve));
        inFlight += 1;
        const done = answer(frames as Buffer[])
          .catch((error: unknown) => options.logger.error({ err: error }, `${options.name}: could not reply`))
          .finally(() => {
            inFlight -= 1;
            handling.delete(done);
            slotFreed?.();
            slotFreed = undefined;
          });
        handling.add(done);
      }
    } catch (error) {
      if (!router.closed) options.logger.error({ err: error }, `${options.name}: receive loop stopped`);
    }
  })();

  return {
    close: async () => {
      await Promise.allSettled([...handling]);
      router.close();
      await loop;
    },
  };
}
