// Rate ladders: the same open loop at rising rates, to find the highest rate whose p99 stays under a
// latency goal and to show where queueing starts — Recommend calls in `orrery bench`, events and their
// ack → projection-applied lag in `orrery bench ingest`. Each step also records the CPU each process
// used per request (or event), because on a small shared machine the CPU per request (which falls as
// the rate rises and calls share event-loop turns and writes) explains the latency better than the
// rate does.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { UsageError } from '@orrery/config';
import { formatPercentile, hasSamplesFor, percentileBound, percentiles, samplesNeededFor, SAMPLES_BEYOND_A_PERCENTILE, sentPerSecond, type PercentileName, type Percentiles } from '@orrery/metrics';
import { topReasons } from './stats';
import { escapeXml, svgOpening } from './svg';

/** What a ladder loads and measures. */
export interface LadderKind {
  /** What its latency is, for the report and the plot, e.g. `Recommend latency`. */
  readonly latency: string;
  /** One unit of load: rates are in units/s and CPU in ms per unit. */
  readonly unit: 'req' | 'event';
  /** The goal: the report names the highest rate whose p99 is under it. */
  readonly p99GoalMs: number;
}

/** How a rate of `unit` reads: `req/s` or `events/s`. */
function rateLabel(unit: LadderKind['unit']): string {
  return unit === 'req' ? 'req/s' : 'events/s';
}

/** The serving ladder: Recommend calls, p99 under 10 ms. */
export const RECOMMEND_LADDER: LadderKind = { latency: 'Recommend latency', unit: 'req', p99GoalMs: 10 };

/** Rates (requests/s) the ladder climbs by default. */
export const DEFAULT_LADDER_RATES: readonly number[] = [50, 100, 200, 300, 500, 800, 1200];

/** One rung: `askedRate` requests (or events) a second sent on schedule for a fixed time. */
export interface LadderStep {
  readonly askedRate: number;
  /**
   * Requests (or events) sent per second (sentPerSecond): over the time their sending took, so a
   * generator that fell behind reads less, but a slow last answer does not.
   */
  readonly achievedRate: number;
  readonly latency: Percentiles;
  readonly errors: number;
  /** The most frequent error messages with their counts (`N× message; …`), '' or undefined for none. */
  readonly errorReasons?: string;
  /** Answers marked degraded; undefined when the load generator cannot tell (ghz does not read the answers). */
  readonly degraded?: number;
  /** CPU milliseconds per request (or event) of each measured process group (e.g. recommender, scoring, the load generator). */
  readonly cpuMsPerUnit: Readonly<Record<string, number>>;
}

/** Parses `--ladder`: a comma-separated list of rising rates (parseRates), or `off` for none. */
export function parseLadder(text: string): number[] {
  return text.trim() === 'off' ? [] : parseRates('--ladder', text, 'rising whole request rates separated by commas (or off)');
}

/**
 * Parses the comma-separated rates of `option`: whole and positive, and rising strictly (a ladder
 * climbs; a typo like 500,50 is refused). `expected` says what the option takes, for the UsageError.
 */
export function parseRates(option: string, text: string, expected = 'rising whole rates separated by commas'): number[] {
  const rates = text.split(',').map((part) => part.trim());
  const parsed = rates.map((part) => Number(part));
  parsed.forEach((rate, index) => {
    if (rates[index] === '' || !Number.isInteger(rate) || rate <= 0) throw new UsageError(`${option} takes ${expected}, got "${rates[index]}" in "${text}"`);
    if (index > 0 && rate <= parsed[index - 1]!) throw new UsageError(`${option} rates must rise, got ${parsed[index - 1]} then ${rate} in "${text}"`);
  });
  return parsed;
}

/**
 * The highest asked rate whose p99 is under `p99LimitMs` with every request answered without error
 * and the rate actually reached (at least 95% of it), or undefined when no step qualifies. A step too
 * small for a p99 (percentileBound) is judged on its maximum: it qualifies only when every call was under
 * the limit. Steps above a failing one can still qualify: the tail on a shared machine is not
 * monotonic in the rate.
 */
