// Test helpers over the traces read back from Jaeger (apps/cli/src/jaeger.ts reads them).
import type { JaegerSpan, JaegerTrace } from '../src/jaeger';

/** The first span of `service` whose operation name matches. */
export function findSpan(trace: JaegerTrace, service: string, operation: string | RegExp): JaegerSpan | undefined {
  return trace.spans.find((span) => span.service === service && (typeof operation === 'string' ? span.operationName === operation : operation.test(span.operationName)));
}

/** True when `span` descends from `ancestor` through CHILD_OF references. */
export function descendsFrom(trace: JaegerTrace, span: JaegerSpan, ancestor: JaegerSpan): boolean {
  const byId = new Map(trace.spans.map((entry) => [entry.spanId, entry]));
  const pending = [...span.parentSpanIds];
  const visited = new Set<string>();
  while (pending.length > 0) {
    const id = pending.pop()!;
    if (id === ancestor.spanId) return true;
    if (visited.has(id)) continue;
    visited.add(id);
    pending.push(...(byId.get(id)?.parentSpanIds ?? []));
  }
  return false;
}
