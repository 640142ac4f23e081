import { readAddress, readBoolean, readChoice, readHostPortList, readInteger, readName, readNumber, readString, readUrl, readZmqEndpoint } from './env';

/** Every setting of Orrery, read from environment variables with local defaults (README has the table). */
export interface OrreryConfig {
  readonly postgresUrl: string;
  readonly redisUrl: string;
  /** Key prefix of every Redis key, so several deployments (or test runs) can share one Redis. */
  readonly redisPrefix: string;
  readonly redisCluster: boolean;
  readonly kafkaBrokers: readonly string[];
  readonly kafkaClientId: string;
  /** Topic the outbox relay publishes domain events to. */
  readonly eventsTopic: string;
  readonly eventsTopicPartitions: number;
  /** Consumer group of the projector. */
  readonly projectorGroup: string;
  /** Most messages of one partition the projector plans and writes in one script (fewer under light load: what a fetch brought). */
  readonly projectorChunkSize: number;
  /** Users whose recent-list head the projector keeps in memory, so that their next chunk does not read it from Redis (0: off). */
  readonly projectorCachedUsers: number;
  /** Items whose catalog facts the projector keeps in memory while no catalog change is applied (0: off). */
  readonly projectorCachedItems: number;
  /** The projector commits its Kafka offsets at most this often, in ms (0: after every chunk); the watermarks in Redis, not the offsets, make a redelivery count once. */
  readonly projectorCommitIntervalMs: number;
  /** Public gRPC endpoint of ingestion (IngestService, CatalogService). */
  readonly ingestAddress: string;
  /** Public ZeroMQ ROUTER endpoint of ingestion for emitting services. */
  readonly ingestZmqEndpoint: string;
  /** Internal ZeroMQ ROUTER endpoint of command (ingestion sends commands here). */
  readonly commandZmqEndpoint: string;
  /** Public gRPC endpoint of recommender (RecommendationService). */
  readonly recommenderAddress: string;
  readonly queryAddress: string;
  readonly vectorAddress: string;
  /** Internal ZeroMQ ROUTER endpoint of scoring. */
  readonly scoringZmqEndpoint: string;
  /** Deadline of each downstream call the recommender makes, in ms. */
  readonly downstreamTimeoutMs: number;
  /** Recommender processes sharing its port (node:cluster); 1 = a single process. */
  readonly recommenderWorkers: number;
  /** Requests one recommender process serves at once; more wait up to recommenderQueueWaitMs, then get RESOURCE_EXHAUSTED. */
  readonly recommenderMaxInFlight: number;
  /** How long a request over recommenderMaxInFlight waits for room before RESOURCE_EXHAUSTED, in ms. */
  readonly recommenderQueueWaitMs: number;
  /** Recommend pipelines a starting recommender runs, for users the projections know, before it reports SERVING and logs ready (0: none). */
  readonly recommenderWarmUpRequests: number;
  /** How long the recommender reuses reads that are the same for every user (catalog facts, co-visits, trending); 0 = never. */
  readonly sharedReadsCacheMs: number;
  /** How often the recommender checks whether a catalog change was applied (then it drops its cached catalog facts), in ms. */
  readonly catalogChangesPollMs: number;
  /** Scoring also scores each batch with the newest unpromoted challenger and records the rank correlation. */
  readonly shadowChallenger: boolean;
  /** OTLP/HTTP endpoint of the trace collector (Jaeger). */
  readonly otlpEndpoint: string;
  readonly tracingEnabled: boolean;
  /** Parent-based sampling ratio of new traces, 0..1. */
  readonly traceSampleRatio: number;
  readonly jaegerQueryUrl: string;
  readonly logLevel: LogLevel;
  /** Deadline of ingestion's request to command (which answers after the commit), in ms. */
  readonly commandTimeoutMs: number;
  /** Events ingestion may have forwarded to command and not yet seen committed (backpressure bound). */
  readonly ingestMaxInFlightEvents: number;
  /** How long a request over the in-flight budget waits for room before RESOURCE_EXHAUSTED, in ms. */
  readonly ingestBackpressureWaitMs: number;
  /** Largest gRPC message or ZeroMQ payload ingestion accepts, in bytes. */
  readonly ingestMaxMessageBytes: number;
  /** Fallback poll interval of the outbox relay when no NOTIFY arrives, in ms. */
  readonly outboxPollIntervalMs: number;
  /** Outbox rows the relay publishes per Kafka send. */
  readonly outboxBatchSize: number;
  /** After a send, how long the relay waits before reading the next facts, in ms: fewer, larger sends under load; 0 sends at once. */
  readonly outboxLingerMs: number;
  /** Tuning of the Redis projections (projector writes them, query decodes them). */
  readonly projection: ProjectionConfig;
  /** Fallback poll interval (ms) of vector and scoring for a newly promoted model; NOTIFY is the fast path. */
  readonly modelPollIntervalMs: number;
  /** How often (ms) projector and query re-read the current projection version (a rebuild switches it). */
  readonly projectionVersionPollMs: number;
  /** Interface the Prometheus /metrics endpoints listen on. */
  readonly metricsHost: string;
  /** Port of each service's /metrics endpoint (0 picks a free one). */
  readonly metricsPorts: Readonly<Record<MetricsService, number>>;
  /** Interval of the periodic dependency checks behind grpc.health.v1 and of sampled gauges, in ms. */
  readonly healthCheckIntervalMs: number;
}

