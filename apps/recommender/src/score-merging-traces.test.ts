import { context, trace, type Context } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { CallLimits, FeatureMatrix, Scorer, Scores } from './ports';
import { mergingScorer } from './score-merging';

// Spans are kept in memory; the provider's context manager carries each request's trace into the merged call, as in the recommender.
const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
provider.register();
afterAll(() => provider.shutdown());

const matrix = (rows: number, schema = 's1'): FeatureMatrix => ({ rows, featureCount: 1, schema, values: Float32Array.from({ length: rows }, (_, index) => index) });

/** A scorer recording the trace each call was made in and the spans it was asked to link to. */
function tracingScorer(fail?: Error): Scorer & { calls: { traceId: string | undefined; rows: number; linkedSpans: string[] }[] } {
  const calls: { traceId: string | undefined; rows: number; linkedSpans: string[] }[] = [];
  return {
    calls,
    score: async (sent: FeatureMatrix, limits: CallLimits): Promise<Scores> => {
      calls.push({ traceId: trace.getActiveSpan()?.spanContext().traceId, rows: sent.rows, linkedSpans: (limits.links ?? []).map((link) => link.context.spanId) });
      if (fail) throw fail;
      return { scores: Array.from({ length: sent.rows }, () => 1), modelVersion: 'm1' };
    },
  };
}

/** A request's context: a root span of its own trace (as a Recommend's server span is). */
function request(): { context: Context; traceId: string; spanId: string } {
  const span = trace.getTracer('test').startSpan('Recommend');
  span.end();
  return { context: trace.setSpan(context.active(), span), traceId: span.spanContext().traceId, spanId: span.spanContext().spanId };
}

describe('the traces of merged score calls', () => {
  beforeEach(() => exporter.reset());

  it('when the calls of three requests are merged, the call goes in the first trace, linked to a scoring request span in each other request’s trace', async () => {
    const scorer = tracingScorer();
    const merging = mergingScorer(scorer);
    const requests = [request(), request(), request()];
    await Promise.all(requests.map((each, index) => context.with(each.context, () => merging.score(matrix(index + 1), { timeoutMs: 50 }))));

    expect(scorer.calls).toHaveLength(1);
    expect(scorer.calls[0]!.traceId).toBe(requests[0]!.traceId);
    const ownSpans = exporter.getFinishedSpans().filter((span) => span.name === 'scoring request');
    expect(ownSpans.map((span) => [span.spanContext().traceId, span.parentSpanContext?.spanId])).toEqual(requests.slice(1).map((each) => [each.traceId, each.spanId]));
    expect(ownSpans.map((span) => span.attributes['orrery.merged_into.trace_id'])).toEqual([requests[0]!.traceId, requests[0]!.traceId]);
    expect(scorer.calls[0]!.linkedSpans).toEqual(ownSpans.map((span) => span.spanContext().spanId));
  });

  it('when a turn’s calls cannot share one request, each request goes in the trace of its own first caller', async () => {
    const scorer = tracingScorer();
    const merging = mergingScorer(scorer);
    const [first, second] = [request(), request()];
    // Another feature schema: two requests in one turn.
    await Promise.all([
      context.with(first.context, () => merging.score(matrix(2, 's1'), { timeoutMs: 50 })),
      context.with(second.context, () => merging.score(matrix(3, 's2'), { timeoutMs: 50 })),
    ]);
    expect(scorer.calls.map((call) => [call.rows, call.traceId])).toEqual([
      [2, first.traceId],
      [3, second.traceId],
    ]);
  });

  it('when a merged call fails, each other request’s scoring request span is marked failed', async () => {
    const merging = mergingScorer(tracingScorer(new Error('scoring: no reply')));
    const requests = [request(), request()];
    await Promise.allSettled(requests.map((each) => context.with(each.context, () => merging.score(matrix(1), { timeoutMs: 50 }))));
    const ownSpans = exporter.getFinishedSpans().filter((span) => span.name === 'scoring request');
    expect(ownSpans.map((span) => [span.spanContext().traceId, span.status.message])).toEqual([[requests[1]!.traceId, 'scoring: no reply']]);
  });
});
