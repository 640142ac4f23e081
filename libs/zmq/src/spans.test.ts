import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { pino } from 'pino';
import { ServiceError, status } from '@orrery/grpc';
import { serveZmqRequests, ZmqRequestClient, type RunningZmqServer } from './index';

// Spans are collected in memory: the client's and the server's span of each request are checked without Jaeger.
const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
provider.register();

describe('the spans of a ZeroMQ request', () => {
  let server: RunningZmqServer;
  let client: ZmqRequestClient;
  const endpoint = `ipc:///tmp/orrery-zmq-spans-test-${process.pid}`;

  beforeAll(async () => {
    server = await serveZmqRequests({
      endpoint,
      name: 'store',
      logger: pino({ level: 'silent' }),
      handler: async (payload) => {
        if (payload.toString() === 'down') throw new ServiceError(status.UNAVAILABLE, 'postgres: connection refused');
        return payload;
      },
    });
    client = new ZmqRequestClient({ endpoint, name: 'store', timeoutMs: 2_000 });
  });
  afterAll(async () => {
    await client.close();
    await server.close();
    await provider.shutdown();
  });
  beforeEach(() => exporter.reset());

  /** The finished client and server span of the one request made since the last reset. */
  const spansOfTheRequest = () => {
    const spans = exporter.getFinishedSpans();
    const clientSpan = spans.find((span) => span.kind === SpanKind.CLIENT);
    const serverSpan = spans.find((span) => span.kind === SpanKind.SERVER);
    expect(clientSpan?.name).toBe('store request');
    expect(serverSpan?.name).toBe('store serve');
    expect(serverSpan?.parentSpanContext?.spanId).toBe(clientSpan?.spanContext().spanId);
    return { clientSpan: clientSpan!, serverSpan: serverSpan! };
  };

  it('when the handler fails, both the server span and the client span are marked failed with the status code and message', async () => {
    await expect(client.request(Buffer.from('down'))).rejects.toMatchObject({ code: status.UNAVAILABLE });
    const { clientSpan, serverSpan } = spansOfTheRequest();
    expect(serverSpan.status).toEqual({ code: SpanStatusCode.ERROR, message: 'postgres: connection refused' });
    expect(serverSpan.attributes['rpc.grpc.status_code']).toBe(status.UNAVAILABLE);
    expect(clientSpan.status).toEqual({ code: SpanStatusCode.ERROR, message: 'postgres: connection refused' });
    expect(clientSpan.attributes['rpc.grpc.status_code']).toBe(status.UNAVAILABLE);
  });

  it('when the handler answers, neither span is marked failed and both carry status code OK', async () => {
    expect(String(await client.request(Buffer.from('fine')))).toBe('fine');
    const { clientSpan, serverSpan } = spansOfTheRequest();
    expect(serverSpan.status.code).toBe(SpanStatusCode.UNSET);
    expect(clientSpan.status.code).toBe(SpanStatusCode.UNSET);
    expect(serverSpan.attributes['rpc.grpc.status_code']).toBe(status.OK);
    expect(clientSpan.attributes['rpc.grpc.status_code']).toBe(status.OK);
  });

  it("when the answer carries an error of the service's own (requestDecoded's decode refuses it), the client span is marked failed while its status code says OK", async () => {
    const refuse = (body: Buffer): string => {
      if (String(body) === 'no model') throw new Error('scoring: no model promoted yet');
      return String(body);
    };
    await expect(client.requestDecoded(Buffer.from('no model'), refuse)).rejects.toThrow('scoring: no model promoted yet');
    const { clientSpan } = spansOfTheRequest();
    expect(clientSpan.status).toEqual({ code: SpanStatusCode.ERROR, message: 'scoring: no model promoted yet' });
    expect(clientSpan.attributes['rpc.grpc.status_code']).toBe(status.OK);

    exporter.reset();
    expect(await client.requestDecoded(Buffer.from('fine'), refuse)).toBe('fine');
    expect(spansOfTheRequest().clientSpan.status.code).toBe(SpanStatusCode.UNSET);
  });
});
