import { context, propagation, SpanKind, SpanStatusCode, trace, TraceFlags, type Attributes, type Context, type Link, type Span, type TextMapGetter } from '@opentelemetry/api';
import { suppressTracing, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import type { OrreryConfig } from '@orrery/config';
import { createLogger } from './logging';
import { reportTracingProblems } from './tracing-problems';

export interface Telemetry {
  /** Flushes pending spans and stops exporting. */
  shutdown(): Promise<void>;
}

const TRACER_NAME = 'orrery';

/**
 * Spans per OTLP export. An export serializes its spans on the event loop in one go, inside the
 * `span.end()` that fills the batch: at 500 Recommends a second, 1,024 spans blocked the recommender's
 * event loop for 8.5 ms (p50; max 49 ms) 3.5 times a second, 128 spans for 1.2 ms 27 times a second,
 * for the same CPU in all (docs/benchmarks.md, 2026-11-29 03:45).
 */
const SPANS_PER_EXPORT = 128;

/**
 * Starts tracing for one service: OTLP export to Jaeger, parent-based ratio sampling, pg and ioredis
 * instrumentation. Call it before pg or ioredis are first required. gRPC servers trace their calls
 * themselves (@orrery/grpc's startServerSpan), for less CPU a call than OpenTelemetry's gRPC
 * instrumentation (docs/benchmarks.md, 2026-11-28 16:10).
 */
export function startTelemetry(serviceName: string, config: Pick<OrreryConfig, 'otlpEndpoint' | 'tracingEnabled' | 'traceSampleRatio' | 'logLevel'>): Telemetry {
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  if (!config.tracingEnabled) return { shutdown: async () => undefined };
  const tracesUrl = `${config.otlpEndpoint.replace(/\/$/, '')}/v1/traces`;
  reportTracingProblems(createLogger(serviceName, config.logLevel), tracesUrl);
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: serviceName,
      [ATTR_SERVICE_VERSION]: serviceVersion(),
      'service.namespace': 'orrery',
      // The pod name under Kubernetes (ORRERY_INSTANCE_ID), else host:pid: tells replicas apart.
      'service.instance.id': process.env.ORRERY_INSTANCE_ID || `${hostname()}:${process.pid}`,
    }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.traceSampleRatio) }),
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url: tracesUrl }), {
        scheduledDelayMillis: 500,
        maxQueueSize: 16_384,
        maxExportBatchSize: SPANS_PER_EXPORT,
      }),
    ],
  });
  // The propagator is set above, tracing or not (a second registration is refused, and reported).
  provider.register({ propagator: null });
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new PgInstrumentation({ enhancedDatabaseReporting: false }),
      new IORedisInstrumentation({ dbStatementSerializer: redisStatement }),
    ],
  });
  return { shutdown: () => provider.shutdown() };
}

/**
 * A Redis span's db.statement: the command and its first argument (the key, or a script's SHA), and
 * how many more there are. The default lists every argument of EVALSHA and of reads like HMGET: a
 * projector chunk's script call carries 100,000+ values, which every span would then copy and export.
 */
export function redisStatement(command: string, args: readonly unknown[]): string {
  if (args.length === 0) return command;
  const first = Buffer.isBuffer(args[0]) ? args[0].toString('utf8') : String(args[0]);
  return args.length === 1 ? `${command} ${first}` : `${command} ${first} [${args.length - 1} other arguments]`;
}

/** The version of the running service: its package.json (apps/<service>/package.json above dist/main.js), else npm's, else 0.0.0. */
function serviceVersion(): string {
  for (let dir = dirname(process.argv[1] ?? '.'), depth = 0; depth < 3; dir = dirname(dir), depth += 1) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const version = (JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown }).version;
    if (typeof version === 'string') return version;
  }
  return process.env.npm_package_version ?? '0.0.0';
}

/** Orrery's tracer (a no-op until startTelemetry ran). */
export function tracer() {
  return trace.getTracer(TRACER_NAME);
}

export interface SpanOptions {
  readonly kind?: SpanKind;
  readonly attributes?: Attributes;
  /** Context to start the span in; defaults to the active one. */
  readonly parent?: Context;
  /** Spans of other traces this one works for (e.g. the calls merged into one request). */
  readonly links?: readonly Link[];
}

/** Runs `work` inside a new active span; records an exception and ERROR status when it throws. */
export async function withSpan<T>(name: string, options: SpanOptions, work: (span: Span) => Promise<T>): Promise<T> {
  const parent = options.parent ?? context.active();
  const links = options.links && options.links.length > 0 ? [...options.links] : undefined;
  return tracer().startActiveSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes ?? {}, ...(links ? { links } : {}) }, parent, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      recordError(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/**
 * Runs `work` inside a new span of kind CLIENT under which no span is made: one span for a read of
 * several commands (a user's four Redis reads, the co-visit lists of twenty items) instead of one
 * per command from the client's instrumentation. Such a read is one step of a request; its commands
 * run together, so a span each added work (a Recommend made ~8 of them, a cold one hundreds) and
 * lines to its trace without telling more. Made only inside a sampled trace (a read outside any
 * request, such as a poll, starts no trace of its own); in any case `work` runs with no active span
 * and tracing suppressed, so an instrumentation that wants a parent span (ioredis') skips its work
 * even in a trace that is not sampled. That holds for everything `work` starts, timers and promise
 * chains included, and an ioredis auto-pipeline flush it triggers carries the commands other callers
 * queued in the same tick: keep `work` to the read itself.
 */
export async function withReadSpan<T>(name: string, attributes: Attributes, work: () => Promise<T>): Promise<T> {
  const parent = trace.getSpanContext(context.active());
  if (parent === undefined || (parent.traceFlags & TraceFlags.SAMPLED) === 0) return context.with(unspanned(context.active()), work);
  return withSpan(name, { kind: SpanKind.CLIENT, attributes }, () => context.with(unspanned(context.active()), work));
}

/** `parent` without its span and with tracing suppressed. */
function unspanned(parent: Context): Context {
  return trace.deleteSpan(suppressTracing(parent));
}

/** Marks a span as failed with the error. */
export function recordError(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : new Error(String(error)));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}

