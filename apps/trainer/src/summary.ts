// The human-readable end of a training run: metrics side by side and the promotion decision.

import type { ModelMetrics, PromotionDecision } from '@orrery/models';

export interface SummaryInput {
  readonly version: string;
  readonly splitId: string;
  readonly k: number;
  readonly metrics: ModelMetrics;
  readonly championMetrics: { readonly version: string; readonly metrics: ModelMetrics } | undefined;
  readonly promotion: PromotionDecision | undefined;
}

function cell(value: number | undefined): string {
  return value === undefined ? '—' : value.toFixed(4);
}

/** Formats a fixed-width table: one row per metric, one column per model compared. */
export function formatSummary(input: SummaryInput): string {
  const { k, metrics } = input;
  const columns: Array<{ title: string; value: (name: string) => number | undefined }> = [
    { title: `candidate ${input.version}`, value: (name) => metrics[name] },
    { title: 'retrieval only', value: (name) => metrics[`retrieval.${name}`] },
    { title: 'popularity', value: (name) => metrics[`baseline.${name}`] },
  ];
  if (input.championMetrics) {
    const champion = input.championMetrics;
    columns.push({ title: `champion ${champion.version}`, value: (name) => champion.metrics[name] });
  }
  const names = [`ndcg@${k}`, `hitRate@${k}`, `recall@${k}`, `coverage@${k}`];
  const header = ['metric', ...columns.map((column) => column.title)];
  const body = names.map((name) => [name, ...columns.map((column) => cell(column.value(name)))]);
  const widths = header.map((title, i) => Math.max(title.length, ...body.map((row) => (row[i] as string).length)));
  const line = (cells: readonly string[]): string => cells.map((text, i) => text.padEnd(widths[i] as number)).join('  ');
  const promotion = input.promotion
    ? `${input.promotion.promoted ? 'PROMOTED' : 'not promoted'}: ${input.promotion.reason}`
    : 'promotion skipped';
  return [
    `split ${input.splitId}: ${metrics.evaluatedUsers ?? 0} users evaluated, ${metrics.trainEvents ?? 0} training events, ${metrics.items ?? 0} items`,
    line(header),
    line(widths.map((width) => '-'.repeat(width))),
    ...body.map(line),
    `ranker: ${metrics['ranker.rows'] ?? 0} rows from ${metrics['ranker.users'] ?? 0} users (${metrics['ranker.missedUsers'] ?? 0} users' next item not among candidates)`,
    `model ${input.version}: ${promotion}`,
  ].join('\n');
}
