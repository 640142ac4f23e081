export { backoffDelay, type BackoffPolicy } from '@orrery/config';
export { createCatalogClient, createIngestClient, createRecommendationClient } from './clients';
export { DEFAULT_MAX_BATCH_BYTES, ZmqEventEmitter, type EmitOutcome, type EmitterOptions, type EmitterStats, type EventInit } from './emitter';
export { status, type CallOptions, type Client, type ClientOptions } from '@orrery/grpc';
