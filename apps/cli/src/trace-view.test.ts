import type { JaegerSpan, JaegerTrace } from './jaeger';
import { barCells, collapseRepeats, parseTraceId, renderTraceList, renderWaterfall, spanAttributes, spanError, spanRows, waterfallSvg } from './trace-view';

const T0 = Date.UTC(2026, 10, 29, 1, 0, 0);

/** A span of `service` from `from` to `to` ms after T0, child of `parents`. */
function span(spanId: string, operationName: string, from: number, to: number, parents: string[] = [], tags: Record<string, unknown> = {}, service = 'recommender'): JaegerSpan {
  return { spanId, operationName, service, parentSpanIds: parents, startMs: T0 + from, endMs: T0 + to, tags };
}

function trace(spans: JaegerSpan[], traceId = '4bf92f3577b34da6a3ce929d0e0e4736'): JaegerTrace {
  return { traceId, spans, resources: new Map() };
}

const drawn = (spans: JaegerSpan[]): string[] => spanRows(spans).map(({ span: { spanId }, prefix }) => `${prefix}${spanId}`);

describe('the spans of a trace as a tree', () => {
  it('puts each span under its parent, siblings by start time, with the tree drawn before the names', () => {
    const spans = [
      span('d', 'write', 5, 6, ['c']),
      span('c', 'second child', 4, 9, ['a']),
      span('e', 'grandchild', 1.5, 2, ['b']),
      span('a', 'root', 0, 10),
      span('b', 'first child', 1, 3, ['a']),
    ];
    expect(drawn(spans)).toEqual(['a', '├─ b', '│  └─ e', '└─ c', '   └─ d']);
    expect(spanRows(spans).map(({ depth }) => depth)).toEqual([0, 1, 2, 1, 2]);
  });

  it('makes a span whose parent is missing a root of its own, marked, and one without a parent an unmarked root', () => {
    const rows = spanRows([span('late', 'apply', 50, 60, ['not-exported']), span('root', 'Track', 0, 10)]);
    expect(rows.map(({ span: { spanId }, orphan, depth }) => [spanId, orphan, depth])).toEqual([
      ['root', false, 0],
      ['late', true, 0],
    ]);
  });

  it('draws every span once when references run in a cycle (from its earliest span) or a span names itself (a plain root)', () => {
    const spans = [span('x', 'x', 0, 1, ['y']), span('y', 'y', 1, 2, ['x']), span('z', 'z', 2, 3, ['z'])];
    expect(drawn(spans)).toEqual(['z', 'x', '└─ y']);
    expect(spanRows(spans).map(({ orphan }) => orphan)).toEqual([false, false, false]);
  });

  it('puts the longer of two siblings that start together first', () => {
    expect(drawn([span('a', 'a', 0, 9), span('short', 's', 1, 2, ['a']), span('long', 'l', 1, 5, ['a'])])).toEqual(['a', '├─ long', '└─ short']);
  });

  it('draws a span that names two parents once, under the first one the trace holds', () => {
    expect(drawn([span('a', 'a', 0, 9), span('b', 'b', 1, 8, ['a']), span('c', 'c', 2, 3, ['missing', 'b', 'a'])])).toEqual(['a', '└─ b', '   └─ c']);
  });
});

