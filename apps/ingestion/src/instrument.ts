// Loaded first by main.ts: tracing must start before @grpc/grpc-js is first required.
import { readConfig } from '@orrery/config';
import { startTelemetry } from '@orrery/telemetry';

/** Ingestion's telemetry handle (flushed on shutdown). */
export const telemetry = startTelemetry('ingestion', readConfig());
