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
  projectorChainedChunks,
  projectorChunkEvents,
  projectorConsumerRestarts,
  projectorRecentLists,
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
export { describeLatencies, formatPercentile, hasSamplesFor, percentileBound, percentiles, samplesNeededFor, SAMPLES_BEYOND_A_PERCENTILE, type PercentileName, type Percentiles } from './percentiles';
export { watchOwnPauses, type OwnPauses } from './pauses';
export { nowMs, openLoopBatchSizes, sendOnSchedule, sentPerSecond, untilDue, type ScheduleClock, type SentOnSchedule } from './open-loop';
