// Loaded first by main.ts: the tracer provider is registered before the first call makes a span.
import { readConfig } from '@orrery/config';
import { startTelemetry } from '@orrery/telemetry';

/** Ingestion's telemetry handle (flushed on shutdown). */
export const telemetry = startTelemetry('ingestion', readConfig());
