// Downstream calls never fail a request: each runs under a deadline and settles into an Outcome, and
// a failed one becomes a degraded reason the response reports.
import type { CallLimits } from './ports';

/** The result of one downstream call: its value, or why it is missing. */
export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

/** A request's time budget for downstream calls. */
export interface DownstreamBudget {
  /** Deadline of one downstream call in ms (config.downstreamTimeoutMs). */
  readonly perCallTimeoutMs: number;
  /** Absolute epoch-ms deadline of the whole request (the caller's gRPC deadline), or Infinity. */
  readonly requestDeadlineMs: number;
  readonly now: () => number;
}

/** The timeout of a call started now: the per-call deadline, shortened to what the request has left (at least 1 ms). */
export function callTimeoutMs(budget: DownstreamBudget): number {
  return Math.max(1, Math.min(budget.perCallTimeoutMs, budget.requestDeadlineMs - budget.now()));
}

/**
 * Runs `call` with the budget's deadline and settles it: a rejection or a timeout becomes
 * `{ ok: false, reason: '<what> unavailable: <why>' }`. The deadline is enforced here as well as
 * passed to the call, so a stuck implementation cannot hold the request.
 */
export function callDownstream<T>(what: string, budget: DownstreamBudget, call: (limits: CallLimits) => Promise<T>): Promise<Outcome<T>> {
  const timeoutMs = callTimeoutMs(budget);
  // One promise and one timer per call (this runs ~8 times per Recommend): the first of the call and
  // the timer settles it; the later one finds it settled and is ignored.
  return new Promise<Outcome<T>>((resolve) => {
    const timer = setTimeout(() => resolve({ ok: false, reason: `${what} unavailable: no answer within ${timeoutMs} ms` }), timeoutMs);
    const settle = (outcome: Outcome<T>): void => {
      clearTimeout(timer);
      resolve(outcome);
    };
    let pending: Promise<T>;
    try {
      pending = call({ timeoutMs });
    } catch (error) {
      settle({ ok: false, reason: `${what} unavailable: ${describeError(error)}` });
      return;
    }
    pending.then(
      (value) => settle({ ok: true, value }),
      (error: unknown) => settle({ ok: false, reason: `${what} unavailable: ${describeError(error)}` }),
    );
  });
}

/** An outcome that needs no call (the input made it pointless, e.g. no recent items). */
export function skipped<T>(value: T): Outcome<T> {
  return { ok: true, value };
}

function describeError(error: unknown): string {
  if (error instanceof Error) return error.message.replace(/\s+/g, ' ').trim() || error.name;
  return String(error);
}
