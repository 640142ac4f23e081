export { readConfig, type OrreryConfig } from './config';
export { ConfigError, readAddress, readBoolean, readInteger, readNumber, readString, readUrl, readZmqEndpoint } from './env';
