// Reading traces back from Jaeger's HTTP query API (what an operator's UI reads).

/** One span as Jaeger's /api/traces returns it, with its service resolved. */
export interface JaegerSpan {
  readonly spanId: string;
  readonly operationName: string;
  readonly service: string;
  readonly parentSpanIds: readonly string[];
  readonly tags: Readonly<Record<string, unknown>>;
}

/** A trace as Jaeger holds it: its spans and each service's resource attributes (process tags). */
export interface JaegerTrace {
  readonly spans: readonly JaegerSpan[];
  readonly resources: ReadonlyMap<string, Readonly<Record<string, unknown>>>;
}

interface RawTrace {
  processes: Record<string, { serviceName: string; tags: { key: string; value: unknown }[] }>;
  spans: { spanID: string; operationName: string; processID: string; references: { refType: string; spanID: string }[]; tags: { key: string; value: unknown }[] }[];
}

const tagsOf = (tags: readonly { key: string; value: unknown }[]): Record<string, unknown> => Object.fromEntries(tags.map((tag) => [tag.key, tag.value]));

/** The trace with this id (empty when Jaeger does not have it yet). */
export async function fetchTrace(jaegerUrl: string, traceId: string): Promise<JaegerTrace> {
  const response = await fetch(`${jaegerUrl}/api/traces/${traceId}`);
  if (!response.ok) return { spans: [], resources: new Map() };
  const body = (await response.json()) as { data?: RawTrace[] };
  const raw = body.data?.[0];
  if (!raw) return { spans: [], resources: new Map() };
  return {
    spans: raw.spans.map((span) => ({
      spanId: span.spanID,
      operationName: span.operationName,
      service: raw.processes[span.processID]?.serviceName ?? '?',
      parentSpanIds: span.references.filter((reference) => reference.refType === 'CHILD_OF').map((reference) => reference.spanID),
      tags: tagsOf(span.tags),
    })),
    resources: new Map(Object.values(raw.processes).map((process) => [process.serviceName, tagsOf(process.tags)])),
  };
}

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

/** A random W3C traceparent and its trace id, to send with a call and find its trace afterwards. */
export function newTraceparent(randomHex: (bytes: number) => string): { traceId: string; traceparent: string } {
  const traceId = randomHex(16);
  return { traceId, traceparent: `00-${traceId}-${randomHex(8)}-01` };
}
