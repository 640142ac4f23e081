import { diag } from '@opentelemetry/api';
import { ExportResultCode, globalErrorHandler } from '@opentelemetry/core';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Logger } from './logging';
import { problemKind, reportTracingProblems, ThrottledReporter } from './tracing-problems';

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

describe('problemKind', () => {
  it('takes numbers and trace or span ids out of a problem, so that repeats of one kind are one kind', () => {
    expect(problemKind('Dropped 5 spans because maxQueueSize reached')).toBe(problemKind('Dropped 12 spans because maxQueueSize reached'));
    expect(problemKind('Cannot execute the operation on ended Span {traceId: 4bf92f3577b34da6a3ce929d0e0e4736, spanId: 00f067aa0ba902b7}')).toBe(
      'Cannot execute the operation on ended Span {traceId: <id>, spanId: <id>}',
    );
    expect(problemKind('connect ECONNREFUSED')).not.toBe(problemKind('socket hang up'));
  });
});

describe('reportTracingProblems', () => {
  afterEach(() => diag.disable());

  it("when OpenTelemetry warns (dropped spans) or fails an export, the service's log says so, once per interval", () => {
    const { logger, lines } = warnings();
    reportTracingProblems(logger, 'http://jaeger:4318/v1/traces');
    diag.warn('Dropped 5 spans because maxQueueSize reached');
    diag.warn('Dropped 7 spans because maxQueueSize reached');
    diag.info('not a problem');
    globalErrorHandler(new Error('connect ECONNREFUSED 127.0.0.1:4318'));
    globalErrorHandler(new Error('connect ECONNREFUSED 127.0.0.1:4318'));
    expect(lines).toEqual([
      { fields: {}, message: 'tracing: Dropped 5 spans because maxQueueSize reached' },
      {
        fields: {},
        message: 'tracing failed: connect ECONNREFUSED 127.0.0.1:4318 (spans go to http://jaeger:4318/v1/traces; while this lasts, traces of this service are missing from Jaeger)',
      },
    ]);
  });

  it("when the batch span processor's export fails, the warning gives the exporter's reason and the endpoint", async () => {
    const { logger, lines } = warnings();
    reportTracingProblems(logger, 'http://127.0.0.1:4318/v1/traces');
    // As the OTLP exporter reports a refused connection (its HTTP transport cannot load under Jest's sandbox).
    const refusing: SpanExporter = {
      export: (_spans, done) => done({ code: ExportResultCode.FAILED, error: new Error('connect ECONNREFUSED 127.0.0.1:4318') }),
      shutdown: async () => undefined,
    };
    const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(refusing, { scheduledDelayMillis: 10 })] });
    provider.getTracer('test').startSpan('lost').end();
    const deadline = Date.now() + 5_000;
    while (lines.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(lines.map((line) => line.message)).toEqual([
      'tracing failed: connect ECONNREFUSED 127.0.0.1:4318 (spans go to http://127.0.0.1:4318/v1/traces; while this lasts, traces of this service are missing from Jaeger)',
    ]);
    await provider.shutdown().catch(() => undefined);
  });
});
