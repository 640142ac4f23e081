import { context, propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { contextFromKafkaHeaders, contextFromTraceparent, currentTraceparent, mayBeRecorded, SpanKind, traceparentOfKafkaHeaders, withReadSpan, withSpan } from './index';
import { redisStatement } from './tracing';

// For the whole file: mayBeRecorded reads a traceparent through the global propagator too, so its tests
// must not rely on another describe's setup having run first.
const exporter = new InMemorySpanExporter();
beforeAll(() => {
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  provider.register();
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
});

describe('trace context across ZeroMQ frames and Kafka headers', () => {
  const traceparent = (flags: string): string => `00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-${flags}`;

  it('when a traceparent is carried in a frame, the receiving span joins the sender trace as its child', async () => {
    let carried = '';
    let senderSpanId = '';
    const traceId = await withSpan('send', { kind: SpanKind.CLIENT }, async (span) => {
      carried = currentTraceparent();
      senderSpanId = span.spanContext().spanId;
      return span.spanContext().traceId;
    });
    expect(carried).toBe(`00-${traceId}-${senderSpanId}-01`);
    await withSpan('receive', { kind: SpanKind.SERVER, parent: contextFromTraceparent(carried) }, async () => undefined);
    const receive = exporter.getFinishedSpans().find((span) => span.name === 'receive')!;
    expect(receive.spanContext().traceId).toBe(traceId);
    expect(receive.parentSpanContext?.spanId).toBe(senderSpanId);
  });

  it('when Kafka headers arrive as Buffers, the context is read from the traceparent header', () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const context = contextFromKafkaHeaders({ traceparent: Buffer.from(traceparent), other: Buffer.from('x') });
    expect(trace.getSpanContext(context)).toMatchObject({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' });
  });

  it('reads the traceparent header of Kafka headers as text, whether a Buffer, a string or the first of several; without one it is empty', () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    expect(traceparentOfKafkaHeaders({ traceparent: Buffer.from(traceparent), other: Buffer.from('x') })).toBe(traceparent);
    expect(traceparentOfKafkaHeaders({ traceparent })).toBe(traceparent);
    expect(traceparentOfKafkaHeaders({ traceparent: [Buffer.from(traceparent), 'later'] })).toBe(traceparent);
    expect(traceparentOfKafkaHeaders({ other: Buffer.from('x') })).toBe('');
    // A header can carry a null value (kafkajs decodes one so): no context, not a crash.
    expect(traceparentOfKafkaHeaders({ traceparent: null })).toBe('');
    expect(traceparentOfKafkaHeaders({ traceparent: [null, 'later'] })).toBe('');
    expect(trace.getSpanContext(contextFromKafkaHeaders({ traceparent: null }))).toBeUndefined();
    expect(traceparentOfKafkaHeaders(undefined)).toBe('');
  });

  it('when a read runs in a sampled trace, it is one CLIENT span, its commands run with no span to be children of, and the request spans again after it', async () => {
    exporter.reset();
    const traceId = await withSpan('request', { kind: SpanKind.SERVER }, async (request) => {
      const read = await withReadSpan('redis read user', { 'db.system.name': 'redis' }, async () => {
        // An instrumented client that wants a parent span (ioredis') finds none, and a span made anyway is not recorded.
        expect(trace.getSpan(context.active())).toBeUndefined();
        await withSpan('lrange', { kind: SpanKind.CLIENT }, async () => undefined);
        return 'answer';
      });
      expect(read).toBe('answer');
      expect(trace.getSpan(context.active())).toBe(request);
      await withSpan('after', {}, async () => undefined);
      return request.spanContext().traceId;
    });
    const spans = exporter.getFinishedSpans();
    expect(spans.map((span) => span.name).sort()).toEqual(['after', 'redis read user', 'request']);
    const requestSpanId = spans.find((span) => span.name === 'request')!.spanContext().spanId;
    const read = spans.find((span) => span.name === 'redis read user')!;
    expect(read.kind).toBe(SpanKind.CLIENT);
    expect(read.spanContext().traceId).toBe(traceId);
    expect(read.parentSpanContext?.spanId).toBe(requestSpanId);
    expect(read.attributes['db.system.name']).toBe('redis');
    expect(spans.find((span) => span.name === 'after')!.parentSpanContext?.spanId).toBe(requestSpanId);
  });

  it('when a read runs outside a sampled trace, it makes no span, starts no trace, and its commands run with no span to be children of; a failed read still fails', async () => {
    exporter.reset();
    const activeInside: unknown[] = [];
    const read = async (): Promise<void> => void activeInside.push(trace.getSpan(context.active()));
    await withReadSpan('redis read user', {}, read);
    await context.with(contextFromTraceparent(traceparent('00')), () => withReadSpan('redis read items', {}, read));
    expect(activeInside).toEqual([undefined, undefined]);
    expect(exporter.getFinishedSpans()).toEqual([]);
    await expect(withSpan('request', {}, () => withReadSpan('redis read items', {}, async () => Promise.reject(new Error('connection lost'))))).rejects.toThrow('connection lost');
    expect(exporter.getFinishedSpans().find((span) => span.name === 'redis read items')!.status).toMatchObject({ code: 2, message: 'connection lost' });
  });

  it('when there is no trace context, nothing is carried and a failing span records the error', async () => {
    expect(currentTraceparent()).toBe('');
    await expect(withSpan('fails', {}, async () => Promise.reject(new Error('nope')))).rejects.toThrow('nope');
    const failed = exporter.getFinishedSpans().find((span) => span.name === 'fails')!;
    expect(failed.status).toMatchObject({ code: 2, message: 'nope' });
  });
});

describe('mayBeRecorded', () => {
  const traceparent = (flags: string): string => `00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-${flags}`;

  it('is false under a parent trace that was not sampled, true under a sampled one', () => {
    expect(mayBeRecorded(contextFromTraceparent(traceparent('00')))).toBe(false);
    expect(mayBeRecorded(contextFromTraceparent(traceparent('01')))).toBe(true);
    expect(mayBeRecorded(contextFromKafkaHeaders({ traceparent: Buffer.from(traceparent('00')) }))).toBe(false);
  });

  it('is true for a root (no parent, or a malformed one): the sampler decides', () => {
    expect(mayBeRecorded(context.active())).toBe(true);
    expect(mayBeRecorded(contextFromKafkaHeaders({}))).toBe(true);
    expect(mayBeRecorded(contextFromTraceparent('not a traceparent'))).toBe(true);
  });
});

describe('Redis span statements', () => {
  it('when a script call carries a chunk of 100,000 values, the span names the script and counts the rest', () => {
    const args = ['0123abcd', 2, 'key-a', 'key-b', ...Array.from({ length: 100_000 }, (_, index) => index)];
    expect(redisStatement('evalsha', args)).toBe('evalsha 0123abcd [100003 other arguments]');
  });

  it('when a command has one argument or none, the statement is the command and that key', () => {
    expect(redisStatement('hgetall', [Buffer.from('orrery:user:{u1}')])).toBe('hgetall orrery:user:{u1}');
    expect(redisStatement('ping', [])).toBe('ping');
  });
});
