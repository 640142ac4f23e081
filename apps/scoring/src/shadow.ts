// Shadow scoring: the newest challenger scores the same batches as the champion, off the answer
// (its scores are never returned); how differently it would rank is recorded as the Spearman rank
// correlation of the two score lists, per batch and as a running mean.
import type { ModelSummary } from '@orrery/models';

/** Spearman rank correlation of two equally long score lists (ties share their mean rank); undefined below 2 rows or for a constant list. */
export function spearmanRankCorrelation(a: ArrayLike<number>, b: ArrayLike<number>): number | undefined {
  if (a.length !== b.length) throw new RangeError(`score lists differ in length: ${a.length} and ${b.length}`);
  if (a.length < 2) return undefined;
  const ra = ranks(a);
  const rb = ranks(b);
  const mean = (a.length + 1) / 2;
  let covariance = 0;
  let varianceA = 0;
  let varianceB = 0;
  for (let i = 0; i < a.length; i++) {
    const da = ra[i]! - mean;
    const db = rb[i]! - mean;
    covariance += da * db;
    varianceA += da * da;
    varianceB += db * db;
  }
  if (varianceA === 0 || varianceB === 0) return undefined;
  return covariance / Math.sqrt(varianceA * varianceB);
}

/** 1-based ranks by ascending value, ties given the mean of their ranks. */
function ranks(values: ArrayLike<number>): Float64Array {
  const order = Array.from({ length: values.length }, (_, index) => index).sort((x, y) => values[x]! - values[y]!);
  const result = new Float64Array(values.length);
  for (let start = 0; start < order.length; ) {
    let end = start + 1;
    while (end < order.length && values[order[end]!] === values[order[start]!]) end++;
    const rank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) result[order[k]!] = rank;
    start = end;
  }
  return result;
}

/**
 * The version to shadow: the newest registered candidate (not champion, not retired) created after
 * the champion and trained on the champion's feature schema; undefined when there is none.
 */
export function pickChallenger(newestFirst: readonly ModelSummary[], champion: { readonly version: string; readonly featureSchema: string } | undefined): ModelSummary | undefined {
  if (!champion) return undefined;
  for (const summary of newestFirst) {
    if (summary.version === champion.version) return undefined;
    if (summary.status === 'candidate' && summary.featureSchema === champion.featureSchema) return summary;
  }
  return undefined;
}

/** Running figures of shadow scoring. */
export interface ShadowSummary {
  /** The challenger these figures are of ('' before it scored a batch). */
  readonly version: string;
  /** Batches it scored since it was loaded. */
  readonly batches: number;
  /** Mean rank correlation with the champion over those batches (undefined before the first). */
  readonly meanRankCorrelation: number | undefined;
}

/** Accumulates per-batch correlations of the current challenger; reset when another is loaded. */
export class ShadowStats {
  private version = '';
  private batches = 0;
  private correlated = 0;
  private sum = 0;

  /** Records one batch scored by `version` (a new version restarts the figures). */
  record(version: string, correlation: number | undefined): void {
    if (version !== this.version) {
      this.version = version;
      this.batches = 0;
      this.correlated = 0;
      this.sum = 0;
    }
    this.batches++;
    if (correlation !== undefined) {
      this.correlated++;
      this.sum += correlation;
    }
  }

  summary(): ShadowSummary {
    return { version: this.version, batches: this.batches, meanRankCorrelation: this.correlated === 0 ? undefined : this.sum / this.correlated };
  }
}
