// Loaded first by main.ts: tracing must patch pg before it is first required.
import { readConfig } from '@orrery/config';
import { startTelemetry } from '@orrery/telemetry';

/** The command service's telemetry handle (flushed on shutdown). */
export const telemetry = startTelemetry('command', readConfig());
