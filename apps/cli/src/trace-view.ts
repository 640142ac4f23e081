// A trace read back from Jaeger, drawn for a terminal (`orrery trace`) or as an SVG: every span under
// the span it is a child of, when it started and how long it took against the whole trace, and which
// failed. Jaeger's own UI needs web assets the Go build of `npm start` does not have; this needs none.
import { UsageError } from '@orrery/config';
import { traceDurationMs, traceStartMs, type JaegerSpan, type JaegerTrace } from './jaeger';
import { escapeXml, svgOpening } from './svg';

/** A span as drawn: its depth in the tree and the tree's lines before its name. */
export interface SpanRow {
  readonly span: JaegerSpan;
  readonly depth: number;
  /** The tree drawing before the name: '' for a root, then '├─ ' or '└─ ' after '│  ' or '   ' per level. */
  readonly prefix: string;
  /** It names a parent the trace does not hold (not exported yet, dropped, or in another trace). */
  readonly orphan: boolean;
}

const byStart = (a: JaegerSpan, b: JaegerSpan): number => a.startMs - b.startMs || b.endMs - a.endMs;

/**
 * The spans depth first: each under its parent (its first CHILD_OF reference the trace holds), siblings
 * by start time. A span whose parents are all missing is a root of its own; so is a span only a cycle of
 * references leads to, and a span appears once however many parents it names.
 */
export function spanRows(spans: readonly JaegerSpan[]): SpanRow[] {
  const ids = new Set(spans.map((span) => span.spanId));
  const children = new Map<string, JaegerSpan[]>();
  const roots: JaegerSpan[] = [];
  // Spans naming parents of which the trace holds none (a span naming only itself is a plain root).
  const orphans = new Set<JaegerSpan>();
  for (const span of spans) {
    const parents = span.parentSpanIds.filter((id) => id !== span.spanId);
    const parent = parents.find((id) => ids.has(id));
    if (parent === undefined) roots.push(span);
    else children.set(parent, [...(children.get(parent) ?? []), span]);
    if (parents.length > 0 && parent === undefined) orphans.add(span);
  }
  const rows: SpanRow[] = [];
  const placed = new Set<JaegerSpan>();
  const place = (root: JaegerSpan): void => {
    // An explicit stack, not recursion: a trace may be thousands of spans deep in principle.
    const stack = [{ span: root, depth: 0, prefix: '', childPrefix: '' }];
    while (stack.length > 0) {
      const { span, depth, prefix, childPrefix } = stack.pop()!;
      if (placed.has(span)) continue;
      placed.add(span);
      rows.push({ span, depth, prefix, orphan: orphans.has(span) });
      const kids = [...(children.get(span.spanId) ?? [])].sort(byStart);
      for (let index = kids.length - 1; index >= 0; index -= 1) {
        const last = index === kids.length - 1;
        stack.push({ span: kids[index]!, depth: depth + 1, prefix: childPrefix + (last ? '└─ ' : '├─ '), childPrefix: childPrefix + (last ? '   ' : '│  ') });
      }
    }
  };
  for (const root of roots.sort(byStart)) place(root);
  // What only a cycle of references leads to: each span of it from the earliest, as a root.
  for (const span of [...spans].sort(byStart)) place(span);
  return rows;
}

/** A line of the drawing: one span, or a run of sibling leaf spans of the same service and name drawn as one. */
export interface DrawnRow extends SpanRow {
  /** How many spans the line stands for (1: just `span`). */
  readonly count: number;
  /** The earliest start and latest end of its spans. */
  readonly startMs: number;
  readonly endMs: number;
  /** The shortest and longest of its spans' durations. */
  readonly shortestMs: number;
  readonly longestMs: number;
  /** How many of its spans failed, and why the first of them did. */
  readonly failed: number;
  readonly error: string | undefined;
}

/**
 * The rows with every run of at least `minimum` consecutive sibling leaves of the same service and
 * operation (a request's 100 Redis reads) drawn as one line; with `minimum` Infinity, every span its own.
 * Consecutive rows at one depth with no row between them are siblings (or both roots), so a run never
 * crosses parents.
 */
