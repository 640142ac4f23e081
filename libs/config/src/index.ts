export { METRICS_SERVICES, readConfig, type MetricsService, type OrreryConfig, type ProjectionConfig } from './config';
export { ConfigError, readAddress, readBoolean, readInteger, readNumber, readString, readUrl, readZmqEndpoint } from './env';
