// Reading a service's /metrics endpoint (Prometheus text exposition): the benchmarks and the e2e tests.

/** One sample: metric name, labels and value. */
export interface MetricSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Parses the exposition text into samples (comments skipped). */
export function parseExposition(text: string): MetricSample[] {
  const samples: MetricSample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[label[1]!] = label[2]!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** Sum of the samples named `name` whose labels include `labels`. */
export function sumOf(samples: readonly MetricSample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
    .reduce((sum, sample) => sum + sample.value, 0);
}

/** The samples of a /metrics URL. */
export async function scrape(url: string): Promise<MetricSample[]> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return parseExposition(await response.text());
}

/** A histogram's `_sum` and `_count` among `samples`, summed over its labels. */
export function histogramTotalsIn(samples: readonly MetricSample[], name: string): { sum: number; count: number } {
  return { sum: sumOf(samples, `${name}_sum`), count: sumOf(samples, `${name}_count`) };
}

/** A histogram's `_sum` and `_count` at a /metrics URL, summed over its labels; zeros when the URL cannot be read. */
export async function histogramTotals(url: string, name: string): Promise<{ sum: number; count: number }> {
  return histogramTotalsIn(await scrape(url).catch(() => []), name);
}