/** pino's levels: any other ORRERY_LOG_LEVEL made pino throw at start without naming the variable. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The long-running services, each with its own /metrics endpoint. */
export const METRICS_SERVICES = ['ingestion', 'command', 'projector', 'query', 'vector', 'scoring', 'recommender'] as const;
export type MetricsService = (typeof METRICS_SERVICES)[number];

/** Default /metrics ports: 9471.. in METRICS_SERVICES order (clear of Prometheus 9090 and the OTel exporter default 9464). */
const METRICS_BASE_PORT = 9471;

/** How the projector shapes the read model; query must read with the same half-lives. */
export interface ProjectionConfig {
  /** Half-life of item popularity and the trending rankings, in hours. */
  readonly trendingHalfLifeHours: number;
  /** Half-life of a user's category affinity, in hours. */
  readonly affinityHalfLifeHours: number;
  /** Half-life of co-visitation scores, in hours. */
  readonly coVisitHalfLifeHours: number;
  /** Two interactions of one user at most this far apart are co-visits (the session window). */
  readonly coVisitWindowSeconds: number;
  /** A new interaction pairs with at most this many of the user's previous ones. */
  readonly coVisitPartners: number;
  /** Co-visited items kept per item (best scores). */
  readonly coVisitLimit: number;
  /** Recent interactions kept per user. */
  readonly recentLimit: number;
  /** Seen items kept per user (most recent). */
  readonly seenLimit: number;
  /** Categories kept in a user's affinity (strongest). */
  readonly affinityLimit: number;
  /** Items kept in each trending ranking. */
  readonly trendingLimit: number;
}

