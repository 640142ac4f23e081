export { backoffCeiling, backoffDelay, retryAfterFailure, type BackoffPolicy, type RetryAfterFailure } from './backoff';
export { LOG_LEVELS, METRICS_SERVICES, readConfig, type LogLevel, type MetricsService, type OrreryConfig, type ProjectionConfig } from './config';
export { ConfigError, readAddress, readBoolean, readChoice, readHostPortList, readInteger, readNumber, readString, readUrl, readZmqEndpoint, withoutPasswords } from './env';
export {
  bufferedOutput,
  durationOption,
  integerOption,
  numberOption,
  parseOptions,
  PROCESS_OUTPUT,
  readCommandLine,
  usageErrorText,
  USAGE_EXIT_CODE,
  UsageError,
  wantsHelp,
  type CommandOutput,
} from './command-line';
