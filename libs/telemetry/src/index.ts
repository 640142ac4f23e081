export { stopOnSignals } from './lifecycle';
export { createLogger, type Logger } from './logging';
export {
  context,
  contextFromKafkaHeaders,
  contextFromTraceparent,
  currentTraceparent,
  mayBeRecorded,
  recordError,
  SpanKind,
  SpanStatusCode,
  startTelemetry,
  trace,
  traceparentOfKafkaHeaders,
  tracer,
  withReadSpan,
  withSpan,
  type Attributes,
  type Context,
  type KafkaHeaders,
  type Span,
  type SpanOptions,
  type Telemetry,
} from './tracing';
