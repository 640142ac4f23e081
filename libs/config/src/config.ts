import { readAddress, readBoolean, readInteger, readNumber, readString, readUrl, readZmqEndpoint } from './env';

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
  /** OTLP/HTTP endpoint of the trace collector (Jaeger). */
  readonly otlpEndpoint: string;
  readonly tracingEnabled: boolean;
  /** Parent-based sampling ratio of new traces, 0..1. */
  readonly traceSampleRatio: number;
  readonly jaegerQueryUrl: string;
  readonly logLevel: string;
  /** Deadline of ingestion's request to command (which answers after the commit), in ms. */
  readonly commandTimeoutMs: number;
  /** Fallback poll interval of the outbox relay when no NOTIFY arrives, in ms. */
  readonly outboxPollIntervalMs: number;
  /** Outbox rows the relay publishes per Kafka send. */
  readonly outboxBatchSize: number;
}

/** Reads and validates the configuration once; throws a ConfigError naming the bad variable. */
export function readConfig(env: Readonly<Record<string, string | undefined>> = process.env): OrreryConfig {
  return {
    postgresUrl: readUrl(env, 'ORRERY_POSTGRES_URL', 'postgres://orrery@127.0.0.1:54329/orrery', ['postgres:', 'postgresql:']),
    redisUrl: readUrl(env, 'ORRERY_REDIS_URL', 'redis://127.0.0.1:63790', ['redis:', 'rediss:']),
    redisPrefix: readString(env, 'ORRERY_REDIS_PREFIX', 'orrery'),
    redisCluster: readBoolean(env, 'ORRERY_REDIS_CLUSTER', false),
    kafkaBrokers: readString(env, 'ORRERY_KAFKA_BROKERS', '127.0.0.1:19092').split(',').map((broker) => broker.trim()).filter(Boolean),
    kafkaClientId: readString(env, 'ORRERY_KAFKA_CLIENT_ID', 'orrery'),
    eventsTopic: readString(env, 'ORRERY_EVENTS_TOPIC', 'orrery.events'),
    eventsTopicPartitions: readInteger(env, 'ORRERY_EVENTS_TOPIC_PARTITIONS', 4, 1, 1024),
    projectorGroup: readString(env, 'ORRERY_PROJECTOR_GROUP', 'orrery-projector'),
    ingestAddress: readAddress(env, 'ORRERY_INGEST_ADDRESS', '127.0.0.1:50051'),
    ingestZmqEndpoint: readZmqEndpoint(env, 'ORRERY_INGEST_ZMQ_ENDPOINT', 'tcp://127.0.0.1:5555'),
    commandZmqEndpoint: readZmqEndpoint(env, 'ORRERY_COMMAND_ZMQ_ENDPOINT', 'tcp://127.0.0.1:5560'),
    recommenderAddress: readAddress(env, 'ORRERY_RECOMMENDER_ADDRESS', '127.0.0.1:50052'),
    queryAddress: readAddress(env, 'ORRERY_QUERY_ADDRESS', '127.0.0.1:50061'),
    vectorAddress: readAddress(env, 'ORRERY_VECTOR_ADDRESS', '127.0.0.1:50062'),
    scoringZmqEndpoint: readZmqEndpoint(env, 'ORRERY_SCORING_ZMQ_ENDPOINT', 'tcp://127.0.0.1:5561'),
    downstreamTimeoutMs: readInteger(env, 'ORRERY_DOWNSTREAM_TIMEOUT_MS', 150, 1, 60_000),
    otlpEndpoint: readUrl(env, 'ORRERY_OTLP_ENDPOINT', 'http://127.0.0.1:4318', ['http:', 'https:']),
    tracingEnabled: readBoolean(env, 'ORRERY_TRACING', true),
    traceSampleRatio: readNumber(env, 'ORRERY_TRACE_SAMPLE_RATIO', 1, 0, 1),
    jaegerQueryUrl: readUrl(env, 'ORRERY_JAEGER_QUERY_URL', 'http://127.0.0.1:16686', ['http:', 'https:']),
    logLevel: readString(env, 'ORRERY_LOG_LEVEL', 'info'),
    commandTimeoutMs: readInteger(env, 'ORRERY_COMMAND_TIMEOUT_MS', 5_000, 1, 600_000),
    outboxPollIntervalMs: readInteger(env, 'ORRERY_OUTBOX_POLL_INTERVAL_MS', 1_000, 10, 600_000),
    outboxBatchSize: readInteger(env, 'ORRERY_OUTBOX_BATCH_SIZE', 500, 1, 10_000),
  };
}
