export { ZmqRequestClient, type ZmqClientOptions } from './client';
export { isPayloadTooLarge, MAX_TRACEPARENT_BYTES, OK_STATUS, parseRequestFrames, payloadTooLarge, PROBE_TRACEPARENT, type RequestFrames } from './frames';
export { DEFAULT_MAX_PAYLOAD_BYTES, serveZmqRequests, type RunningZmqServer, type ZmqRequestHandler, type ZmqServerOptions } from './server';
