export {
  annSearchDuration,
  degradedAnswers,
  dependencyUp,
  ingestAcks,
  kafkaConsumerLag,
  modelInUse,
  outboxOldestAge,
  outboxPending,
  projectedEvents,
  projectorChunkEvents,
  projectorConsumerRestarts,
  projectionFreshness,
  recommenderInFlight,
  rpcClientDuration,
  rpcServerDuration,
  rpcServerRequests,
  scoringBatchRows,
  scoringRunDuration,
  secondsSince,
  setModelInUse,
} from './catalogue';
export { sampleEvery, type Sampler } from './sampler';
export { collectMetricsForClusterPrimary, metricsText, startMetricsServer, type MetricsServer, type MetricsServerOptions } from './server';