export function collapseRepeats(rows: readonly SpanRow[], minimum: number): DrawnRow[] {
  const isLeaf = (index: number): boolean => (rows[index + 1]?.depth ?? -1) <= rows[index]!.depth;
  const lines: DrawnRow[] = [];
  let index = 0;
  while (index < rows.length) {
    const row = rows[index]!;
    let end = index + 1;
    if (isLeaf(index) && !row.orphan) {
      while (
        end < rows.length &&
        rows[end]!.depth === row.depth &&
        !rows[end]!.orphan &&
        isLeaf(end) &&
        rows[end]!.span.service === row.span.service &&
        rows[end]!.span.operationName === row.span.operationName
      ) {
        end += 1;
      }
    }
    const members = end - index >= minimum ? rows.slice(index, end) : [row];
    const errors = members.map(({ span }) => spanError(span)).filter((error): error is string => error !== undefined);
    const durations = members.map(({ span }) => span.endMs - span.startMs);
    lines.push({
      ...row,
      prefix: members.at(-1)!.prefix,
      count: members.length,
      startMs: Math.min(...members.map(({ span }) => span.startMs)),
      endMs: Math.max(...members.map(({ span }) => span.endMs)),
      shortestMs: Math.min(...durations),
      longestMs: Math.max(...durations),
      failed: errors.length,
      error: errors[0],
    });
    index += members.length;
  }
  return lines;
}

/** A drawn row's name: the operation, and for a run, how many and how long each took. */
function rowName(row: DrawnRow): string {
  const name = `${row.orphan ? '↑ ' : ''}${row.span.operationName}`;
  return row.count === 1 ? name : `${name} ×${row.count} (${formatMs(row.shortestMs)}–${formatMs(row.longestMs)} ms each)`;
}

/** Why a drawn row failed, for its line; '' when none of its spans did. */
function rowFailure(row: DrawnRow): string {
  if (row.failed === 0) return '';
  return row.count === 1 ? `✗ ${row.error}` : `✗ ${row.failed} of ${row.count} failed: ${row.error}`;
}

/** Runs of this many like sibling spans or more are drawn as one line unless asked otherwise. */
export const COLLAPSED_RUN = 3;

/** Why the span failed (its status message, or 'error'), or undefined when it did not. */
export function spanError(span: Pick<JaegerSpan, 'tags'>): string | undefined {
  const { tags } = span;
  if (tags['otel.status_code'] !== 'ERROR' && tags['error'] !== true) return undefined;
  const message = [tags['otel.status_description'], tags['grpc.error_message'], tags['exception.message']].find((value) => typeof value === 'string' && value !== '');
  return typeof message === 'string' ? message : 'error';
}

/** Attributes that say nothing about the call itself (the instrumentation's name and version, Jaeger's bookkeeping). */
const QUIET_ATTRIBUTE = /^(otel\.scope\.|internal\.|otel\.status_code$|error$)/;

/** The span's attributes worth reading, sorted by name, as `name=value`. */
export function spanAttributes(span: Pick<JaegerSpan, 'tags'>): string[] {
  return Object.entries(span.tags)
    .filter(([key]) => !QUIET_ATTRIBUTE.test(key))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
}

/** A duration or offset in ms as the views print it. */
export function formatMs(ms: number): string {
  return ms >= 100 ? ms.toFixed(1) : ms.toFixed(2);
}

/** The services of a trace in the order their first span appears in `rows`. */
function servicesOf(rows: readonly SpanRow[]): string[] {
  return [...new Set(rows.map(({ span }) => span.service))];
}

/** The trace's first root (the earliest span the trace holds no parent of). */
export function rootSpan(trace: JaegerTrace): JaegerSpan | undefined {
  return spanRows(trace.spans)[0]?.span;
}

/** The characters between `fromMs` and `toMs` of a bar of `width` characters spanning `totalMs`: at least one. */
export function barCells(fromMs: number, toMs: number, totalMs: number, width: number): { readonly start: number; readonly end: number } {
  const scale = totalMs > 0 ? width / totalMs : 0;
  const start = Math.min(width - 1, Math.max(0, Math.floor(fromMs * scale)));
  const end = Math.min(width, Math.max(start + 1, Math.ceil(toMs * scale)));
  return { start, end };
}

export interface WaterfallOptions {
  /** Columns the lines may take (the terminal's width); the bars get what the text leaves, within 10–60. */
  readonly width: number;
  /** Print each span's attributes under it (every span on its own line). */
  readonly attributes: boolean;
  /** Every span on its own line, runs of like sibling spans too (see collapseRepeats). */
  readonly expand: boolean;
  /** Colour each service (ANSI), for a terminal. */
  readonly color: boolean;
}

const ANSI_COLOURS = [36, 33, 35, 32, 34, 31];
const NAME_LIMIT = 72;

const clip = (text: string, width: number): string => (text.length <= width ? text.padEnd(width) : `${text.slice(0, width - 1)}…`);

