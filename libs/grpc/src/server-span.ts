import { propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type TextMapGetter } from '@opentelemetry/api';
import { status, type Metadata } from '@grpc/grpc-js';

/** The instrumentation scope of the spans this library makes. */
const TRACER_NAME = '@orrery/grpc';

/** A call's SERVER span: the context its handler runs in, and how it ends. */
export interface ServerSpan {
  /** The caller's trace context (or a new root) with this span active. */
  readonly context: Context;
  /** Records the gRPC status the call was answered with (any code but OK marks the span failed, with `message`) and ends the span. */
  end(code: status, message: string): void;
}

const metadataGetter: TextMapGetter<Metadata> = {
  keys: (metadata) => Object.keys(metadata.getMap()),
  get: (metadata, key) => {
    const values = metadata.get(key);
    return values.length === 0 ? undefined : values.map(String);
  },
};

/**
 * Starts the SERVER span of an incoming call to `/<service>/<method>`, continuing the W3C trace
 * context the caller sent in its metadata (`traceparent`, `tracestate`), as OpenTelemetry's gRPC
 * instrumentation names and describes it: `grpc.<service>/<method>`, with rpc.system, rpc.service,
 * rpc.method and, at its end, rpc.grpc.status_code (and grpc.error_message when not OK). The
 * instrumentation wrapped every call object (its event emitter bound to the context, its methods
 * re-patched per call) and every grpc-js client; this is the one span a server needs, for less CPU
 * a call. Unlike the instrumentation's, it is made for our services only: grpc.health.v1 checks and
 * server reflection (grpcurl's listing) are not traced, and gRPC clients make no span and send no
 * traceparent (no service of ours calls another over gRPC). Without a registered tracer provider it is
 * a no-op span in the caller's context.
 */
export function startServerSpan(service: string, method: string, metadata: Metadata): ServerSpan {
  const parent = metadata.get('traceparent').length === 0 ? ROOT_CONTEXT : propagation.extract(ROOT_CONTEXT, metadata, metadataGetter);
  const span = trace.getTracer(TRACER_NAME).startSpan(
    `grpc.${service}/${method}`,
    { kind: SpanKind.SERVER, attributes: { 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': method } },
    parent,
  );
  return {
    context: trace.setSpan(parent, span),
    end: (code, message) => {
      span.setAttribute('rpc.grpc.status_code', code);
      if (code !== status.OK) {
        span.setAttribute('grpc.error_message', message);
        span.setStatus({ code: SpanStatusCode.ERROR, message });
      }
      span.end();
    },
  };
}
