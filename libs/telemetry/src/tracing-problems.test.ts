import { diag } from '@opentelemetry/api';
import { globalErrorHandler } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createServer } from 'node:net';
import type { Logger } from './logging';
import { reportTracingProblems, ThrottledReporter } from './tracing-problems';

describe('ThrottledReporter', () => {
  it('reports a problem at once, holds back its repeats for the interval, then reports it with how many were held back', () => {
    const reported: [string, number][] = [];
    let clock = 0;
    const reporter = new ThrottledReporter((problem, heldBack) => reported.push([problem, heldBack]), 60_000, () => clock);
    reporter.problem('export failed');
    clock = 1_000;
    reporter.problem('export failed');
    reporter.problem('export failed');
    reporter.problem('spans dropped');
    clock = 61_000;
    reporter.problem('export failed');
    expect(reported).toEqual([
      ['export failed', 0],
      ['spans dropped', 0],
      ['export failed', 2],
    ]);
  });
});

/** A logger whose warnings are kept. */
function warnings(): { logger: Logger; lines: { fields: object; message: string }[] } {
  const lines: { fields: object; message: string }[] = [];
  const logger = { warn: (fields: object, message: string) => void lines.push({ fields, message }) } as unknown as Logger;
  return { logger, lines };
}

describe('reportTracingProblems', () => {
  afterEach(() => diag.disable());

  it("when OpenTelemetry warns (dropped spans) or fails an export, the service's log says so, once per interval", () => {
    const { logger, lines } = warnings();
    reportTracingProblems(logger, 'http://jaeger:4318/v1/traces');
    diag.warn('Dropped 5 spans because maxQueueSize reached');
    diag.info('not a problem');
    globalErrorHandler(new Error('connect ECONNREFUSED 127.0.0.1:4318'));
    globalErrorHandler(new Error('connect ECONNREFUSED 127.0.0.1:4318'));
    expect(lines).toEqual([
      { fields: {}, message: 'tracing: Dropped 5 spans because maxQueueSize reached' },
      {
        fields: {},
        message: 'tracing: spans could not be exported to http://jaeger:4318/v1/traces (connect ECONNREFUSED 127.0.0.1:4318); traces of this service are missing from Jaeger meanwhile',
      },
    ]);
  });

  it('when spans are exported to an endpoint nothing listens on, a warning names it', async () => {
    const server = createServer();
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
    const { port } = server.address() as { port: number };
    await new Promise((closed) => server.close(closed));
    const url = `http://127.0.0.1:${port}/v1/traces`;
    const { logger, lines } = warnings();
    reportTracingProblems(logger, url);
    const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url, timeoutMillis: 2_000 }), { scheduledDelayMillis: 10 })] });
    provider.getTracer('test').startSpan('lost').end();
    const deadline = Date.now() + 15_000;
    while (!lines.some((line) => line.message.includes(`spans could not be exported to ${url}`)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(lines.map((line) => line.message)).toContainEqual(expect.stringContaining(`tracing: spans could not be exported to ${url} (`));
    await provider.shutdown().catch(() => undefined);
  }, 20_000);
});