/**
 * The trace as text: a header (duration, spans, services, start, failures), then per span its start
 * offset and duration in ms, service, name under its parent, a bar on the trace's time line, and why
 * it failed, if it did. A run of like sibling spans is one line unless `expand` or `attributes`.
 */
export function renderWaterfall(trace: JaegerTrace, options: WaterfallOptions): string {
  const tree = spanRows(trace.spans);
  if (tree.length === 0) return `trace ${trace.traceId}: no spans`;
  const rows = collapseRepeats(tree, options.expand || options.attributes ? Infinity : COLLAPSED_RUN);
  const startMs = traceStartMs(trace);
  const totalMs = traceDurationMs(trace);
  const services = servicesOf(tree);
  const failed = tree.filter(({ span }) => spanError(span) !== undefined).length;
  const serviceWidth = Math.max(7, ...services.map((service) => service.length));
  const nameWidth = Math.min(NAME_LIMIT, Math.max(4, ...rows.map((row) => row.prefix.length + rowName(row).length)));
  const textWidth = 9 + 1 + 9 + 2 + serviceWidth + 2 + nameWidth + 2;
  const barWidth = Math.max(10, Math.min(60, options.width - textWidth - 2));
  const paint = (service: string, text: string): string => (options.color ? `\u001b[${ANSI_COLOURS[services.indexOf(service) % ANSI_COLOURS.length]}m${text}\u001b[0m` : text);
  const total = formatMs(totalMs);
  const lines = [
    `trace ${trace.traceId}: ${total} ms, ${tree.length} span${tree.length === 1 ? '' : 's'}, ${services.length} service${services.length === 1 ? '' : 's'} (${services.join(', ')}), started ${new Date(startMs).toISOString()}${failed > 0 ? `, ${failed} failed` : ''}`,
    '',
    `${'start ms'.padStart(9)} ${'took ms'.padStart(9)}  ${'service'.padEnd(serviceWidth)}  ${'span'.padEnd(nameWidth)}  0${'─'.repeat(Math.max(1, barWidth + 1 - total.length - 4))} ${total} ms`,
  ];
  for (const row of rows) {
    const { start, end } = barCells(row.startMs - startMs, row.endMs - startMs, totalMs, barWidth);
    const bar = `│${' '.repeat(start)}${'█'.repeat(end - start)}${' '.repeat(barWidth - end)}│`;
    const failure = rowFailure(row);
    lines.push(
      `${formatMs(row.startMs - startMs).padStart(9)} ${formatMs(row.endMs - row.startMs).padStart(9)}  ${paint(row.span.service, row.span.service.padEnd(serviceWidth))}  ${clip(row.prefix + rowName(row), nameWidth)}  ${paint(row.span.service, bar)}${failure === '' ? '' : `  ${failure}`}`,
    );
    if (options.attributes) {
      const indent = ' '.repeat(9 + 1 + 9 + 2 + serviceWidth + 2 + Math.min(nameWidth, 3 * (row.depth + 1)));
      for (const attribute of spanAttributes(row.span)) lines.push(`${indent}${attribute}`);
    }
  }
  if (rows.some(({ orphan }) => orphan)) {
    lines.push('', "↑ its parent span is not in Jaeger: the caller's own (a client that sent a traceparent and exports no spans), or one not exported yet");
  }
  if (rows.some(({ count }) => count > 1)) lines.push(`×N: that many like sibling spans on one line (--expand draws each)`);
  return lines.join('\n');
}

/** One line per trace, newest first as given: when it started, its id, duration, spans, failures, services and root span. */
export function renderTraceList(traces: readonly JaegerTrace[]): string {
  if (traces.length === 0) return 'no traces';
  const table = traces.map((trace) => {
    const rows = spanRows(trace.spans);
    const root = rows[0]?.span;
    const startMs = traceStartMs(trace);
    return [
      Number.isFinite(startMs) ? new Date(startMs).toISOString().replace('T', ' ').replace('Z', '') : '',
      trace.traceId,
      formatMs(traceDurationMs(trace)),
      String(rows.length),
      String(rows.filter(({ span }) => spanError(span) !== undefined).length),
      servicesOf(rows).join(','),
      root ? `${root.service}: ${root.operationName}` : '',
    ];
  });
  const header = ['started (UTC)', 'trace id', 'took ms', 'spans', 'failed', 'services', 'first span'];
  const widths = header.map((title, column) => Math.max(title.length, ...table.map((row) => row[column]!.length)));
  const numeric = new Set([2, 3, 4]);
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : numeric.has(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)))
      .join('  ');
  return [line(header), ...table.map(line)].join('\n');
}