describe('runs of like spans', () => {
  it('draws at least three like sibling leaves as one line with their count, window and shortest and longest', () => {
    const reads = [1, 2, 3, 4].map((n) => span(`r${n}`, 'hgetall', n, n + n, ['root']));
    const rows = collapseRepeats(spanRows([span('root', 'Recommend', 0, 20), ...reads, span('s', 'scoring request', 12, 15, ['root'])]), 3);
    expect(rows.map(({ span: { spanId }, count }) => [spanId, count])).toEqual([
      ['root', 1],
      ['r1', 4],
      ['s', 1],
    ]);
    expect(rows[1]).toMatchObject({ startMs: T0 + 1, endMs: T0 + 8, shortestMs: 1, longestMs: 4, prefix: '├─ ' });
  });

  it('draws a run that ends its parent\'s children with the last child\'s corner', () => {
    const rows = collapseRepeats(spanRows([span('root', 'Recommend', 0, 9), ...[1, 2, 3].map((n) => span(`h${n}`, 'hget', n, n + 1, ['root']))]), 3);
    expect(rows.map(({ prefix, count }) => `${prefix}${count}`)).toEqual(['1', '└─ 3']);
  });

  it('leaves runs shorter than the minimum, spans with children, and runs under different parents apart', () => {
    const spans = [
      span('root', 'Recommend', 0, 20),
      span('p1', 'batch', 1, 5, ['root']),
      span('h1', 'hget', 1, 2, ['p1']),
      span('h2', 'hget', 2, 3, ['p1']),
      span('p2', 'batch', 6, 9, ['root']),
      span('h3', 'hget', 6, 7, ['p2']),
      span('h4', 'hget', 7, 8, ['p2']),
    ];
    expect(collapseRepeats(spanRows(spans), 3).map(({ count }) => count)).toEqual([1, 1, 1, 1, 1, 1, 1]);
    expect(collapseRepeats(spanRows(spans), 2).map(({ span: { spanId }, count }) => `${spanId}×${count}`)).toEqual(['root×1', 'p1×1', 'h1×2', 'p2×1', 'h3×2']);
  });

  it('counts the failures of a run and keeps the first reason', () => {
    const failing = { 'otel.status_code': 'ERROR', 'otel.status_description': 'connection reset' };
    const rows = collapseRepeats(spanRows([span('root', 'r', 0, 9), span('a', 'get', 1, 2, ['root']), span('b', 'get', 2, 3, ['root'], failing), span('c', 'get', 3, 4, ['root'], failing)]), 3);
    expect(rows[1]).toMatchObject({ count: 3, failed: 2, error: 'connection reset' });
  });
});

describe('what a span says', () => {
  it('tells why a span failed from its status, the gRPC error message or the exception, and nothing for an ok span', () => {
    expect(spanError({ tags: { 'otel.status_code': 'ERROR', 'otel.status_description': 'deadline exceeded' } })).toBe('deadline exceeded');
    expect(spanError({ tags: { error: true, 'grpc.error_message': 'user_id is empty' } })).toBe('user_id is empty');
    expect(spanError({ tags: { error: true } })).toBe('error');
    expect(spanError({ tags: { 'otel.status_code': 'OK', 'grpc.error_message': 'stale' } })).toBeUndefined();
  });

  it('lists the attributes worth reading, sorted, without the instrumentation bookkeeping', () => {
    expect(spanAttributes({ tags: { 'otel.scope.name': '@orrery/grpc', 'orrery.user_id': 'u-1', 'orrery.hits': 12, 'rpc.method': 'Recommend', error: true, 'otel.status_code': 'ERROR' } })).toEqual([
      'orrery.hits=12',
      'orrery.user_id=u-1',
      'rpc.method=Recommend',
    ]);
  });

  it('places a bar on the time line, at least one character, inside the width', () => {
    expect(barCells(0, 10, 10, 20)).toEqual({ start: 0, end: 20 });
    expect(barCells(5, 5, 10, 20)).toEqual({ start: 10, end: 11 });
    expect(barCells(10, 10, 10, 20)).toEqual({ start: 19, end: 20 });
    expect(barCells(2.5, 3.1, 10, 20)).toEqual({ start: 5, end: 7 });
    expect(barCells(0, 0, 0, 20)).toEqual({ start: 0, end: 1 });
  });
});

