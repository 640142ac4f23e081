// What goes wrong with tracing itself (spans that cannot reach Jaeger, spans dropped because the export
// queue is full) goes to the service's log, once a minute per kind of problem. OpenTelemetry reports
// these through its diagnostic logger and its global error handler, which print nothing unless set:
// an operator whose Jaeger was down, or whose service dropped spans, saw traces missing and no reason.
import { context, diag, DiagLogLevel, ROOT_CONTEXT, type DiagLogger } from '@opentelemetry/api';
import { setGlobalErrorHandler } from '@opentelemetry/core';
import type { Logger } from './logging';

/** How often the same problem is logged at most. */
export const PROBLEM_REPORT_INTERVAL_MS = 60_000;

/** Distinct problems remembered at most (the texts are few in practice: a failing export repeats one). */
const MAX_PROBLEMS = 100;

/**
 * Reports each distinct problem at once, then at most once per `intervalMs`, with how many times it
 * happened in between (held back).
 */
export class ThrottledReporter {
  private readonly seen = new Map<string, { reportedAt: number; heldBack: number }>();

  constructor(
    private readonly report: (problem: string, heldBack: number) => void,
    private readonly intervalMs = PROBLEM_REPORT_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  problem(text: string): void {
    const at = this.now();
    const seen = this.seen.get(text);
    if (seen && at - seen.reportedAt < this.intervalMs) {
      seen.heldBack += 1;
      return;
    }
    if (!seen && this.seen.size >= MAX_PROBLEMS) this.seen.clear();
    this.report(text, seen?.heldBack ?? 0);
    this.seen.set(text, { reportedAt: at, heldBack: 0 });
  }
}

/** An error's message (OTLP export errors carry the HTTP status or the socket error in it). */
function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' && message !== '' ? message : String(error);
}

/**
 * Sends OpenTelemetry's own warnings and errors to `logger` (warn), throttled: failed exports to
 * `endpoint` and dropped spans among them.
 */
export function reportTracingProblems(logger: Logger, endpoint: string, intervalMs = PROBLEM_REPORT_INTERVAL_MS): void {
  // Outside any trace: the log line is about tracing, not about the request that happened to be running.
  const reporter = new ThrottledReporter((problem, heldBack) => context.with(ROOT_CONTEXT, () => logger.warn(heldBack > 0 ? { heldBack } : {}, problem)), intervalMs);
  const ignore = (): void => undefined;
  const diagnostics: DiagLogger = {
    error: (message) => reporter.problem(`tracing: ${message}`),
    warn: (message) => reporter.problem(`tracing: ${message}`),
    info: ignore,
    debug: ignore,
    verbose: ignore,
  };
  diag.setLogger(diagnostics, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  setGlobalErrorHandler((error) => reporter.problem(`tracing: spans could not be exported to ${endpoint} (${messageOf(error)}); traces of this service are missing from Jaeger meanwhile`));
}
