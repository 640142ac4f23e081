// Loaded first by main.ts: tracing must patch ioredis and pg before anything requires them.
import { readConfig } from '@orrery/config';
import { startTelemetry } from '@orrery/telemetry';

/** The recommender's telemetry handle (flushed on shutdown). */
export const telemetry = startTelemetry('recommender', readConfig());
