import { trace } from '@opentelemetry/api';
import pino, { type DestinationStream, type Logger } from 'pino';
import { withoutPasswords } from '@orrery/config';

/**
 * A JSON (pino) logger whose lines carry the active trace and span ids. A URL in a line's fields or
 * message is written without its password (`redis://:***@host`): services log the endpoints they use,
 * and ORRERY_REDIS_URL or ORRERY_POSTGRES_URL may hold one. `destination` defaults to stdout.
 */
export function createLogger(serviceName: string, level: string, destination?: DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    name: serviceName,
    level,
    base: { service: serviceName, pid: process.pid },
    mixin() {
      const spanContext = trace.getActiveSpan()?.spanContext();
      return spanContext ? { trace_id: spanContext.traceId, span_id: spanContext.spanId } : {};
    },
    formatters: { log: scrubPasswords },
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((arg) => (typeof arg === 'string' ? withoutPasswords(arg) : arg)) as Parameters<typeof method>);
      },
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** A line's fields with each string field (top level) written without URL passwords. */
function scrubPasswords(fields: Record<string, unknown>): Record<string, unknown> {
  let scrubbed: Record<string, unknown> | undefined;
  for (const [key, value] of Object.entries(fields)) {
    if (typeof value !== 'string') continue;
    const clean = withoutPasswords(value);
    if (clean !== value) (scrubbed ??= { ...fields })[key] = clean;
  }
  return scrubbed ?? fields;
}

export type { Logger };