export function highestRateWithin(steps: readonly LadderStep[], p99LimitMs: number): number | undefined {
  const passing = steps.filter((step) => step.errors === 0 && step.latency.count > 0 && percentileBound(step.latency, 'p99') < p99LimitMs && step.achievedRate >= 0.95 * step.askedRate);
  return passing.length === 0 ? undefined : Math.max(...passing.map((step) => step.askedRate));
}

/**
 * The parts of ghz's JSON report (`-O json`) a ladder step is made of; durations in nanoseconds. A
 * call's `timestamp` (RFC 3339) is when it ended, its latency before that is when it was sent.
 */
export interface GhzReport {
  readonly options: { readonly rps?: number };
  readonly details: readonly { readonly timestamp: string; readonly latency: number; readonly status: string; readonly error?: string }[];
}

/**
 * One ladder step from a ghz run: latency percentiles of the calls that returned OK, every other
 * status an error, and the rate the calls were sent at, from each call's end less its latency (ghz's
 * own count ÷ total would count the wait for the last answer).
 */
export function stepFromGhzReport(report: GhzReport, cpuMsPerUnit: Readonly<Record<string, number>>): LadderStep {
  const askedRate = report.options.rps;
  if (!askedRate) throw new Error('the ghz report has no --rps: a ladder step is an open loop at a fixed rate');
  const ok = report.details.filter((detail) => detail.status === 'OK');
  const errors = new Map<string, number>();
  for (const detail of report.details) if (detail.status !== 'OK') errors.set(detail.error || detail.status, (errors.get(detail.error || detail.status) ?? 0) + 1);
  const sentAtMs = report.details.map((detail) => Date.parse(detail.timestamp) - detail.latency / 1e6);
  const sendingMs = sentAtMs.length === 0 ? 0 : sentAtMs.reduce((a, b) => Math.max(a, b)) - sentAtMs.reduce((a, b) => Math.min(a, b));
  return {
    askedRate,
    achievedRate: sentPerSecond(sentAtMs.length, sendingMs, (sentAtMs.length * 1000) / askedRate),
    latency: percentiles(ok.map((detail) => detail.latency / 1e6)),
    errors: report.details.length - ok.length,
    errorReasons: topReasons(errors),
    cpuMsPerUnit,
  };
}

/**
 * The ladder as a markdown table: one row per step, its sample size and maximum beside its
 * percentiles (`≤max` where the step is too small for one: formatPercentile), CPU per request for
 * each process group.
 */
