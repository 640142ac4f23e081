import { credentials, makeGenericClientConstructor, Metadata, type Client as GrpcClient } from '@grpc/grpc-js';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { IngestService } from '@orrery/proto';
import { bindService, createClient, invalidArgument, startGrpcServer, status, type RunningGrpcServer } from './index';

// Spans are collected in memory: the server's own SERVER spans are checked without Jaeger.
const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
provider.register();

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const CALLER_SPAN_ID = 'b7ad6b7169203331';
const traceparent = (sampled: boolean, tracestate?: string): Metadata => {
  const metadata = new Metadata();
  metadata.set('traceparent', `00-${TRACE_ID}-${CALLER_SPAN_ID}-${sampled ? '01' : '00'}`);
  if (tracestate !== undefined) metadata.set('tracestate', tracestate);
  return metadata;
};

describe('the SERVER span of a gRPC call', () => {
  let server: RunningGrpcServer;
  /** The trace id and span id the handler saw active, per user id it was called for. */
  const seenByHandler = new Map<string, { traceId: string; spanId: string }>();
  /** The span id active when each internal error was reported (its log then names the trace). */
  const activeAtInternalError: string[] = [];
  const remember = (userId: string): void => {
    const active = trace.getActiveSpan()?.spanContext();
    seenByHandler.set(userId, { traceId: active?.traceId ?? '', spanId: active?.spanId ?? '' });
    trace.getActiveSpan()?.setAttribute('orrery.user_id', userId);
  };

  beforeAll(async () => {
    server = await startGrpcServer({
      address: '127.0.0.1:0',
      onInternalError: () => activeAtInternalError.push(trace.getActiveSpan()?.spanContext().spanId ?? 'none'),
      services: [
        bindService(IngestService, {
          // Not async: a throw before any promise is made is a failure of the call as well.
          track: (request) => {
            if (request.event?.userId === 'thrown') throw new Error('handler bug');
            return (async () => {
              await new Promise((resolve) => setImmediate(resolve));
              remember(request.event?.userId ?? '');
              if (request.event?.userId === 'refused') throw invalidArgument('event.item_id', 'must not be empty');
              return { eventId: 'e', duplicate: false };
            })();
          },
          trackBatch: async (request) => ({ accepted: request.events.length, rejected: [] }),
          trackStream: async (requests) => {
            let accepted = 0;
            for await (const request of requests) {
              remember(request.event?.userId ?? '');
              accepted += 1;
            }
            return { accepted, rejected: [] };
          },
        }),
      ],
    });
  });
  afterAll(async () => {
    await server.shutdown(1_000);
    await provider.shutdown();
  });
  // Each test sees only its own spans and internal-error reports, whatever ran before it.
  beforeEach(() => {
    exporter.reset();
    activeAtInternalError.length = 0;
  });

  const client = () => createClient(IngestService, `127.0.0.1:${server.port}`, { timeoutMs: 2_000 });
  const spansNamed = (name: string): ReadableSpan[] => exporter.getFinishedSpans().filter((span) => span.name === name);

  it('when the caller sends a sampled traceparent, the call has a SERVER span in its trace, active in the handler, with its rpc attributes and OK status', async () => {
    const ingest = client();
    await ingest.track({ event: { userId: 'sampled', itemId: 'i' } }, { metadata: traceparent(true) });
    ingest.close();

    const [span, ...others] = spansNamed('grpc.orrery.v1.IngestService/Track');
    expect(others).toHaveLength(0);
    expect(span!.kind).toBe(SpanKind.SERVER);
    expect(span!.spanContext().traceId).toBe(TRACE_ID);
    expect(span!.parentSpanContext?.spanId).toBe(CALLER_SPAN_ID);
    expect(span!.attributes).toEqual({
      'rpc.system': 'grpc',
      'rpc.service': 'orrery.v1.IngestService',
      'rpc.method': 'Track',
      'rpc.grpc.status_code': status.OK,
      'orrery.user_id': 'sampled',
    });
    expect(span!.status.code).toBe(SpanStatusCode.UNSET);
    expect(seenByHandler.get('sampled')).toEqual({ traceId: TRACE_ID, spanId: span!.spanContext().spanId });
  });

  it('when the handler refuses the call, its span is failed with the status code and message the caller got', async () => {
    const ingest = client();
    await expect(ingest.track({ event: { userId: 'refused' } }, { metadata: traceparent(true) })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    ingest.close();

    const [span] = spansNamed('grpc.orrery.v1.IngestService/Track');
    expect(span!.attributes).toMatchObject({ 'rpc.grpc.status_code': status.INVALID_ARGUMENT, 'grpc.error_message': 'event.item_id: must not be empty' });
    expect(span!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'event.item_id: must not be empty' });
    expect(activeAtInternalError).toEqual([]);
  });

  it('when the handler throws before making a promise, the caller gets INTERNAL, and the error is reported inside the failed span', async () => {
    const ingest = client();
    await expect(ingest.track({ event: { userId: 'thrown' } }, { metadata: traceparent(true) })).rejects.toMatchObject({ code: status.INTERNAL });
    ingest.close();

    const [span] = spansNamed('grpc.orrery.v1.IngestService/Track');
    expect(span!.attributes['rpc.grpc.status_code']).toBe(status.INTERNAL);
    expect(span!.status.code).toBe(SpanStatusCode.ERROR);
    expect(activeAtInternalError).toEqual([span!.spanContext().spanId]);
  });

  it('when the caller sends a tracestate with its traceparent, the span carries it on', async () => {
    const ingest = client();
    await ingest.track({ event: { userId: 'with-state', itemId: 'i' } }, { metadata: traceparent(true, 'vendor=opaque') });
    ingest.close();

    const [span] = spansNamed('grpc.orrery.v1.IngestService/Track');
    expect(span!.spanContext().traceState?.serialize()).toBe('vendor=opaque');
  });

  it('when a health check comes in, no span is made: only our own services are traced', async () => {
    // grpc.health.v1.Health/Check with raw bytes: an empty HealthCheckRequest asks about the whole server.
    const raw = (bytes: Buffer): Buffer => bytes;
    const Health = makeGenericClientConstructor({ check: { path: '/grpc.health.v1.Health/Check', requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw } }, 'Health');
    const health = new Health(`127.0.0.1:${server.port}`, credentials.createInsecure()) as unknown as GrpcClient & {
      check(request: Buffer, metadata: Metadata, callback: (error: Error | null) => void): void;
    };
    await new Promise<void>((resolve, reject) => health.check(Buffer.alloc(0), traceparent(true), (error) => (error ? reject(error) : resolve())));
    health.close();

    expect(exporter.getFinishedSpans()).toHaveLength(0);
  });

  it('when the caller sends a traceparent that is not sampled, nothing is recorded, and the handler still continues the caller\'s trace', async () => {
    const ingest = client();
    await ingest.track({ event: { userId: 'unsampled', itemId: 'i' } }, { metadata: traceparent(false) });
    ingest.close();

    expect(exporter.getFinishedSpans()).toHaveLength(0);
    expect(seenByHandler.get('unsampled')?.traceId).toBe(TRACE_ID);
  });

  it('when the caller sends no trace context, the call starts a trace of its own', async () => {
    const ingest = client();
    await ingest.track({ event: { userId: 'untraced', itemId: 'i' } });
    ingest.close();

    const [span] = spansNamed('grpc.orrery.v1.IngestService/Track');
    expect(span!.parentSpanContext).toBeUndefined();
    expect(span!.spanContext().traceId).not.toBe(TRACE_ID);
    expect(seenByHandler.get('untraced')).toEqual({ traceId: span!.spanContext().traceId, spanId: span!.spanContext().spanId });
  });

  it('when a client streams its requests, the handler reads every one inside the call\'s span', async () => {
    const ingest = client();
    await ingest.trackStream([{ event: { userId: 'streamed-1' } }, { event: { userId: 'streamed-2' } }], { metadata: traceparent(true) });
    ingest.close();

    const [span] = spansNamed('grpc.orrery.v1.IngestService/TrackStream');
    expect(span!.attributes).toMatchObject({ 'rpc.method': 'TrackStream', 'rpc.grpc.status_code': status.OK });
    for (const userId of ['streamed-1', 'streamed-2']) expect(seenByHandler.get(userId)).toEqual({ traceId: TRACE_ID, spanId: span!.spanContext().spanId });
  });
});
