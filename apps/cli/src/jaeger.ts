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
  readonly traceId: string;
  readonly spans: readonly JaegerSpan[];
  readonly resources: ReadonlyMap<string, Readonly<Record<string, unknown>>>;
}

interface RawTrace {
  readonly traceID: string;
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

/** How long one query API call may take before it counts as failed (a Jaeger that accepts and never answers). */
const JAEGER_ANSWER_TIMEOUT_MS = 10_000;

/** Jaeger's answer to a query API path, as JSON; undefined for 404. Fails naming the URL when Jaeger cannot be reached. */
async function getJson(jaegerUrl: string, path: string): Promise<unknown> {
  const url = `${jaegerUrl.replace(/\/$/, '')}${path}`;
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(JAEGER_ANSWER_TIMEOUT_MS) });
  } catch (error) {
    // fetch fails with "fetch failed"; the reason (ECONNREFUSED…) is its cause.
    const cause = (error as { cause?: { message?: unknown } }).cause?.message;
    throw new Error(`cannot reach Jaeger's query API at ${jaegerUrl} (${typeof cause === 'string' ? cause : String(error)}); is the platform up (npm start)? ORRERY_JAEGER_QUERY_URL names another Jaeger`);
  }
  if (response.status === 404) return undefined;
  if (!response.ok) throw new Error(`Jaeger answered ${response.status} ${response.statusText} for ${url}: ${(await response.text()).slice(0, 200)}`);
  return response.json();
}

function traceOf(raw: RawTrace): JaegerTrace {
  return {
    traceId: raw.traceID,
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

/** The trace with this id (no spans when Jaeger does not hold it, or not yet); Jaeger's microseconds become ms. */
export async function fetchTrace(jaegerUrl: string, traceId: string): Promise<JaegerTrace> {
  const raw = ((await getJson(jaegerUrl, `/api/traces/${traceId}`)) as { data?: RawTrace[] } | undefined)?.data?.[0];
  return raw ? traceOf(raw) : { traceId, spans: [], resources: new Map() };
}

/** Traces read from Jaeger at a time by fetchCompleteTraces. */
const TRACE_FETCHES_IN_FLIGHT = 8;

/**
 * The traces of `traceIds` once each is `complete`, read again once a second, `attempts` times at most
 * (each service exports its spans within ~0.5 s of their end, in its own batches); a trace never found
 * complete is left out.
 */
export async function fetchCompleteTraces(jaegerUrl: string, traceIds: readonly string[], complete: (trace: JaegerTrace) => boolean, attempts = 5): Promise<Map<string, JaegerTrace>> {
  const traces = new Map<string, JaegerTrace>();
  for (let attempt = 0; attempt < attempts && traces.size < traceIds.length; attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const missing = traceIds.filter((traceId) => !traces.has(traceId));
    for (let next = 0; next < missing.length; next += TRACE_FETCHES_IN_FLIGHT) {
      await Promise.all(
        missing.slice(next, next + TRACE_FETCHES_IN_FLIGHT).map(async (traceId) => {
          const trace = await fetchTrace(jaegerUrl, traceId);
          if (complete(trace)) traces.set(traceId, trace);
        }),
      );
    }
  }
  return traces;
}

/** What a search for traces asks: traces with a span of `service` (named `operation`) that started within the last `lookbackMs`. */
export interface TraceSearch {
  readonly service: string;
  readonly operation?: string;
  readonly limit: number;
  readonly lookbackMs: number;
}

/** The traces Jaeger finds for a search, whole, newest first (a trace without spans left out). */
export async function searchTraces(jaegerUrl: string, search: TraceSearch): Promise<JaegerTrace[]> {
  const endUs = Date.now() * 1000;
  const query = new URLSearchParams({ service: search.service, limit: String(search.limit), start: String(endUs - search.lookbackMs * 1000), end: String(endUs) });
  if (search.operation !== undefined) query.set('operation', search.operation);
  const raws = ((await getJson(jaegerUrl, `/api/traces?${query}`)) as { data?: RawTrace[] | null } | undefined)?.data ?? [];
  return raws
    .map(traceOf)
    .filter((trace) => trace.spans.length > 0)
    .sort((a, b) => traceStartMs(b) - traceStartMs(a));
}

/** When the trace's first span started (ms since the epoch; Infinity for no spans). */
export function traceStartMs(trace: JaegerTrace): number {
  let start = Infinity;
  for (const span of trace.spans) start = Math.min(start, span.startMs);
  return start;
}

/** When the trace's last span ended (ms since the epoch; -Infinity for no spans). */
export function traceEndMs(trace: JaegerTrace): number {
  let end = -Infinity;
  for (const span of trace.spans) end = Math.max(end, span.endMs);
  return end;
}

/** How long the trace took, its first span's start to its last span's end, in ms. */
export function traceDurationMs(trace: JaegerTrace): number {
  return traceEndMs(trace) - traceStartMs(trace);
}

/** The services Jaeger has spans of. */
export async function listServices(jaegerUrl: string): Promise<string[]> {
  return (((await getJson(jaegerUrl, '/api/services')) as { data?: string[] | null } | undefined)?.data ?? []).sort();
}

/** A new sampled W3C trace context for a call: the services record its trace whatever their sample ratio (parent-based sampling). */
export function sampledTraceContext(): { readonly traceId: string; readonly metadata: Metadata } {
  const traceId = randomBytes(16).toString('hex');
  const metadata = new Metadata();
  metadata.set('traceparent', `00-${traceId}-${randomBytes(8).toString('hex')}-01`);
  return { traceId, metadata };
}
