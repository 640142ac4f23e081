// Loaded first by main.ts: tracing must patch ioredis before anything requires it.
import { readConfig } from '@orrery/config';
import { startTelemetry } from '@orrery/telemetry';

/** Query's tracing (flushed on shutdown). */
export const telemetry = startTelemetry('query', readConfig());
