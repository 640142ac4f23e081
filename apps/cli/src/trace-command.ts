// `orrery trace`: a trace read back from Jaeger's query API and drawn in the terminal (trace-view.ts),
// or a list of the newest traces of a service.
import { writeFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { durationOption, integerOption, parseOptions, USAGE_EXIT_CODE, UsageError, usageErrorText, wantsHelp } from '@orrery/config';
import { formatPercentile, percentiles } from '@orrery/metrics';
import { fetchTrace, listServices, searchTraces, traceDurationMs, type JaegerTrace } from './jaeger';
import { parseTraceId, renderTraceList, renderWaterfall, waterfallSvg } from './trace-view';

export const TRACE_USAGE = `  trace <trace id> [--attributes] [--expand] [--svg FILE] [--wait SECONDS]
  trace --service NAME [--operation NAME] [--limit N] [--lookback 1h]
  trace --service NAME [--operation NAME] [--lookback 1h] --last [--attributes] [--expand] [--svg FILE] [--wait SECONDS]
  trace --service NAME [--operation NAME] [--lookback 1h] --slowest [--limit N] [--attributes] [--expand] [--svg FILE] [--wait SECONDS]
                     read a trace back from Jaeger's query API and draw it: each span under its
                     parent, when it started, how long it took, which failed; runs of like sibling
                     spans (a request's Redis reads) on one line unless --expand; --attributes:
                     every span's attributes; --svg: the waterfall as a picture. Polls until no new
                     span has come for 2 s, up to --wait seconds (default 10). The trace id may be
                     a whole traceparent header. With --service: the newest traces with a span of
                     that service (--last draws the newest one; --slowest the longest of the newest
                     --limit, default 1000, with their p50 and p99: what a slow request is made of)
`;

/** How `orrery trace` polls Jaeger for a trace's spans (tests shorten it). */
export interface TracePolling {
  /** A trace counts as complete once no new span has come for this long (services export every 500 ms). */
  readonly settledMs: number;
  readonly pollMs: number;
}

export const TRACE_POLLING: TracePolling = { settledMs: 2_000, pollMs: 400 };

/** The default of --wait, in seconds. */
const DEFAULT_WAIT_SECONDS = 10;

/** Traces a --last search reads to find the newest (a Jaeger backend need not return the newest first). */
const LAST_SEARCH_LIMIT = 20;

/** Traces a --slowest search reads by default, and at most. */
const SLOWEST_SEARCH_LIMIT = 1_000;
const MAX_SLOWEST_SEARCH_LIMIT = 10_000;

/**
 * The trace, polled until no new span has come for `settledMs` (the services export their spans in
 * their own batches), or until `waitMs`: `settled` false when spans were still coming then; undefined
 * when Jaeger holds none of it by then.
 */
async function settledTrace(jaegerUrl: string, traceId: string, waitMs: number, polling: TracePolling): Promise<{ trace: JaegerTrace; settled: boolean } | undefined> {
  const deadline = Date.now() + waitMs;
  let count = 0;
  let changedAt = Date.now();
  for (;;) {
    const trace = await fetchTrace(jaegerUrl, traceId);
    if (trace.spans.length !== count) {
      count = trace.spans.length;
      changedAt = Date.now();
    }
    const settled = count > 0 && Date.now() - changedAt >= polling.settledMs;
    if (settled || Date.now() >= deadline) return count > 0 ? { trace, settled } : undefined;
    await delay(polling.pollMs);
  }
}

/** An error's message (also of errors from another realm, such as Node's own under a test runner's sandbox). */
function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : String(error);
}