/** The spans `startMergedCallSpans` made for the callers of one merged call. */
export interface MergedCallSpans {
  /** A link to each of those spans, for the merged call's own span. */
  readonly links: readonly Link[];
  /** The traceparent of each caller's span, in order ('' for the first caller, in whose trace the merged call goes). */
  readonly traceparents: readonly string[];
  /** Ends the spans, marked failed with `error` when given. */
  end(error?: unknown): void;
}

/**
 * For a call merging the requests of several callers (group commit, merged score calls), run in the
 * first caller's context: a span `name` (CLIENT) for each other caller, as a child of its own context,
 * with `attributes`, `orrery.merged.calls` and the trace the merged call goes in
 * (`orrery.merged_into.trace_id`); end them when the merged call settles. Without them a merged
 * caller's trace showed nothing of the call it waited for, and stopped there.
 */
export function startMergedCallSpans(name: string, callers: readonly Context[], attributes: Attributes): MergedCallSpans {
  const mergedInto = callers.length > 0 ? trace.getSpanContext(callers[0]!)?.traceId : undefined;
  const spans: Span[] = [];
  const traceparents: string[] = callers.length > 0 ? [''] : [];
  for (const caller of callers.slice(1)) {
    const span = tracer().startSpan(
      name,
      { kind: SpanKind.CLIENT, attributes: { ...attributes, 'orrery.merged.calls': callers.length, ...(mergedInto ? { 'orrery.merged_into.trace_id': mergedInto } : {}) } },
      caller,
    );
    spans.push(span);
    traceparents.push(context.with(trace.setSpan(caller, span), currentTraceparent));
  }
  return {
    links: spans.map((span) => ({ context: span.spanContext() })),
    traceparents,
    end: (error?: unknown) => {
      for (const span of spans) {
        if (error !== undefined) recordError(span, error);
        span.end();
      }
    },
  };
}

/** The W3C traceparent of the active context ('' when it has no valid span; flag 00 when the span is not sampled). Carried in a ZeroMQ frame and the outbox. */
export function currentTraceparent(): string {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent ?? '';
}

/** The context a traceparent string (from a ZeroMQ frame or the outbox) continues. */
export function contextFromTraceparent(traceparent: string): Context {
  if (!traceparent) return context.active();
  return propagation.extract(context.active(), { traceparent });
}

/** Kafka message headers as kafkajs delivers them. */
export type KafkaHeaders = Record<string, Buffer | string | null | (Buffer | string | null)[] | undefined>;

/** The text of a Kafka header (of its first value when repeated), or undefined. */
function kafkaHeaderText(headers: KafkaHeaders, key: string): string | undefined {
  const value = headers[key];
  if (value == null) return undefined;
  const first = Array.isArray(value) ? value[0] : value;
  return first == null ? undefined : first.toString();
}

const kafkaHeadersGetter: TextMapGetter<KafkaHeaders> = { keys: (headers) => Object.keys(headers), get: kafkaHeaderText };

/** The context carried in a Kafka message's traceparent header. */
export function contextFromKafkaHeaders(headers: KafkaHeaders | undefined): Context {
  if (!headers) return context.active();
  return propagation.extract(context.active(), headers, kafkaHeadersGetter);
}

/**
 * The text of a Kafka message's `traceparent` header ('' without one): messages with the same one
 * continue the same producer span, so a consumer can give them one span (contextFromKafkaHeaders of
 * any of them).
 */
export function traceparentOfKafkaHeaders(headers: KafkaHeaders | undefined): string {
  return (headers && kafkaHeaderText(headers, 'traceparent')) ?? '';
}

/**
 * False when a span started under `parent` is sure not to be recorded: its parent is a trace that
 * was not sampled, which the parent-based sampler of startTelemetry never records. A caller that
 * makes a span per message can then skip building it (attributes, context, promise chain): at 1%
 * sampling that was a third of the projector's CPU per event. True for a sampled parent and for a
 * root, which the sampler decides.
 */
export function mayBeRecorded(parent: Context): boolean {
  const parentSpan = trace.getSpanContext(parent);
  return parentSpan === undefined || !trace.isSpanContextValid(parentSpan) || (parentSpan.traceFlags & TraceFlags.SAMPLED) !== 0;
}

export { context, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Link, type Span };
