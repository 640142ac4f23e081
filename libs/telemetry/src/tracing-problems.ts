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
 * The kind of a problem: its text with numbers and trace or span ids taken out ("Dropped 5 spans…"
 * and "Dropped 7 spans…" are one kind).
 */
export function problemKind(text: string): string {
  return text.replace(/\b[0-9a-f]{16}(?:[0-9a-f]{16})?\b/gi, '<id>').replace(/\d+/g, '<n>');
}

/**
 * Reports a problem at once, then problems of the same kind (problemKind) at most once per
 * `intervalMs`, with how many were held back in between.
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
    const kind = problemKind(text);
    const seen = this.seen.get(kind);
    if (seen && at - seen.reportedAt < this.intervalMs) {
      seen.heldBack += 1;
      return;
    }
    this.report(text, seen?.heldBack ?? 0);
    // Re-inserted, so the map's first key is the kind reported longest ago: the one forgotten first.
    this.seen.delete(kind);
    this.seen.set(kind, { reportedAt: at, heldBack: 0 });
    if (this.seen.size > MAX_PROBLEMS) this.seen.delete(this.seen.keys().next().value!);
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
  // Export failures are most of what reaches the global handler (a failed forceFlush or a bad sampler
  // setting would too).
  setGlobalErrorHandler((error) => reporter.problem(`tracing failed: ${messageOf(error)} (spans go to ${endpoint}; while this lasts, traces of this service are missing from Jaeger)`));
}