/** Reads and validates the configuration once; throws a ConfigError naming the bad variable. */
export function readConfig(env: Readonly<Record<string, string | undefined>> = process.env): OrreryConfig {
  return {
    postgresUrl: readUrl(env, 'ORRERY_POSTGRES_URL', 'postgres://orrery@127.0.0.1:54329/orrery', ['postgres:', 'postgresql:']),
    redisUrl: readUrl(env, 'ORRERY_REDIS_URL', 'redis://127.0.0.1:63790', ['redis:', 'rediss:']),
    redisPrefix: readName(env, 'ORRERY_REDIS_PREFIX', 'orrery', redisPrefixProblem),
    redisCluster: readBoolean(env, 'ORRERY_REDIS_CLUSTER', false),
    kafkaBrokers: readHostPortList(env, 'ORRERY_KAFKA_BROKERS', '127.0.0.1:19092'),
    kafkaClientId: readString(env, 'ORRERY_KAFKA_CLIENT_ID', 'orrery'),
    eventsTopic: readName(env, 'ORRERY_EVENTS_TOPIC', 'orrery.events', kafkaTopicProblem),
    eventsTopicPartitions: readInteger(env, 'ORRERY_EVENTS_TOPIC_PARTITIONS', 4, 1, 1024),
    projectorGroup: readString(env, 'ORRERY_PROJECTOR_GROUP', 'orrery-projector'),
    projectorChunkSize: readInteger(env, 'ORRERY_PROJECTOR_CHUNK_SIZE', 2_000, 1, 3_000),
    projectorCachedUsers: readInteger(env, 'ORRERY_PROJECTOR_CACHED_USERS', 50_000, 0, 1_000_000),
    projectorCachedItems: readInteger(env, 'ORRERY_PROJECTOR_CACHED_ITEMS', 100_000, 0, 10_000_000),
    projectorCommitIntervalMs: readInteger(env, 'ORRERY_PROJECTOR_COMMIT_INTERVAL_MS', 1_000, 0, 60_000),
    ingestAddress: readAddress(env, 'ORRERY_INGEST_ADDRESS', '127.0.0.1:50051'),
    ingestZmqEndpoint: readZmqEndpoint(env, 'ORRERY_INGEST_ZMQ_ENDPOINT', 'tcp://127.0.0.1:5555'),
    commandZmqEndpoint: readZmqEndpoint(env, 'ORRERY_COMMAND_ZMQ_ENDPOINT', 'tcp://127.0.0.1:5560'),
    recommenderAddress: readAddress(env, 'ORRERY_RECOMMENDER_ADDRESS', '127.0.0.1:50052'),
    queryAddress: readAddress(env, 'ORRERY_QUERY_ADDRESS', '127.0.0.1:50061'),
    vectorAddress: readAddress(env, 'ORRERY_VECTOR_ADDRESS', '127.0.0.1:50062'),
    scoringZmqEndpoint: readZmqEndpoint(env, 'ORRERY_SCORING_ZMQ_ENDPOINT', 'tcp://127.0.0.1:5561'),
    downstreamTimeoutMs: readInteger(env, 'ORRERY_DOWNSTREAM_TIMEOUT_MS', 150, 1, 60_000),
    recommenderWorkers: readInteger(env, 'ORRERY_RECOMMENDER_WORKERS', 1, 1, 64),
    recommenderMaxInFlight: readInteger(env, 'ORRERY_RECOMMENDER_MAX_IN_FLIGHT', 64, 1, 100_000),
    recommenderQueueWaitMs: readInteger(env, 'ORRERY_RECOMMENDER_QUEUE_WAIT_MS', 50, 0, 60_000),
    recommenderWarmUpRequests: readInteger(env, 'ORRERY_RECOMMENDER_WARMUP_REQUESTS', 2_000, 0, 1_000_000),
    sharedReadsCacheMs: readInteger(env, 'ORRERY_SHARED_READS_CACHE_MS', 10_000, 0, 60_000),
    catalogChangesPollMs: readInteger(env, 'ORRERY_CATALOG_CHANGES_POLL_MS', 100, 10, 60_000),
    shadowChallenger: readBoolean(env, 'ORRERY_SHADOW_CHALLENGER', false),
    otlpEndpoint: readUrl(env, 'ORRERY_OTLP_ENDPOINT', 'http://127.0.0.1:4318', ['http:', 'https:']),
    tracingEnabled: readBoolean(env, 'ORRERY_TRACING', true),
    traceSampleRatio: readNumber(env, 'ORRERY_TRACE_SAMPLE_RATIO', 1, 0, 1),
    jaegerQueryUrl: readUrl(env, 'ORRERY_JAEGER_QUERY_URL', 'http://127.0.0.1:16686', ['http:', 'https:']),
    logLevel: readChoice(env, 'ORRERY_LOG_LEVEL', 'info', LOG_LEVELS),
    commandTimeoutMs: readInteger(env, 'ORRERY_COMMAND_TIMEOUT_MS', 5_000, 1, 600_000),
    ingestMaxInFlightEvents: readInteger(env, 'ORRERY_INGEST_MAX_IN_FLIGHT_EVENTS', 50_000, 1, 10_000_000),
    ingestBackpressureWaitMs: readInteger(env, 'ORRERY_INGEST_BACKPRESSURE_WAIT_MS', 1_000, 0, 600_000),
    ingestMaxMessageBytes: readInteger(env, 'ORRERY_INGEST_MAX_MESSAGE_BYTES', 16 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    outboxPollIntervalMs: readInteger(env, 'ORRERY_OUTBOX_POLL_INTERVAL_MS', 1_000, 10, 600_000),
    outboxBatchSize: readInteger(env, 'ORRERY_OUTBOX_BATCH_SIZE', 2_000, 1, 10_000),
    outboxLingerMs: readInteger(env, 'ORRERY_OUTBOX_LINGER_MS', 25, 0, 1_000),
    modelPollIntervalMs: readInteger(env, 'ORRERY_MODEL_POLL_INTERVAL_MS', 30_000, 100, 3_600_000),
    projectionVersionPollMs: readInteger(env, 'ORRERY_PROJECTION_VERSION_POLL_MS', 1_000, 10, 600_000),
    metricsHost: readString(env, 'ORRERY_METRICS_HOST', '127.0.0.1'),
    metricsPorts: Object.fromEntries(
      METRICS_SERVICES.map((service, index) => [service, readInteger(env, `ORRERY_METRICS_PORT_${service.toUpperCase()}`, METRICS_BASE_PORT + index, 0, 65_535)]),
    ) as Record<MetricsService, number>,
    healthCheckIntervalMs: readInteger(env, 'ORRERY_HEALTH_CHECK_INTERVAL_MS', 2_000, 50, 600_000),
    projection: {
      trendingHalfLifeHours: readNumber(env, 'ORRERY_TRENDING_HALF_LIFE_HOURS', 72, 0.01, 100_000),
      affinityHalfLifeHours: readNumber(env, 'ORRERY_AFFINITY_HALF_LIFE_HOURS', 336, 0.01, 100_000),
      coVisitHalfLifeHours: readNumber(env, 'ORRERY_COVISIT_HALF_LIFE_HOURS', 336, 0.01, 100_000),
      coVisitWindowSeconds: readInteger(env, 'ORRERY_COVISIT_WINDOW_SECONDS', 1_800, 1, 30 * 86_400),
      coVisitPartners: readInteger(env, 'ORRERY_COVISIT_PARTNERS', 3, 0, 100),
      coVisitLimit: readInteger(env, 'ORRERY_COVISIT_LIMIT', 100, 1, 10_000),
      recentLimit: readInteger(env, 'ORRERY_RECENT_LIMIT', 200, 1, 10_000),
      seenLimit: readInteger(env, 'ORRERY_SEEN_LIMIT', 500, 1, 100_000),
      affinityLimit: readInteger(env, 'ORRERY_AFFINITY_LIMIT', 100, 1, 10_000),
      trendingLimit: readInteger(env, 'ORRERY_TRENDING_LIMIT', 1_000, 1, 1_000_000),
    },
  };
}

/**
 * What is wrong with a Redis key prefix, or undefined. It starts every key, so it must not hold what
 * Redis reads in a key: `{`…`}` picks a Redis Cluster slot (every key would share the prefix's), and
 * `*`, `?`, `[`, `]`, `\` are SCAN patterns (dropping a projection version matches keys by pattern, and
 * would reach another deployment's). Nor may it hold a part `:v<N>`: its keys would read as those of
 * projection version N of the prefix before it (`<base>:v<N>:…`), which a rebuild of `<base>` drops.
 */
export function redisPrefixProblem(prefix: string): string | undefined {
  if (/[\s{}*?[\]\\]/.test(prefix)) return 'must not contain whitespace or any of { } * ? [ ] \\ (Redis reads them as a cluster slot or a SCAN pattern)';
  if (/:v\d+(:|$)/.test(prefix)) return 'must not hold a part :v<N> (keys of projection version N of the prefix before it read so)';
  return undefined;
}

/** What is wrong with a Kafka topic name, or undefined: Kafka's own rule (at most 249 of a-z A-Z 0-9 . _ -, not . or ..). */
export function kafkaTopicProblem(topic: string): string | undefined {
  if (!/^[A-Za-z0-9._-]{1,249}$/.test(topic) || topic === '.' || topic === '..') return 'is not a Kafka topic name (at most 249 of a-z A-Z 0-9 . _ -, not . or ..)';
  return undefined;
}
