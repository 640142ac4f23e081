import { ConfigError, readConfig } from './index';

describe('readConfig', () => {
  it('when nothing is set, uses the local defaults', () => {
    const config = readConfig({});
    expect(config.ingestAddress).toBe('127.0.0.1:50051');
    expect(config.recommenderAddress).toBe('127.0.0.1:50052');
    expect(config.ingestZmqEndpoint).toBe('tcp://127.0.0.1:5555');
    expect(config.kafkaBrokers).toEqual(['127.0.0.1:19092']);
  });

  it('when a port variable is overridden, the override is used', () => {
    expect(readConfig({ ORRERY_INGEST_ADDRESS: '0.0.0.0:6000' }).ingestAddress).toBe('0.0.0.0:6000');
    expect(readConfig({ ORRERY_KAFKA_BROKERS: 'a:1, b:2' }).kafkaBrokers).toEqual(['a:1', 'b:2']);
  });

  it('when a variable is malformed, the error names it', () => {
    expect(() => readConfig({ ORRERY_INGEST_ADDRESS: 'nonsense' })).toThrow(/ORRERY_INGEST_ADDRESS/);
    expect(() => readConfig({ ORRERY_TRACE_SAMPLE_RATIO: '2' })).toThrow(ConfigError);
    expect(() => readConfig({ ORRERY_POSTGRES_URL: 'mysql://x' })).toThrow(/ORRERY_POSTGRES_URL/);
  });

  it('when the Redis prefix holds what Redis reads in a key (a cluster slot, a SCAN pattern, a version part) or the topic is no Kafka topic name, the error names the variable', () => {
    expect(readConfig({ ORRERY_REDIS_PREFIX: 'shop_1.orrery-eu' }).redisPrefix).toBe('shop_1.orrery-eu');
    expect(readConfig({ ORRERY_REDIS_PREFIX: 'shop:orrery' }).redisPrefix).toBe('shop:orrery');
    expect(() => readConfig({ ORRERY_REDIS_PREFIX: 'shop{eu}' })).toThrow('ORRERY_REDIS_PREFIX=shop{eu} must not contain whitespace or any of { } * ? [ ] \\');
    expect(() => readConfig({ ORRERY_REDIS_PREFIX: 'shop*' })).toThrow(/ORRERY_REDIS_PREFIX=shop\* must not contain/);
    expect(() => readConfig({ ORRERY_REDIS_PREFIX: 'orrery:v2' })).toThrow('ORRERY_REDIS_PREFIX=orrery:v2 must not hold a part :v<N>');
    expect(() => readConfig({ ORRERY_REDIS_PREFIX: 'orrery:v2:eu' })).toThrow(/ORRERY_REDIS_PREFIX/);
    expect(readConfig({ ORRERY_REDIS_PREFIX: 'orrery:vip' }).redisPrefix).toBe('orrery:vip');
    expect(readConfig({ ORRERY_EVENTS_TOPIC: 'shop.events_v2' }).eventsTopic).toBe('shop.events_v2');
    expect(() => readConfig({ ORRERY_EVENTS_TOPIC: 'shop events' })).toThrow('ORRERY_EVENTS_TOPIC=shop events is not a Kafka topic name');
    expect(() => readConfig({ ORRERY_EVENTS_TOPIC: 'x'.repeat(250) })).toThrow(/ORRERY_EVENTS_TOPIC/);
    expect(() => readConfig({ ORRERY_EVENTS_TOPIC: '..' })).toThrow(/ORRERY_EVENTS_TOPIC/);
  });

  it('when a URL variable with a password is refused, the error names the variable but not the password', () => {
    expect(() => readConfig({ ORRERY_REDIS_URL: 'http://:s3cret@10.0.0.5:6379' })).toThrow('ORRERY_REDIS_URL=http://:***@10.0.0.5:6379 must use redis: or rediss:');
  });

  it('when no metrics port is set, each service gets its own default port; a malformed one is named', () => {
    const ports = Object.values(readConfig({}).metricsPorts);
    expect(new Set(ports).size).toBe(ports.length);
    expect(readConfig({ ORRERY_METRICS_PORT_QUERY: '0' }).metricsPorts.query).toBe(0);
    expect(() => readConfig({ ORRERY_METRICS_PORT_SCORING: '70000' })).toThrow(/ORRERY_METRICS_PORT_SCORING/);
  });

  it('when a port is past 65535 or missing, the error names the variable instead of a bind failing later', () => {
    expect(() => readConfig({ ORRERY_INGEST_ADDRESS: '127.0.0.1:99999' })).toThrow(/ORRERY_INGEST_ADDRESS/);
    expect(() => readConfig({ ORRERY_COMMAND_ZMQ_ENDPOINT: 'tcp://127.0.0.1:99999' })).toThrow(/ORRERY_COMMAND_ZMQ_ENDPOINT/);
    expect(() => readConfig({ ORRERY_SCORING_ZMQ_ENDPOINT: 'tcp://127.0.0.1' })).toThrow(/ORRERY_SCORING_ZMQ_ENDPOINT/);
    expect(() => readConfig({ ORRERY_INGEST_ZMQ_ENDPOINT: 'tcp://127.0.0.1:0' })).toThrow(/ORRERY_INGEST_ZMQ_ENDPOINT/);
    expect(readConfig({ ORRERY_QUERY_ADDRESS: '[::1]:0' }).queryAddress).toBe('[::1]:0');
    expect(readConfig({ ORRERY_INGEST_ZMQ_ENDPOINT: 'tcp://[::1]:65535' }).ingestZmqEndpoint).toBe('tcp://[::1]:65535');
    expect(readConfig({ ORRERY_COMMAND_ZMQ_ENDPOINT: 'ipc:///tmp/orrery-command' }).commandZmqEndpoint).toBe('ipc:///tmp/orrery-command');
    expect(readConfig({ ORRERY_INGEST_ZMQ_ENDPOINT: 'tcp://*:5555' }).ingestZmqEndpoint).toBe('tcp://*:5555');
  });

  it('when the Kafka broker list is empty or a broker has no port, the error names ORRERY_KAFKA_BROKERS', () => {
    expect(() => readConfig({ ORRERY_KAFKA_BROKERS: ',' })).toThrow(/ORRERY_KAFKA_BROKERS/);
    expect(() => readConfig({ ORRERY_KAFKA_BROKERS: 'a:1, kafka' })).toThrow(/ORRERY_KAFKA_BROKERS=a:1, kafka .*"kafka"/);
    expect(() => readConfig({ ORRERY_KAFKA_BROKERS: 'kafka:70000' })).toThrow(/ORRERY_KAFKA_BROKERS/);
  });

  it('when the log level is not one of pino\'s, the error names ORRERY_LOG_LEVEL; its case does not matter', () => {
    expect(() => readConfig({ ORRERY_LOG_LEVEL: 'verbose' })).toThrow(/ORRERY_LOG_LEVEL=verbose is not one of fatal, error, warn, info, debug, trace, silent/);
    expect(readConfig({ ORRERY_LOG_LEVEL: 'DEBUG' }).logLevel).toBe('debug');
    expect(readConfig({}).logLevel).toBe('info');
  });
});