/** Runs `orrery trace` with `args`; returns the exit code (0 drawn or listed, 1 nothing found or Jaeger unreachable, 2 usage). */
export async function traceCommand(jaegerUrl: string, args: readonly string[], polling: TracePolling = TRACE_POLLING): Promise<number> {
  const write = (text: string): void => void process.stdout.write(`${text}\n`);
  const fail = (text: string): void => void process.stderr.write(`${text}\n`);
  if (wantsHelp(args)) {
    write(TRACE_USAGE.trimEnd().replace(/^  trace/gm, 'orrery trace'));
    return 0;
  }
  try {
    const { values, positionals } = parseOptions({
      args: [...args],
      allowPositionals: true,
      options: {
        attributes: { type: 'boolean', default: false },
        expand: { type: 'boolean', default: false },
        svg: { type: 'string' },
        wait: { type: 'string' },
        service: { type: 'string' },
        operation: { type: 'string' },
        limit: { type: 'string' },
        lookback: { type: 'string', default: '1h' },
        last: { type: 'boolean', default: false },
        slowest: { type: 'boolean', default: false },
      },
    });
    const drawing = values.attributes || values.expand || values.svg !== undefined || values.wait !== undefined;
    const waitMs = 1000 * (values.wait === undefined ? DEFAULT_WAIT_SECONDS : integerOption('wait', values.wait, 0, 600));
    /** Draws the trace once its spans have settled (or --wait is up); false when Jaeger holds none of it. */
    const draw = async (traceId: string): Promise<boolean> => {
      const found = await settledTrace(jaegerUrl, traceId, waitMs, polling);
      if (!found) return false;
      const width = process.stdout.columns ?? (Number(process.env['COLUMNS']) || 160);
      write(renderWaterfall(found.trace, { width, attributes: values.attributes, expand: values.expand, color: process.stdout.isTTY === true && !process.env['NO_COLOR'] }));
      if (values.svg !== undefined) {
        writeFileSync(values.svg, waterfallSvg(found.trace, values.expand));
        write(`\nwaterfall: ${values.svg}`);
      }
      if (!found.settled) fail(`(spans of trace ${traceId} were still arriving after ${waitMs / 1000} s: run it again for the rest)`);
      return true;
    };

    if (positionals.length > 1) throw new UsageError(`one trace id at a time, not ${positionals.length}`);
    if (positionals.length === 1) {
      if (values.service !== undefined || values.last || values.slowest || values.limit !== undefined) throw new UsageError('a trace id or --service, not both');
      const traceId = parseTraceId(positionals[0]!);
      if (await draw(traceId)) return 0;
      fail(
        `trace ${traceId} is not in Jaeger at ${jaegerUrl} (waited ${waitMs / 1000} s). Spans reach Jaeger a second or so after the call; ` +
          `Jaeger (in memory) forgets them when it restarts; a call is traced when it is sampled (ORRERY_TRACE_SAMPLE_RATIO, or a traceparent header ending in -01).`,
      );
      return 1;
    }
    if (values.service === undefined) {
      if (values.operation !== undefined || values.last || values.slowest) throw new UsageError('--operation, --last and --slowest search the traces of a --service');
      const services = await listServices(jaegerUrl).then(
        (names) => ` (services in Jaeger: ${names.join(', ') || 'none yet'})`,
        () => '',
      );
      throw new UsageError(`name a trace id, or --service NAME to list its newest traces${services}`);
    }
    if (values.last && values.slowest) throw new UsageError('--last or --slowest, not both');
    if (values.last && values.limit !== undefined) throw new UsageError('--last draws the newest trace; --limit is for the list and --slowest');
    if (!values.last && !values.slowest && drawing) throw new UsageError('--attributes, --expand, --svg and --wait are for drawing one trace: name it, or add --last or --slowest');
    const limit = values.last
      ? LAST_SEARCH_LIMIT
      : values.slowest
        ? values.limit === undefined
          ? SLOWEST_SEARCH_LIMIT
          : integerOption('limit', values.limit, 1, MAX_SLOWEST_SEARCH_LIMIT)
        : values.limit === undefined
          ? 20
          : integerOption('limit', values.limit, 1, 1_000);
    const lookbackMs = durationOption('lookback', values.lookback);
    const traces = await searchTraces(jaegerUrl, { service: values.service, operation: values.operation, limit, lookbackMs });
    if (traces.length === 0) {
      const services = await listServices(jaegerUrl);
      const known = services.includes(values.service) ? '' : ` Jaeger has no spans of "${values.service}" at all; its services: ${services.join(', ') || 'none yet'}.`;
      fail(`no traces of ${values.service}${values.operation === undefined ? '' : ` with a span "${values.operation}"`} in the last ${values.lookback} in Jaeger at ${jaegerUrl}.${known}`);
      return 1;
    }
    if (values.last || values.slowest) {
      let chosen = traces[0]!;
      if (values.slowest) {
        const durations = traces.map(traceDurationMs);
        let longest = 0;
        for (let index = 1; index < traces.length; index++) if (durations[index]! > durations[longest]!) longest = index;
        chosen = traces[longest]!;
        const { p50, p99 } = percentiles(durations);
        const of = `${values.service}${values.operation === undefined ? '' : ` "${values.operation}"`}`;
        write(`the slowest of the newest ${traces.length} traces of ${of} in the last ${values.lookback}: ${durations[longest]!.toFixed(2)} ms (p50 ${formatPercentile('p50', p50, durations.length, 2)}, p99 ${formatPercentile('p99', p99, durations.length, 2)} ms)\n`);
      }
      if (await draw(chosen.traceId)) return 0;
      fail(`trace ${chosen.traceId} left Jaeger before it could be drawn`);
      return 1;
    }
    write(renderTraceList(traces));
    write(`\ndraw one: orrery trace <trace id>   (npm run -s orrery -- trace <trace id>)`);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(usageErrorText(`orrery trace: ${error.message}`, TRACE_USAGE));
      return USAGE_EXIT_CODE;
    }
    fail(`orrery trace: ${messageOf(error)}`);
    return 1;
  }
}
