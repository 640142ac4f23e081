// Calls with a trace of their own, read back from Jaeger's HTTP query API (what an operator's UI reads):
// the benchmarks split a lag by stage from them, the end-to-end tests check what a trace holds.
import { randomBytes } from 'node:crypto';
import { Metadata } from '@grpc/grpc-js';

/** One span as Jaeger's /api/traces returns it, with its service resolved; times in ms since the epoch. */
export interface JaegerSpan {
  readonly spanId: string;
  readonly operationName: string;
  readonly service: string;
  readonly parentSpanIds: readonly string[];
  readonly startMs: number;
  readonly endMs: number;
  readonly tags: Readonly<Record<string, unknown>>;
}

/** A trace as Jaeger holds it: its spans and each service's resource attributes (process tags). */
export interface JaegerTrace {
  readonly spans: readonly JaegerSpan[];
  readonly resources: ReadonlyMap<string, Readonly<Record<string, unknown>>>;
}

interface RawTrace {
  readonly processes: Record<string, { readonly serviceName: string; readonly tags: readonly { key: string; value: unknown }[] }>;
  readonly spans: readonly {
    readonly spanID: string;
    readonly operationName: string;
    readonly processID: string;
    readonly startTime: number;
    readonly duration: number;
    readonly references: readonly { refType: string; spanID: string }[];
    readonly tags: readonly { key: string; value: unknown }[];
  }[];
}

const tagsOf = (tags: readonly { key: string; value: unknown }[]): Record<string, unknown> => Object.fromEntries(tags.map((tag) => [tag.key, tag.value]));

/** The trace with this id (no spans when Jaeger does not hold it, or not yet); Jaeger's microseconds become ms. */
export async function fetchTrace(jaegerUrl: string, traceId: string): Promise<JaegerTrace> {
  const response = await fetch(`${jaegerUrl.replace(/\/$/, '')}/api/traces/${traceId}`);
  if (response.status === 404) return { spans: [], resources: new Map() };
  if (!response.ok) throw new Error(`Jaeger answered ${response.status} for trace ${traceId}`);
  const raw = ((await response.json()) as { data?: RawTrace[] }).data?.[0];
  if (!raw) return { spans: [], resources: new Map() };
  return {
    spans: raw.spans.map((span) => ({
      spanId: span.spanID,
      operationName: span.operationName,
      service: raw.processes[span.processID]?.serviceName ?? '?',
      parentSpanIds: span.references.filter((reference) => reference.refType === 'CHILD_OF').map((reference) => reference.spanID),
      startMs: span.startTime / 1000,
      endMs: (span.startTime + span.duration) / 1000,
      tags: tagsOf(span.tags),
    })),
    resources: new Map(Object.values(raw.processes).map((process) => [process.serviceName, tagsOf(process.tags)])),
  };
}

/** A new sampled W3C trace context for a call: the services record its trace whatever their sample ratio (parent-based sampling). */
export function sampledTraceContext(): { readonly traceId: string; readonly metadata: Metadata } {
  const traceId = randomBytes(16).toString('hex');
  const metadata = new Metadata();
  metadata.set('traceparent', `00-${traceId}-${randomBytes(8).toString('hex')}-01`);
  return { traceId, metadata };
}
