// Loaded first by main.ts: tracing must patch @grpc/grpc-js and ioredis before anything requires them.
import { readConfig } from '@orrery/config';
import { startTelemetry } from '@orrery/telemetry';

/** Query's tracing (flushed on shutdown). */
export const telemetry = startTelemetry('query', readConfig());
