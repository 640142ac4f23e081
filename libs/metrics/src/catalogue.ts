// Every Orrery metric, in one place so the Grafana dashboard (infra/grafana) and the README can be
// checked against one list. Series are created on first use; a process exposes the ones it touches.
import { Counter, Gauge, Histogram } from 'prom-client';

/** Latency buckets in seconds for in-process and LAN calls: 0.5 ms … 5 s. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** Freshness buckets in seconds: 5 ms … 5 min (an event from ack to applied projection). */
const FRESHNESS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** Calls answered by a server: transport (grpc|zeromq), method (gRPC path without the leading slash, or the ZeroMQ endpoint's name), code (gRPC status name). */
export const rpcServerRequests = new Counter({
  name: 'orrery_rpc_server_requests_total',
  help: 'Calls answered by this service, by transport, method and gRPC status code',
  labelNames: ['transport', 'method', 'code'] as const,
});

/** Time from receiving a call to handing its answer to the transport. */
export const rpcServerDuration = new Histogram({
  name: 'orrery_rpc_server_duration_seconds',
  help: 'Server-side latency of a call, by transport and method',
  labelNames: ['transport', 'method'] as const,
  buckets: LATENCY_BUCKETS,
});

/** Calls this service made to another one, as the caller saw them (deadline included). */
export const rpcClientDuration = new Histogram({
  name: 'orrery_rpc_client_duration_seconds',
  help: 'Client-side latency of a call to another service, by transport, method and gRPC status code',
  labelNames: ['transport', 'method', 'code'] as const,
  buckets: LATENCY_BUCKETS,
});

/** Ingestion: entries acknowledged after command committed them, by kind (event|item|user) and outcome (stored|duplicate). */
export const ingestAcks = new Counter({
  name: 'orrery_ingest_acks_total',
  help: 'Entries ingestion acknowledged after command committed them, by kind (event, item, user) and outcome (stored, duplicate)',
  labelNames: ['kind', 'outcome'] as const,
});

// The two relay gauges keep their "outbox" names (dashboards use them) though, since
// infra/sql/004_events_as_outbox.sql, the relay publishes from the event store as well as the outbox.

/** Command: committed facts not yet published to Kafka (events rows and outbox rows after the relay's position). */
export const outboxPending = new Gauge({
  name: 'orrery_outbox_pending_rows',
  help: 'Committed facts not yet published to Kafka: interactions (events rows) and catalog changes (outbox rows) after the relay position',
});

/** Command: age of the oldest committed fact not yet published to Kafka (0 when none). */
export const outboxOldestAge = new Gauge({
  name: 'orrery_outbox_oldest_age_seconds',
  help: 'Seconds since the oldest fact not yet published to Kafka (events or outbox row after the relay position) was committed, 0 when none is waiting',
});

/** Projector: messages of the events topic not yet consumed by its group, per partition. */
export const kafkaConsumerLag = new Gauge({
  name: 'orrery_kafka_consumer_lag_messages',
  help: 'High watermark minus the committed offset of the consumer group, per topic partition',
  labelNames: ['topic', 'partition'] as const,
});

/** Projector: time from an event's commit (or occurrence) to its projection being applied in Redis. */
export const projectionFreshness = new Histogram({
  name: 'orrery_projection_freshness_seconds',
  help: 'Time until an event is applied to the Redis projections, from its commit (from="committed") or its occurred_at (from="occurred")',
  labelNames: ['from'] as const,
  buckets: FRESHNESS_BUCKETS,
});

/** Projector: domain events handled, by outcome (applied, completed, duplicate, skipped). */
export const projectedEvents = new Counter({
  name: 'orrery_projected_events_total',
  help: 'Domain events the projector handled, by outcome (applied, completed, duplicate, skipped)',
  labelNames: ['outcome'] as const,
});

/**
 * Projector: domain events per applied chunk (one snapshot read and one script call each). Small chunks
 * under load mean the fixed costs of a chunk dominate what an event costs.
 */
export const projectorChunkEvents = new Histogram({
  name: 'orrery_projector_chunk_events',
  help: 'Domain events per chunk the projector applied (one snapshot read and one script call per chunk)',
  buckets: [1, 10, 25, 50, 100, 250, 500, 1000, 2000, 3000],
});

/**
 * Projector: the users' recent-list heads a chunk's plan started from, by where they came from: kept in
 * memory from the projector's own applies, or read from Redis (a user not seen since the last group
 * join, failed apply or consumer start, or past ORRERY_PROJECTOR_CACHED_USERS).
 */
export const projectorRecentLists = new Counter({
  name: 'orrery_projector_recent_lists_total',
  help: "Users' recent-list heads the projector planned chunks from, by source: memory (kept from its own applies) or redis (read)",
  labelNames: ['source'] as const,
});

/**
 * Projector: chunks planned from memory while the chunk before was still in Redis, and sent chained to
 * its script call (apps/projector/src/apply-chunk.ts), by outcome: applied, or replanned (the script
 * refused it: the call before was not applied in full, a catalog change or a forget came between, or it
 * held a redelivery; planned again from a snapshot read once the chunk before is applied).
 */
export const projectorChainedChunks = new Counter({
  name: 'orrery_projector_chained_chunks_total',
  help: 'Chunks the projector planned while the chunk before was in Redis, by outcome: applied, or replanned after the script refused it',
  labelNames: ['outcome'] as const,
});

/** Projector: consumers replaced after a crash kafkajs does not restart from (the error is in the log). */
export const projectorConsumerRestarts = new Counter({
  name: 'orrery_projector_consumer_restarts_total',
  help: 'Projector consumers that stopped on an error kafkajs does not restart from and were replaced (see the error log)',
});

/** Vector and scoring: 1 for the model version in use (the series with value 1 names it). */
export const modelInUse = new Gauge({
  name: 'orrery_model_in_use',
  help: 'Model version this service serves (value 1; no series before the first champion)',
  labelNames: ['version'] as const,
});

/** Vector: time of one ANN query (search for a user, or similar to an item). */
export const annSearchDuration = new Histogram({
  name: 'orrery_ann_search_duration_seconds',
  help: 'HNSW search latency (vector service and the recommender in process), by kind (for_user, similar_to)',
  labelNames: ['kind'] as const,
  buckets: LATENCY_BUCKETS,
});

/** Scoring: time of one ONNX run over a candidate batch. */
export const scoringRunDuration = new Histogram({
  name: 'orrery_scoring_run_duration_seconds',
  help: 'ONNX ranker latency of one candidate batch in the scoring service',
  buckets: LATENCY_BUCKETS,
});

/** Scoring: candidates per scored batch. */
export const scoringBatchRows = new Histogram({
  name: 'orrery_scoring_batch_rows',
  help: 'Candidates per batch the scoring service ranked',
  buckets: [1, 10, 25, 50, 100, 200, 400, 800, 1600],
});

/** Recommender: answers built without a part that failed, by reason kind (query, vector, scoring…). */
export const degradedAnswers = new Counter({
  name: 'orrery_degraded_answers_total',
  help: 'Recommender answers marked degraded, by the downstream part that was missing',
  labelNames: ['part'] as const,
});

/** Recommender: calls being served now (each process at most ORRERY_RECOMMENDER_MAX_IN_FLIGHT; a cluster's primary sums its workers'). */
export const recommenderInFlight = new Gauge({
  name: 'orrery_recommender_in_flight_calls',
  help: 'Calls the recommender is serving now; past ORRERY_RECOMMENDER_MAX_IN_FLIGHT per process a call waits, then is refused RESOURCE_EXHAUSTED',
});

/** 1 while a dependency a service checks periodically answers, 0 while it does not. */
export const dependencyUp = new Gauge({
  name: 'orrery_dependency_up',
  help: 'Whether a dependency answered the last periodic health check (1) or not (0)',
  labelNames: ['dependency'] as const,
});

/** Seconds elapsed since `startedNs` (a process.hrtime.bigint() reading). */
export function secondsSince(startedNs: bigint): number {
  return Number(process.hrtime.bigint() - startedNs) / 1e9;
}

/** Replaces the model-in-use series with one for `version` ('' removes it: no model yet). */
export function setModelInUse(version: string): void {
  modelInUse.reset();
  if (version) modelInUse.set({ version }, 1);
}