export function ladderTable(steps: readonly LadderStep[], unit: LadderKind['unit']): string {
  const groups = [...new Set(steps.flatMap((step) => Object.keys(step.cpuMsPerUnit)))];
  const rate = rateLabel(unit);
  const header = [`asked ${rate}`, `sent ${rate}`, 'n', 'p50 ms', 'p99 ms', 'p999 ms', 'max ms', 'errors', 'degraded', ...groups.map((group) => `${group} CPU ms/${unit}`)];
  const percentile = (step: LadderStep, name: PercentileName): string => formatPercentile(name, step.latency[name], step.latency.count, 2);
  const rows = steps.map((step) => [
    String(step.askedRate),
    step.achievedRate.toFixed(0),
    String(step.latency.count),
    percentile(step, 'p50'),
    percentile(step, 'p99'),
    percentile(step, 'p999'),
    step.latency.count === 0 ? '—' : step.latency.max.toFixed(2),
    String(step.errors),
    step.degraded === undefined ? '' : String(step.degraded),
    ...groups.map((group) => (step.cpuMsPerUnit[group] === undefined ? '' : step.cpuMsPerUnit[group]!.toFixed(3))),
  ]);
  return [header, header.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

const SERIES = [
  { label: 'p50', colour: '#2f6db5' },
  { label: 'p99', colour: '#d9822b' },
  { label: 'p999', colour: '#9b59b6' },
] as const satisfies readonly { label: PercentileName; colour: string }[];

/** Where a step's percentile `name` is plotted: at its value, or at the step's maximum, which bounds it, when the step is too small for it. */
const plotted = (step: LadderStep, name: PercentileName): number => percentileBound(step.latency, name);

/**
 * Latency by asked rate as a standalone SVG: p50, p99 and p999 on a logarithmic millisecond axis
 * (the tail spans decades), the goal as a dashed line. A percentile of a step too small for it is
 * drawn as a hollow marker at the step's maximum: at most that, not measured.
 */
export function renderLadderSvg(steps: readonly LadderStep[], kind: LadderKind, title: string): string {
  const goalMs = kind.p99GoalMs;
  const rate = rateLabel(kind.unit);
  const width = 720;
  const height = 380;
  const left = 60;
  const right = 20;
  const top = 40;
  const plotHeight = 260;
  const plotWidth = width - left - right;
  const values = steps.flatMap((step) => SERIES.map((series) => plotted(step, series.label))).filter((value) => value > 0);
  const low = Math.min(goalMs, ...values);
  const high = Math.max(goalMs, ...values);
  // Decade-aligned bounds with 1-2-5 ticks between them.
  const minExponent = Math.floor(Math.log10(Math.max(low, 0.01)));
  const maxExponent = Math.ceil(Math.log10(Math.max(high, 0.02)));
  const logLow = minExponent;
  const logHigh = maxExponent === minExponent ? minExponent + 1 : maxExponent;
  const y = (ms: number): number => top + plotHeight - ((Math.log10(Math.max(ms, 10 ** logLow)) - logLow) / (logHigh - logLow)) * plotHeight;
  const maxRate = Math.max(1, ...steps.map((step) => step.askedRate));
  const x = (rate: number): number => left + (rate / maxRate) * plotWidth;
  const parts = svgOpening(width, height, title);
  for (let exponent = logLow; exponent <= logHigh; exponent += 1) {
    for (const mantissa of [1, 2, 5]) {
      const tick = mantissa * 10 ** exponent;
      if (tick < 10 ** logLow || tick > 10 ** logHigh) continue;
      parts.push(`<line x1="${left}" x2="${width - right}" y1="${y(tick).toFixed(1)}" y2="${y(tick).toFixed(1)}" stroke="#ddd"/>`);
      parts.push(`<text x="${left - 6}" y="${(y(tick) + 4).toFixed(1)}" text-anchor="end">${tick >= 1 ? tick.toFixed(0) : String(tick)}</text>`);
    }
  }
  for (const step of steps) {
    parts.push(`<line x1="${x(step.askedRate).toFixed(1)}" x2="${x(step.askedRate).toFixed(1)}" y1="${top}" y2="${top + plotHeight}" stroke="#f0f0f0"/>`);
    parts.push(`<text x="${x(step.askedRate).toFixed(1)}" y="${top + plotHeight + 16}" text-anchor="middle">${step.askedRate}</text>`);
  }
  parts.push(`<text x="${left + plotWidth / 2}" y="${top + plotHeight + 34}" text-anchor="middle">${rate} asked (open loop)</text>`);
  parts.push(`<text x="16" y="${top + plotHeight / 2}" text-anchor="middle" transform="rotate(-90 16 ${top + plotHeight / 2})">latency, ms (log)</text>`);
  parts.push(`<line x1="${left}" x2="${width - right}" y1="${y(goalMs).toFixed(1)}" y2="${y(goalMs).toFixed(1)}" stroke="#c0392b" stroke-dasharray="6 4"/>`);
  parts.push(`<text x="${width - right - 4}" y="${(y(goalMs) - 5).toFixed(1)}" text-anchor="end" fill="#c0392b">goal: p99 &lt; ${goalMs} ms</text>`);
  for (const series of SERIES) {
    const points = steps.map((step) => `${x(step.askedRate).toFixed(1)},${y(plotted(step, series.label)).toFixed(1)}`);
    parts.push(`<polyline points="${points.join(' ')}" fill="none" stroke="${series.colour}" stroke-width="2"/>`);
    for (const step of steps) {
      const measured = hasSamplesFor(series.label, step.latency.count);
      const value = `${measured ? '' : '≤ max '}${plotted(step, series.label).toFixed(2)} ms${measured ? '' : ` (n=${step.latency.count})`}`;
      parts.push(
        `<circle cx="${x(step.askedRate).toFixed(1)}" cy="${y(plotted(step, series.label)).toFixed(1)}" r="3" fill="${measured ? series.colour : 'white'}" stroke="${series.colour}"><title>${escapeXml(`${step.askedRate} ${rate} ${series.label} ${value}`)}</title></circle>`,
      );
    }
  }
  SERIES.forEach((series, index) => {
    const legendX = left + index * 90;
    parts.push(`<rect x="${legendX}" y="${height - 26}" width="12" height="12" fill="${series.colour}"/>`);
    parts.push(`<text x="${legendX + 16}" y="${height - 16}">${series.label}</text>`);
  });
  parts.push('</svg>', '');
  return parts.join('\n');
}

/** Prints the ladder's table and the highest rate within its goal, and writes its plot to `plotPath`. */
export function reportLadder(steps: readonly LadderStep[], kind: LadderKind, heading: string, plotPath: string, log: (line: string) => void): void {
  const best = highestRateWithin(steps, kind.p99GoalMs);
  const rate = rateLabel(kind.unit);
  const within = `highest rate with ${kind.latency} p99 < ${kind.p99GoalMs} ms`;
  log(`\n## ${heading}`);
  log(ladderTable(steps, kind.unit));
  log(
    `n: latencies measured; a percentile is printed when at least ${SAMPLES_BEYOND_A_PERCENTILE} of them lie beyond it (p99 from ${samplesNeededFor('p99')}, p999 from ${samplesNeededFor('p999')}), else ≤max: ` +
      `at most the max, and a step too small for a p99 meets the goal only when its max does`,
  );
  for (const step of steps) if (step.errorReasons) log(`errors at ${step.askedRate} ${rate}: ${step.errorReasons}`);
  log(best === undefined ? `${within}: none of the rates tried` : `${within} (of the rates tried, ${kind.unit === 'req' ? 'every request answered' : 'every event acknowledged, sent on time'}): ${best} ${rate}`);
  mkdirSync(dirname(plotPath), { recursive: true });
  writeFileSync(plotPath, renderLadderSvg(steps, kind, `${kind.latency} by rate — ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${new Date().toISOString().slice(0, 16)}Z`));
  log(`plot: ${plotPath}`);
}

/**
 * The steps of a ghz ladder run by `npm run bench:ghz -- --ladder …`: for each rate R, `R.ghz.json`
 * (ghz -O json) and `R.cpu.json` (CPU ms per request of each measured process), in rising order.
 */
export function readGhzLadder(directory: string): LadderStep[] {
  const rates = readdirSync(directory)
    .map((file) => /^(\d+)\.ghz\.json$/.exec(file)?.[1])
    .filter((rate): rate is string => rate !== undefined)
    .sort((a, b) => Number(a) - Number(b));
  if (rates.length === 0) throw new Error(`no <rate>.ghz.json in ${directory}`);
  return rates.map((rate) => {
    const report = JSON.parse(readFileSync(join(directory, `${rate}.ghz.json`), 'utf8')) as GhzReport;
    const cpu = JSON.parse(readFileSync(join(directory, `${rate}.cpu.json`), 'utf8')) as Record<string, number>;
    return stepFromGhzReport(report, cpu);
  });
}
