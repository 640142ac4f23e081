import { trace } from '@opentelemetry/api';
import pino, { type Logger } from 'pino';

/** A JSON (pino) logger whose lines carry the active trace and span ids. */
export function createLogger(serviceName: string, level: string): Logger {
  return pino({
    name: serviceName,
    level,
    base: { service: serviceName, pid: process.pid },
    mixin() {
      const spanContext = trace.getActiveSpan()?.spanContext();
      return spanContext ? { trace_id: spanContext.traceId, span_id: spanContext.spanId } : {};
    },
  });
}

export type { Logger };