describe('the drawings', () => {
  const sample = trace([
    span('root', 'grpc.orrery.v1.RecommendationService/Recommend', 0, 40, ['caller'], { 'orrery.user_id': 'user-7', 'otel.scope.name': '@orrery/grpc' }),
    span('ann', 'ann search', 2, 4, ['root']),
    span('score', 'scoring request', 10, 30, ['root'], { 'otel.status_code': 'ERROR', 'otel.status_description': 'scoring unavailable: deadline' }),
    span('serve', 'scoring serve', 12, 20, ['score'], {}, 'scoring'),
  ]);

  it('draws the trace in the terminal: the whole in a header, each span with its offset, duration, service, place in the tree, bar and failure', () => {
    const text = renderWaterfall(sample, { width: 140, attributes: false, expand: false, color: false });
    const lines = text.split('\n');
    expect(lines[0]).toBe('trace 4bf92f3577b34da6a3ce929d0e0e4736: 40.00 ms, 4 spans, 2 services (recommender, scoring), started 2026-11-29T01:00:00.000Z, 1 failed');
    const spanLines = lines.slice(3, 7);
    expect(spanLines[0]).toMatch(/^ +0\.00 +40\.00 +recommender +↑ grpc\.orrery\.v1\.RecommendationService\/Recommend +│█+│$/);
    expect(spanLines[1]).toMatch(/^ +2\.00 +2\.00 +recommender +├─ ann search /);
    expect(spanLines[2]).toMatch(/^ +10\.00 +20\.00 +recommender +└─ scoring request +│ +█+ +│ +✗ scoring unavailable: deadline$/);
    expect(spanLines[3]).toMatch(/^ +12\.00 +8\.00 +scoring +└─ scoring serve /);
    expect(text).toContain("↑ its parent span is not in Jaeger: the caller's own");
    expect(text).not.toContain('\u001b[');
    expect(renderWaterfall(sample, { width: 140, attributes: false, expand: false, color: true })).toContain('\u001b[36m');
  });

  it('prints each span\'s attributes under it when asked', () => {
    const lines = renderWaterfall(sample, { width: 140, attributes: true, expand: false, color: false }).split('\n');
    const root = lines.findIndex((line) => line.includes('RecommendationService/Recommend'));
    expect(lines[root + 1]!.trim()).toBe('orrery.user_id=user-7');
    expect(lines.join('\n')).not.toContain('otel.scope.name');
  });

  it('lists traces one a line, newest first as given, with their duration, spans, failures, services and first span', () => {
    const older = trace([span('t', 'grpc.orrery.v1.IngestService/Track', -5_000, -4_990, [], {}, 'ingestion')], '0af7651916cd43dd8448eb211c80319c');
    const lines = renderTraceList([sample, older]).split('\n');
    expect(lines[0]).toMatch(/^started \(UTC\) +trace id +took ms +spans +failed +services +first span$/);
    expect(lines[1]).toMatch(/^2026-11-29 01:00:00\.000 +4bf92f3577b34da6a3ce929d0e0e4736 +40\.00 +4 +1 +recommender,scoring +recommender: grpc\.orrery\.v1\.RecommendationService\/Recommend$/);
    expect(lines[2]).toMatch(/^2026-11-29 00:59:55\.000 +0af7651916cd43dd8448eb211c80319c +10\.00 +1 +0 +ingestion +ingestion: grpc\.orrery\.v1\.IngestService\/Track$/);
    expect(renderTraceList([])).toBe('no traces');
  });

  it('draws the waterfall as an SVG: a bar per line, failures outlined, a legend per service, names escaped', () => {
    const svg = waterfallSvg(trace([...sample.spans, span('odd', 'a<b & c>', 30, 31, ['root'])]), false);
    expect(svg).toContain('trace 4bf92f3577b34da6a3ce929d0e0e4736: 40.00 ms, 5 spans');
    expect(svg.match(/<rect x="\d+\.\d" y="\d+" width="\d+\.\d" height="12"/g)).toHaveLength(5); // the legend's squares: x without decimals
    expect(svg.match(/stroke="#c00"/g)).toHaveLength(1);
    expect(svg).toContain('recommender: a&lt;b &amp; c&gt;');
    expect(svg).toContain('>scoring</text>');
  });
});

describe('what the trace command reads', () => {
  it.each([
    ['4BF92F3577B34DA6A3CE929D0E0E4736', '4bf92f3577b34da6a3ce929d0e0e4736'],
    ['a3ce929d0e0e4736', 'a3ce929d0e0e4736'],
    [' 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 ', '4bf92f3577b34da6a3ce929d0e0e4736'],
  ])('reads the trace id in %p', (text, id) => {
    expect(parseTraceId(text)).toBe(id);
  });

  it.each(['', 'xyz', '4bf92f3577b34da6a3ce929d0e0e473', '00-4bf92f3577b34da6a3ce929d0e0e4736-01'])('refuses %p, saying what a trace id is', (text) => {
    expect(() => parseTraceId(text)).toThrow(`"${text}" is not a trace id: 32 hexadecimal digits (or 16)`);
  });

  it('refuses the all-zero trace id', () => {
    expect(() => parseTraceId('00000000000000000000000000000000')).toThrow('the all-zero trace id');
  });
});
