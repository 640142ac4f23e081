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

  it('when no metrics port is set, each service gets its own default port; a malformed one is named', () => {
    const ports = Object.values(readConfig({}).metricsPorts);
    expect(new Set(ports).size).toBe(ports.length);
    expect(readConfig({ ORRERY_METRICS_PORT_QUERY: '0' }).metricsPorts.query).toBe(0);
    expect(() => readConfig({ ORRERY_METRICS_PORT_SCORING: '70000' })).toThrow(/ORRERY_METRICS_PORT_SCORING/);
  });
});
