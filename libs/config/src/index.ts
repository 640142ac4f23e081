export { backoffCeiling, backoffDelay, retryAfterFailure, type BackoffPolicy, type RetryAfterFailure } from './backoff';
export { LOG_LEVELS, METRICS_SERVICES, readConfig, type LogLevel, type MetricsService, type OrreryConfig, type ProjectionConfig } from './config';
export { ConfigError, readAddress, readBoolean, readChoice, readHostPortList, readInteger, readNumber, readString, readUrl, readZmqEndpoint, withoutPasswords } from './env';
