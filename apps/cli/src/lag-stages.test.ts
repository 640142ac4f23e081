import { sampledTraceContext } from './jaeger';
import { formatStages, lagStages, type TimedSpan } from './lag-stages';

const span = (service: string, operationName: string, startMs: number, endMs: number, tags: Record<string, unknown> = {}): TimedSpan => ({ service, operationName, startMs, endMs, tags });

describe('lagStages', () => {
  // A batch of events 101..104 committed by one command (reply at 10 ms), sent by the relay in two
  // sends (101–102 at 20–25 ms, 103–104 at 40–48 ms), applied by the projector in two chunks.
  const trace = [
    span('ingestion', 'grpc.orrery.v1.IngestService/TrackBatch', 0, 12),
    span('command', 'command serve', 2, 10),
    span('command', 'events publish', 20, 25, { 'orrery.sequence': '101' }),
    span('command', 'events publish', 40, 48, { 'orrery.sequence': '103' }),
    span('projector', 'projector apply', 60, 70, { 'orrery.event.sequence': '101', 'orrery.projector.outcome': 'applied' }),
    span('projector', 'projector apply', 60, 70, { 'orrery.event.sequence': '102', 'orrery.projector.outcome': 'applied' }),
    span('projector', 'projector apply', 90, 95, { 'orrery.event.sequence': '103', 'orrery.projector.outcome': 'applied' }),
    span('projector', 'projector apply', 90, 95, { 'orrery.event.sequence': '104', 'orrery.projector.outcome': 'applied' }),
  ];

  it('times each applied event from the command reply, through the send that carried it, to its apply', () => {
    expect(lagStages(trace)).toEqual([
      { toRelaySend: 10, kafkaSend: 5, toApply: 35, apply: 10, total: 60 },
      { toRelaySend: 10, kafkaSend: 5, toApply: 35, apply: 10, total: 60 },
      { toRelaySend: 30, kafkaSend: 8, toApply: 42, apply: 5, total: 85 },
      { toRelaySend: 30, kafkaSend: 8, toApply: 42, apply: 5, total: 85 },
    ]);
  });

  it('leaves out a redelivered copy and an event sent before any send span of the trace', () => {
    const stages = lagStages([
      ...trace.slice(0, 4),
      span('projector', 'projector apply', 60, 70, { 'orrery.event.sequence': '100', 'orrery.projector.outcome': 'applied' }),
      span('projector', 'projector apply', 99, 100, { 'orrery.event.sequence': '103', 'orrery.projector.outcome': 'duplicate' }),
      span('projector', 'projector apply', 90, 95, { 'orrery.event.sequence': '103', 'orrery.projector.outcome': 'applied' }),
    ]);
    expect(stages).toEqual([{ toRelaySend: 30, kafkaSend: 8, toApply: 42, apply: 5, total: 85 }]);
  });

  it('counts each event of a span that covers several once, less its duplicates; a replanned call counts none', () => {
    const stages = lagStages([
      ...trace.slice(0, 4),
      span('projector', 'projector apply', 60, 66, { 'orrery.event.sequence': '101', 'orrery.projector.outcome': 'replanned', 'messaging.batch.message_count': 2 }),
      span('projector', 'projector apply', 60, 70, { 'orrery.event.sequence': '101', 'orrery.projector.outcome': 'applied', 'messaging.batch.message_count': 2, 'orrery.projector.duplicates': 0 }),
      span('projector', 'projector apply', 90, 95, { 'orrery.event.sequence': '103', 'orrery.projector.outcome': 'mixed', 'messaging.batch.message_count': 2, 'orrery.projector.duplicates': 1 }),
    ]);
    expect(stages).toEqual([
      { toRelaySend: 10, kafkaSend: 5, toApply: 35, apply: 10, total: 60 },
      { toRelaySend: 10, kafkaSend: 5, toApply: 35, apply: 10, total: 60 },
      { toRelaySend: 30, kafkaSend: 8, toApply: 42, apply: 5, total: 85 },
    ]);
  });

  it('gives nothing for a trace without the command span (its batch was merged into another command)', () => {
    expect(lagStages(trace.filter((entry) => entry.operationName !== 'command serve'))).toEqual([]);
  });

  it('formats one line per stage with its p50, its max and the number of events, too few for a p90 or p99', () => {
    const lines = formatStages(lagStages(trace));
    expect(lines).toHaveLength(5);
    expect(lines[0]).toBe('  commit → relay sends: p50 ≤max | p90 ≤max | p99 ≤max | max 30.0 ms (n=4)');
    expect(lines[4]).toBe('  commit → applied: p50 ≤max | p90 ≤max | p99 ≤max | max 85.0 ms (n=4)');
  });
});

describe('sampledTraceContext', () => {
  it('is a sampled W3C traceparent carrying the trace id it returns', () => {
    const { traceId, metadata } = sampledTraceContext();
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(metadata.get('traceparent')).toEqual([expect.stringMatching(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`))]);
  });
});
