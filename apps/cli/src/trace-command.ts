// `orrery trace`: a trace read back from Jaeger's query API and drawn in the terminal (trace-view.ts),
// or a list of the newest traces of a service.
import { writeFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { fetchTrace, listServices, searchTraces, type JaegerTrace } from './jaeger';
import { parseLookback, parseTraceId, renderTraceList, renderWaterfall, waterfallSvg } from './trace-view';

export const TRACE_USAGE = `  trace <trace id> [--attributes] [--expand] [--svg FILE] [--wait SECONDS]
  trace --service NAME [--operation NAME] [--limit N] [--lookback 1h] [--last [--attributes] [--expand] [--svg FILE]]
                     read a trace back from Jaeger's query API and draw it: each span under its
                     parent, when it started, how long it took, which failed; runs of like sibling
                     spans (a request's Redis reads) on one line unless --expand; --attributes:
                     every span's attributes; --svg: the waterfall as a picture. Waits up to --wait
                     seconds (default 10) for the spans to arrive. The trace id may be a whole
                     traceparent header. With --service: the newest traces with a span of that
                     service (--last draws the newest one)
`;

/** How long a trace's span count must stay the same before it counts as complete (the services export every 500 ms). */
const SETTLED_MS = 1_200;
const POLL_MS = 400;

/**
 * The trace, polled until its span count has not changed for SETTLED_MS (spans of several services
 * arrive in their own export batches), or until `waitMs`; undefined when Jaeger holds none of it by then.
 */
async function settledTrace(jaegerUrl: string, traceId: string, waitMs: number): Promise<JaegerTrace | undefined> {
  const deadline = Date.now() + waitMs;
  let count = 0;
  let changedAt = Date.now();
  for (;;) {
    const trace = await fetchTrace(jaegerUrl, traceId);
    if (trace.spans.length !== count) {
      count = trace.spans.length;
      changedAt = Date.now();
    }
    const settled = count > 0 && Date.now() - changedAt >= SETTLED_MS;
    if (settled || Date.now() >= deadline) return count > 0 ? trace : undefined;
    await delay(POLL_MS);
  }
}

class UsageError extends Error {}

/** An error's message (also of errors from another realm, such as Node's own under a test runner's sandbox). */
function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : String(error);
}

/** `parse()`'s value; what it throws becomes a usage error (exit code 2, with the usage). */
function asUsage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new UsageError(messageOf(error));
  }
}

function wholeNumber(flag: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || value < min || value > max) throw new UsageError(`--${flag} "${text}" must be a whole number from ${min} to ${max}`);
  return value;
}

/** Runs `orrery trace` with `args`; returns the exit code (0 drawn or listed, 1 nothing found or Jaeger unreachable, 2 usage). */
export async function traceCommand(jaegerUrl: string, args: readonly string[]): Promise<number> {
  const write = (text: string): void => void process.stdout.write(`${text}\n`);
  const fail = (text: string): void => void process.stderr.write(`${text}\n`);
  try {
    const { values, positionals } = asUsage(() =>
      parseArgs({
          args: [...args],
          allowPositionals: true,
          options: {
            attributes: { type: 'boolean', default: false },
            expand: { type: 'boolean', default: false },
            svg: { type: 'string' },
            wait: { type: 'string', default: '10' },
            service: { type: 'string' },
            operation: { type: 'string' },
            limit: { type: 'string', default: '20' },
            lookback: { type: 'string', default: '1h' },
          last: { type: 'boolean', default: false },
        },
      }),
    );
    const draw = (trace: JaegerTrace): void => {
      write(renderWaterfall(trace, { width: process.stdout.columns ?? (Number(process.env['COLUMNS']) || 160), attributes: values.attributes, expand: values.expand, color: process.stdout.isTTY === true && !process.env['NO_COLOR'] }));
      if (values.svg !== undefined) {
        writeFileSync(values.svg, waterfallSvg(trace, values.expand));
        write(`\nwaterfall: ${values.svg}`);
      }
    };
    if (positionals.length > 1) throw new UsageError(`one trace id at a time, not ${positionals.length}`);
    if (positionals.length === 1) {
      if (values.service !== undefined || values.last) throw new UsageError('a trace id or --service, not both');
      const traceId = asUsage(() => parseTraceId(positionals[0]!));
      const waitSeconds = wholeNumber('wait', values.wait, 0, 600);
      const trace = await settledTrace(jaegerUrl, traceId, waitSeconds * 1000);
      if (!trace) {
        fail(
          `trace ${traceId} is not in Jaeger at ${jaegerUrl} (waited ${waitSeconds} s). Spans reach Jaeger a second or so after the call; ` +
            `Jaeger (in memory) forgets them when it restarts; a call is traced when it is sampled (ORRERY_TRACE_SAMPLE_RATIO, or a traceparent header ending in -01).`,
        );
        return 1;
      }
      draw(trace);
      return 0;
    }
    if (values.service === undefined) {
      if (values.operation !== undefined || values.last) throw new UsageError('--operation and --last search the traces of a --service');
      const services = await listServices(jaegerUrl).then(
        (names) => ` (services in Jaeger: ${names.join(', ') || 'none yet'})`,
        () => '',
      );
      throw new UsageError(`name a trace id, or --service NAME to list its newest traces${services}`);
    }
    const limit = wholeNumber('limit', values.limit, 1, 1_000);
    const lookbackMs = asUsage(() => parseLookback(values.lookback));
    const traces = await searchTraces(jaegerUrl, { service: values.service, operation: values.operation, limit: values.last ? 1 : limit, lookbackMs });
    if (traces.length === 0) {
      const services = await listServices(jaegerUrl);
      const known = services.includes(values.service) ? '' : ` Jaeger has no spans of "${values.service}" at all; its services: ${services.join(', ') || 'none yet'}.`;
      fail(`no traces of ${values.service}${values.operation === undefined ? '' : ` with a span "${values.operation}"`} in the last ${values.lookback} in Jaeger at ${jaegerUrl}.${known}`);
      return 1;
    }
    if (values.last) {
      draw(traces[0]!);
      return 0;
    }
    write(renderTraceList(traces));
    write(`\ndraw one: orrery trace <trace id>   (npm run orrery -- trace <trace id>)`);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      fail(`orrery trace: ${error.message}\n\n${TRACE_USAGE}`);
      return 2;
    }
    fail(`orrery trace: ${messageOf(error)}`);
    return 1;
  }
}
