// Loaded first by main.ts: tracing must start before pg is first required.
import { readConfig } from '@orrery/config';
import { startTelemetry } from '@orrery/telemetry';

/** The trainer's telemetry handle (flushed before exit). */
export const telemetry = startTelemetry('trainer', readConfig());
