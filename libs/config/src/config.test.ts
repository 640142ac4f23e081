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
});
