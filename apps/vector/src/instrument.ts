// Loaded first by main.ts: tracing must start before @grpc/grpc-js and pg are first required.
import { readConfig } from '@orrery/config';
import { startTelemetry } from '@orrery/telemetry';

/** The vector service's telemetry handle (flushed on shutdown). */
export const telemetry = startTelemetry('vector', readConfig());