const SVG_COLOURS = ['#4e79a7', '#f28e2b', '#59a14f', '#b07aa1', '#76b7b2', '#edc948', '#9c755f', '#ff9da7'];

/** The trace as a standalone SVG waterfall: a row per span (indented under its parent), bars coloured by service, failures outlined red. */
export function waterfallSvg(trace: JaegerTrace, expand: boolean): string {
  const tree = spanRows(trace.spans);
  const rows = collapseRepeats(tree, expand ? Infinity : COLLAPSED_RUN);
  const startMs = traceStartMs(trace);
  const totalMs = rows.length === 0 ? 0 : traceDurationMs(trace);
  const services = servicesOf(rows);
  const labelWidth = 520;
  const barWidth = 640;
  const rowHeight = 18;
  const top = 56;
  const width = labelWidth + barWidth + 30;
  const height = top + rows.length * rowHeight + 40;
  const x = (ms: number): number => labelWidth + (totalMs > 0 ? (ms / totalMs) * barWidth : 0);
  const svg = svgOpening(width, height, `trace ${trace.traceId}: ${formatMs(totalMs)} ms, ${tree.length} span${tree.length === 1 ? '' : 's'}`);
  for (let tick = 0; tick <= 4; tick += 1) {
    const ms = (totalMs * tick) / 4;
    svg.push(`<line x1="${x(ms).toFixed(1)}" y1="${top - 8}" x2="${x(ms).toFixed(1)}" y2="${top + rows.length * rowHeight}" stroke="#ddd"/>`);
    svg.push(`<text x="${x(ms).toFixed(1)}" y="${top - 12}" text-anchor="middle" fill="#555">${formatMs(ms)} ms</text>`);
  }
  rows.forEach((row, index) => {
    const y = top + index * rowHeight;
    const colour = SVG_COLOURS[services.indexOf(row.span.service) % SVG_COLOURS.length]!;
    const failure = rowFailure(row);
    const label = `${row.span.service}: ${rowName(row)}`;
    const left = x(row.startMs - startMs);
    const barLength = Math.max(1, x(row.endMs - startMs) - left);
    const detail = `${label}, ${formatMs(row.endMs - row.startMs)} ms from +${formatMs(row.startMs - startMs)} ms${failure === '' ? '' : `, ${failure}`}`;
    svg.push(`<g><title>${escapeXml(detail)}</title>`);
    const indent = 10 + Math.min(row.depth, 20) * 12;
    // ~7 px a character at 12 px sans-serif: the label stops short of the bars.
    const fits = Math.max(8, Math.floor((labelWidth - indent - 16) / 7));
    svg.push(`<text x="${indent}" y="${y + 13}" fill="${failure === '' ? '#222' : '#c00'}">${escapeXml(label.length > fits ? `${label.slice(0, fits - 1)}…` : label)}</text>`);
    svg.push(`<rect x="${left.toFixed(1)}" y="${y + 3}" width="${barLength.toFixed(1)}" height="${rowHeight - 6}" fill="${colour}"${failure === '' ? '' : ' stroke="#c00" stroke-width="2"'}/></g>`);
  });
  const legendY = top + rows.length * rowHeight + 24;
  services.forEach((service, index) => {
    svg.push(`<rect x="${10 + index * 140}" y="${legendY - 10}" width="12" height="12" fill="${SVG_COLOURS[index % SVG_COLOURS.length]}"/>`);
    svg.push(`<text x="${28 + index * 140}" y="${legendY}">${escapeXml(service)}</text>`);
  });
  svg.push('</svg>');
  return `${svg.join('\n')}\n`;
}

/**
 * The trace id in `text`: 32 (or Jaeger's older 16) hexadecimal digits, alone or inside a W3C
 * `traceparent` header (00-<trace id>-<span id>-<flags>); lower case. Throws a UsageError naming what is wrong.
 */
export function parseTraceId(text: string): string {
  const trimmed = text.trim();
  const fromHeader = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/i.exec(trimmed)?.[1];
  const id = (fromHeader ?? trimmed).toLowerCase();
  if (!/^([0-9a-f]{16}|[0-9a-f]{32})$/.test(id)) {
    throw new UsageError(`"${text}" is not a trace id: 32 hexadecimal digits (or 16), alone or in a traceparent header (00-<trace id>-<span id>-01)`);
  }
  if (/^0+$/.test(id)) throw new UsageError(`"${text}" is the all-zero trace id, which names no trace`);
  return id;
}
