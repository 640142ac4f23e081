import { ServiceError, status, toServiceError } from '@orrery/grpc';

/**
 * Wire format of Orrery's ZeroMQ request/reply (DEALER -> ROUTER), used by ingestion->command,
 * recommender->scoring and the public ingestion endpoint:
 *
 *   request (as sent by the DEALER):  [request id] [traceparent] [payload]
 *   reply   (as received by it):      [request id] [status]      [body]
 *
 * request id: opaque bytes chosen by the client, echoed back (replies may come out of order).
 * traceparent: W3C trace context of the caller's span, or empty.
 * status: decimal gRPC status code as ASCII; "0" means body is the reply payload, anything else
 * means body is a UTF-8 error message.
 *
 * A liveness probe (ZmqRequestClient.probe) carries PROBE_TRACEPARENT in the traceparent frame and
 * an empty payload: the server's receive loop answers it with status "0" and an empty body without
 * calling the handler, tracing or counting it. (A marker in that frame, because an empty payload
 * is a valid protobuf message that handlers must see.)
 *
 * A payload above the server's limit is answered INVALID_ARGUMENT with the body
 * `payload of <n> bytes exceeds the limit of <m> bytes` (payloadTooLarge): resending it cannot
 * succeed, so it is not RESOURCE_EXHAUSTED, which callers retry; a caller that can split its
 * request recognises it with isPayloadTooLarge.
 */
export const OK_STATUS = '0';

/** The traceparent frame of a liveness probe (never a valid W3C traceparent). */
export const PROBE_TRACEPARENT = 'probe';

/** The answer to a payload of `bytes` above a server's `limit` (see the wire format above). */
export function payloadTooLarge(bytes: number, limit: number): ServiceError {
  return new ServiceError(status.INVALID_ARGUMENT, `payload of ${bytes} bytes exceeds the limit of ${limit} bytes`);
}

const PAYLOAD_TOO_LARGE = /^payload of \d+ bytes exceeds the limit of \d+ bytes$/;

/** Whether `error` is a server's payloadTooLarge answer: the request must be made smaller, not resent. */
export function isPayloadTooLarge(error: unknown): boolean {
  const serviceError = toServiceError(error);
  return serviceError.code === status.INVALID_ARGUMENT && PAYLOAD_TOO_LARGE.test(serviceError.message);
}

/** A decoded request as the ROUTER sees it (identity frame first). */
export interface RequestFrames {
  readonly identity: Buffer;
  readonly requestId: Buffer;
  readonly traceparent: string;
  readonly payload: Buffer;
}

/** The longest traceparent a request carries, in bytes (a W3C traceparent of version 00 is 55). */
export const MAX_TRACEPARENT_BYTES = 256;

/** Splits a ROUTER message into its parts; returns a reason string when malformed. */
export function parseRequestFrames(frames: readonly Buffer[]): RequestFrames | string {
  if (frames.length !== 4) return `expected 3 frames (request id, traceparent, payload), got ${Math.max(0, frames.length - 1)}`;
  const [identity, requestId, traceparent, payload] = frames as [Buffer, Buffer, Buffer, Buffer];
  if (requestId.length === 0 || requestId.length > 64) return 'request id frame must be 1..64 bytes';
  if (traceparent.length > MAX_TRACEPARENT_BYTES) return `traceparent frame longer than ${MAX_TRACEPARENT_BYTES} bytes`;
  return { identity, requestId, traceparent: traceparent.toString('latin1'), payload };
}
