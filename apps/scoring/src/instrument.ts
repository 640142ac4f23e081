// Loaded first by main.ts: tracing must start before pg is first required.
import { readConfig } from '@orrery/config';
import { startTelemetry } from '@orrery/telemetry';

/** The scoring service's telemetry handle (flushed on shutdown). */
export const telemetry = startTelemetry('scoring', readConfig());
